//! A connection's own deadlines: the request head must arrive within the header read
//! timeout, and a connection waiting for its next request (or for its client to read an
//! answer) is closed after the idle timeout.
//!
//! hyper's `header_read_timeout` cannot do both: its clock starts when the connection
//! starts waiting for a head, so an idle keep-alive connection would be cut at the
//! header timeout too. Here the service tells [`Activity`] when a request starts and
//! when its answer is ready, [`TimedIo`] notices the first byte of the next request,
//! and the deadline of the current phase is enforced whenever hyper waits on the
//! socket: the wait ends in a `TimedOut` error, and hyper closes the connection.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The two connection-level timeouts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub(super) header: Duration,
    pub(super) idle: Duration,
}

/// Reading a request head: from the accept, or from the first byte after an answer.
const READING_HEAD: u64 = 0;
/// A request is with the service (its body has its own deadline).
const BUSY: u64 = 1;
/// The answer is ready: it is being written, or the connection waits for the next
/// request.
const ANSWERED: u64 = 2;
const PHASE_BITS: u32 = 2;
const PHASE_MASK: u64 = (1 << PHASE_BITS) - 1;

/// What a connection is doing, shared by its socket ([`TimedIo`]) and its service: the
/// phase in the low bits, the milliseconds from the accept to the phase's start above.
#[derive(Debug)]
pub(super) struct Activity {
    accepted: Instant,
    state: AtomicU64,
}

impl Activity {
    /// A connection accepted now: reading its first head.
    pub(super) fn new() -> Self {
        Self {
            accepted: Instant::now(),
            state: AtomicU64::new(READING_HEAD),
        }
    }

    /// The service has a request.
    pub(super) fn busy(&self) {
        self.state.store(BUSY, Ordering::Relaxed);
    }

    /// The service's answer is ready.
    pub(super) fn answered(&self) {
        self.enter(ANSWERED);
    }

    fn enter(&self, phase: u64) {
        let since = u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        let since = since.min(u64::MAX >> PHASE_BITS);
        self.state
            .store((since << PHASE_BITS) | phase, Ordering::Relaxed);
    }

    /// Bytes came in: after an answer, they start the next head.
    fn bytes_arrived(&self) {
        if self.state.load(Ordering::Relaxed) & PHASE_MASK == ANSWERED {
            self.enter(READING_HEAD);
        }
    }

    /// When the current phase ends the connection, and why; `None` while busy.
    fn deadline(&self, timeouts: Timeouts) -> Option<(Instant, &'static str)> {
        let state = self.state.load(Ordering::Relaxed);
        let start = self.accepted + Duration::from_millis(state >> PHASE_BITS);
        match state & PHASE_MASK {
            READING_HEAD => Some((
                start + timeouts.header,
                "no complete request head within the header read timeout",
            )),
            ANSWERED => Some((
                start + timeouts.idle,
                "idle (no new request, or an answer not read) for the idle timeout",
            )),
            _ => None,
        }
    }
}

/// A socket whose waits end at the deadline of its connection's phase.
#[derive(Debug)]
pub(super) struct TimedIo<T> {
    inner: T,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    timer: Pin<Box<Sleep>>,
    armed: Instant,
}

impl<T> TimedIo<T> {
    pub(super) fn new(inner: T, activity: Arc<Activity>, timeouts: Timeouts) -> Self {
        let armed = activity.accepted + timeouts.header;
        Self {
            inner,
            activity,
            timeouts,
            timer: Box::pin(tokio::time::sleep_until(armed)),
            armed,
        }
    }

    /// Called when the socket would block: ready with an error once the phase's
    /// deadline has passed (the task is woken then).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some((deadline, why)) = self.activity.deadline(self.timeouts) else {
            return Poll::Pending;
        };
        if deadline != self.armed {
            self.timer.as_mut().reset(deadline);
            self.armed = deadline;
        }
        ready!(self.timer.as_mut().poll(cx));
        tracing::debug!("closing a connection: {why}");
        Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, why))
    }

    /// After a write that went through: keeps the timer armed for the phase, so that
    /// the task is woken at its deadline. (An answer is written right after the service
    /// marks it ready; hyper may not touch the socket's read side again until data
    /// comes, so the idle deadline must be armed here.) A deadline already passed is
    /// reported by the next wait.
    fn keep_armed<R>(&mut self, cx: &mut Context<'_>, written: R) -> Poll<R> {
        let _ = self.poll_deadline(cx);
        Poll::Ready(written)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.bytes_arrived();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            Poll::Ready(written) => this.keep_armed(cx, written),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            Poll::Ready(written) => this.keep_armed(cx, written),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
