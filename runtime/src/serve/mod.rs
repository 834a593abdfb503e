//! Serving a [`Router`] over TCP with the limits of a server that hostile peers share
//! (what `axum::serve` leaves out): a header read timeout, a body read timeout, an
//! idle keep-alive timeout, a cap on concurrent connections, and limits on the request
//! target and header fields, each refusal a TMF `Error`. HTTP/1.1; graceful shutdown.
//!
//! * **Header read timeout** ([`ServeConfig::header_read_timeout`]): from the accept,
//!   or from the first byte of a further request on a kept-alive connection, until the
//!   request head is complete. Then the connection is closed without an answer (there
//!   is no request to answer yet).
//! * **Body read timeout** ([`ServeConfig::body_read_timeout`]): from the end of the
//!   head until the body is complete, for handlers that read it. Then `408` with a TMF
//!   `Error` and `Connection: close`.
//! * **Idle timeout** ([`ServeConfig::idle_timeout`]): from an answer being ready until
//!   the next request starts; it also bounds how long a client may take to read an
//!   answer. Then the connection is closed.
//! * **Connection cap** ([`ServeConfig::max_connections`]): at the cap, [`serve`] stops
//!   accepting until a connection closes; newcomers wait in the kernel's listen backlog
//!   (128 for tokio's `TcpListener::bind`, as for the standard library's), and past it
//!   the kernel drops their SYNs, which clients retry after a second and longer. Not
//!   accepting costs no file descriptor and no work per refused peer, where accepting
//!   and closing at once would spend both under a flood; the timeouts above free slots
//!   within seconds. Reaching the cap is logged (a warning at most once a minute).
//! * **Per-peer cap** ([`ServeConfig::max_connections_per_ip`]): connections from one
//!   IPv4 address (one IPv6 /64, which a single host commonly holds whole) at once;
//!   beyond it a new connection from there is closed as soon as it is accepted (its
//!   address is only known then), so one peer cannot hold every slot of the global cap
//!   and starve the others. Logged at most once a minute.
//! * **Head limits** ([`ServeConfig::max_uri_bytes`], [`ServeConfig::max_header_bytes`],
//!   at most [`MAX_HEADER_FIELDS`] fields): `414`/`431` with a TMF `Error`; see
//!   `request.rs` for what hyper answers itself beyond about twice these limits.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tmf688_runtime::{Hub688, HubConfig, MemoryStore, ServeConfig, app, serve};
//!
//! let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let stop = async { tokio::signal::ctrl_c().await.ok(); };
//! serve(listener, app(Arc::new(hub)), ServeConfig::default(), stop).await;
//! # Ok(()) }
//! ```

mod io;
mod request;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

pub use request::MAX_HEADER_FIELDS;

use self::io::{Activity, TimedIo, Timeouts};
use self::request::Limits;

/// The limits of [`serve`]. The defaults suit a hub on the open network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// How long a request head (request line and header fields) may take, from the
    /// accept or from the first byte of a further request. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long a request body may take after its head (then 408). Default 30 s.
    pub body_read_timeout: Duration,
    /// How long a connection may wait for its next request after an answer, or take to
    /// read an answer. Default 60 s.
    pub idle_timeout: Duration,
    /// Connections served at once (at least 1). Default 10,000; `tmf688-server` lowers
    /// it to what its open-file limit allows.
    pub max_connections: usize,
    /// Connections served at once for one peer address (IPv4 address, IPv6 /64);
    /// `None`: a quarter of `max_connections` (at least 1). Behind a proxy that connects
    /// for every client, set it to `max_connections`.
    pub max_connections_per_ip: Option<usize>,
    /// The longest request target (path and query) accepted (longer: 414). Default
    /// 8 KiB.
    pub max_uri_bytes: usize,
    /// The most header field bytes (names and values, together) accepted (more: 431).
    /// Default 16 KiB.
    pub max_header_bytes: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_connections_per_ip: None,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// How often reaching the connection cap is logged at most.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(60);
