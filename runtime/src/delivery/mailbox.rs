//! A worker's mailbox: the operator's requests ([`Control`]: resume, replay, stop) to
//! one hub's worker, in order, with the semantics of an unbounded single-consumer
//! channel (a send fails once the worker is gone; the worker reads `None` once the
//! sender is dropped).
//!
//! Why not `tokio::sync::mpsc`: its channel allocates a 32-slot block and cache-padded
//! state up front, about 1 KB per hub; a mailbox holds nothing until something is sent
//! (an idle hub costs its share of the bench's `memory per idle hub` row: ≤ 4 KiB).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::store::Seq;
use crate::sync::lock;

/// What an operator asks of a hub's worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Control {
    /// Leave the halted (or retrying) state and deliver now.
    Resume,
    /// Move the cursor to this value (re-send what follows) and deliver.
    Replay(Seq),
    /// Stop now (the hub removed, its lease lost, the engine shutting down).
    Stop,
}

#[derive(Debug, Default)]
struct Inner {
    pending: Mutex<VecDeque<Control>>,
    /// The worker's wake-up (one consumer: `notify_one` keeps a permit when it is not
    /// waiting, so no request is missed between its check and its wait).
    ready: Notify,
    sender_gone: AtomicBool,
    receiver_gone: AtomicBool,
}

/// The supervisor's end (in the worker's handle).
#[derive(Debug)]
pub(super) struct Sender(Arc<Inner>);

/// The worker's end.
#[derive(Debug)]
pub(super) struct Receiver(Arc<Inner>);

/// A connected pair.
pub(super) fn mailbox() -> (Sender, Receiver) {
    let inner = Arc::new(Inner::default());
    (Sender(inner.clone()), Receiver(inner))
}

impl Sender {
    /// Queues `control`; `Err` with it back when the worker has ended.
    pub(super) fn send(&self, control: Control) -> Result<(), Control> {
        if self.0.receiver_gone.load(Ordering::Acquire) {
            return Err(control);
        }
        lock(&self.0.pending).push_back(control);
        self.0.ready.notify_one();
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.sender_gone.store(true, Ordering::Release);
        self.0.ready.notify_one();
    }
}

impl Receiver {
    /// The next request, in sending order; `None` once the sender is dropped and
    /// everything sent was read. Cancel-safe (nothing is taken before it returns).
    pub(super) async fn recv(&mut self) -> Option<Control> {
        loop {
            if let Some(control) = lock(&self.0.pending).pop_front() {
                return Some(control);
            }
            if self.0.sender_gone.load(Ordering::Acquire) {
                return None;
            }
            self.0.ready.notified().await;
        }
    }
}

impl Receiver {
    /// The next request if one is waiting, without waiting (a worker checks between
    /// two deliveries of a backlog: an operator's replay applies before the next event,
    /// not once the backlog is delivered).
    pub(super) fn try_recv(&mut self) -> Option<Control> {
        lock(&self.0.pending).pop_front()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.0.receiver_gone.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn requests_arrive_in_order_and_a_dropped_end_is_seen() {
        let (sender, mut receiver) = mailbox();
        sender.send(Control::Resume).unwrap();
        sender.send(Control::Replay(7)).unwrap();
        assert_eq!(receiver.recv().await, Some(Control::Resume));
        assert_eq!(receiver.try_recv(), Some(Control::Replay(7)));
        assert_eq!(receiver.try_recv(), None, "nothing waiting");
        // A waiting worker is woken by a send, then by the sender's drop.
        let waiting = tokio::spawn(async move {
            let first = receiver.recv().await;
            let second = receiver.recv().await;
            (first, second)
        });
        tokio::task::yield_now().await;
        sender.send(Control::Stop).unwrap();
        drop(sender);
        let (first, second) = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the worker is woken")
            .unwrap();
        assert_eq!((first, second), (Some(Control::Stop), None));

        let (sender, receiver) = mailbox();
        drop(receiver);
        assert_eq!(sender.send(Control::Resume), Err(Control::Resume));
    }
}
