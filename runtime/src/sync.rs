//! Locking shared by every layer: a poisoned `std::sync::Mutex` is still used. A panic
//! while a guard was held cannot leave our maps half-updated in a way that matters more
//! than stopping the whole hub would (each critical section is a plain insert, remove
//! or read), so the lock is taken over rather than propagating the panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, taking it over if a panicking thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