/// The pause after an accept error that is not about one peer (e.g. out of file
/// descriptors), so that a persistent error does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` within `config` until `shutdown` resolves, then stops
/// accepting, lets every connection finish its request in progress (idle ones close at
/// once) and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) {
    let max = config
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let permits = Arc::new(Semaphore::new(max));
    let per_peer = config
        .max_connections_per_ip
        .unwrap_or(max / 4)
        .clamp(1, max);
    let peers = Peers::default();
    let mut peer_warned: Option<Instant> = None;
    let connections = Connections::new(router, &config);
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut cap_warned: Option<Instant> = None;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if cap_warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_INTERVAL) {
                    tracing::warn!(
                        max_connections = max,
                        "connection cap reached: new connections wait until one closes"
                    );
                    cap_warned = Some(Instant::now());
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => {
                        permit.expect("the semaphore is never closed")
                    }
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_peer_error(&error) {
                        tracing::error!(%error, "accepting a connection failed");
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = peers.enter(peer.ip(), per_peer) else {
            if peer_warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_INTERVAL) {
                tracing::warn!(
                    %peer,
                    max_connections_per_ip = per_peer,
                    "per-peer connection cap reached: further connections from this peer are closed"
                );
                peer_warned = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        tokio::spawn(connections.serve(stream, peer, (permit, slot), stopping.clone()));
    }
    drop(listener);
    drop(stop);
    // Every connection holds a permit until it is closed.
    let _all_closed = permits.acquire_many(max as u32).await;
}

/// The open connections per peer key ([`peer_key`]).
#[derive(Clone, Debug, Default)]
struct Peers(Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>);

/// A connection's place among its peer's; given back when dropped.
#[derive(Debug)]
struct PeerSlot {
    peers: Peers,
    key: IpAddr,
}

impl Peers {
    /// A place for one more connection from `ip`, unless it has `max` already.
    fn enter(&self, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let key = peer_key(ip);
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            peers: self.clone(),
            key,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self
            .peers
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Whom a connection counts against: its IPv4 address (also when IPv4-mapped), or the
/// /64 of its IPv6 address (a host is commonly given a whole /64, so counting single
/// IPv6 addresses would let it open any number of connections).
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// An accept error about one peer (it went away before the accept): the next accept
/// may succeed at once.
fn is_peer_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionRefused
    )
}

/// What every connection is served with.
#[derive(Clone, Debug)]
struct Connections {
    router: Router,
    http: http1::Builder,
    timeouts: Timeouts,
    limits: Limits,
}

impl Connections {
    fn new(router: Router, config: &ServeConfig) -> Self {
        let mut http = http1::Builder::new();
        // No hyper timer: hyper's header read timeout would also cut idle keep-alive
        // connections at the same moment; `TimedIo` keeps the two apart.
        http.header_read_timeout(None)
            .max_buf_size(request::parser_buffer(
                config.max_uri_bytes,
                config.max_header_bytes,
            ))
            .max_headers(request::PARSER_HEADER_FIELDS);
        Self {
            router,
            http,
            timeouts: Timeouts {
                header: config.header_read_timeout,
                idle: config.idle_timeout,
            },
            limits: Limits {
                max_uri_bytes: config.max_uri_bytes,
                max_header_bytes: config.max_header_bytes,
                body_read_timeout: config.body_read_timeout,
            },
        }
    }

    /// Serves one connection until it closes; on `stopping`, it finishes the request
    /// in progress and closes.
    fn serve(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        permit: (OwnedSemaphorePermit, PeerSlot),
        mut stopping: watch::Receiver<()>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(TimedIo::new(stream, activity.clone(), self.timeouts));
        let (router, limits, http) = (self.router.clone(), self.limits, self.http.clone());
        let service = hyper::service::service_fn(move |request| {
            activity.busy();
            let answer = request::answer(router.clone(), limits, request);
            let activity = activity.clone();
            async move {
                let response = answer.await;
                activity.answered();
                Ok::<_, Infallible>(response)
            }
        });
        async move {
            let mut connection = pin!(http.serve_connection(io, service));
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                // hyper's own text says little ("connection error"); its source says why.
                let why = std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), ToString::to_string);
                tracing::debug!(%peer, error = why, "connection closed");
            }
            // The peer's place first: once the global permit is back, the accept loop
            // may take a connection from this peer at once, and must find its place
            // free (else it would close a connection the caps allow).
            let (permit, slot) = permit;
            drop(slot);
            drop(permit);
        }
    }
}
