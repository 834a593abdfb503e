//! Hostile peers (issue 11): the end-to-end latency of a healthy hub while 1,000 hubs
//! of the same hub server have callbacks that accept connections and never answer
//! ("blackholes"), against the same measurement without them in the same run. The
//! in-flight budget's per-host share is what keeps the healthy hub's p99 down: the dead
//! callback server holds at most `max_in_flight_per_host` of the places, each until its
//! attempt times out.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{Outcome, Settings};
use crate::harness::{latency_with, register_callbacks, start_hub};

const BLACKHOLES: usize = 1_000;
const TARGET_MS: f64 = 50.0;

/// A callback server that accepts connections and never reads or answers; it holds
/// every socket until dropped.
struct Blackhole {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Blackhole {
    fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("blackhole".into())
            .spawn(move || {
                let mut held = Vec::new();
                for socket in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(socket) = socket {
                        held.push(socket);
                    }
                }
            })?;
        Ok(Self {
            address,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then ends and drops what it held.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Registers `count` hubs on `hub` whose callbacks are the blackhole.
fn register_blackholes(hub: SocketAddr, blackhole: SocketAddr, count: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(register_callbacks(
        &reqwest::Client::new(),
        hub,
        (0..count).map(|n| format!("http://{blackhole}/dead/{n}")),
    ))
}

/// p99 of one healthy hub beside 1,000 blackhole hubs; baseline: the same without them.
pub fn blackholes(settings: &Settings) -> anyhow::Result<Outcome> {
    let baseline = latency_with(settings, "baseline", TARGET_MS, start_hub()?, 1)?;
    let blackhole = Blackhole::start()?;
    let hub = start_hub()?;
    register_blackholes(hub.address, blackhole.address, BLACKHOLES)?;
    let with = latency_with(settings, "blackholes", TARGET_MS, hub, 1)?;
    drop(blackhole);
    let p99 = with.value;
    Ok(Outcome {
        scenario: "hostile/1,000 blackhole hubs".into(),
        metric: "healthy hub p99 ms, POST → sink".into(),
        value: p99,
        baseline: Some(baseline.value),
        baseline_name: "the same healthy hub without the blackholes (p99 ms)".into(),
        // Latency: lower is better, so the ratio is baseline / value (1 = no effect).
        ratio: crate::common::ratio(baseline.value, p99),
        target: format!("p99 < {TARGET_MS} ms"),
        met: Some(p99 < TARGET_MS),
        notes: format!("with: {}; without: {}", with.notes, baseline.notes),
    })
}
