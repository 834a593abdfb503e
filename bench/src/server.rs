//! Servers under test, each on its own OS thread with a single-threaded runtime (the
//! core split), on a loopback port, served as `tmf688-server` serves (the runtime's
//! `serve`, with its timeouts and connection cap) — the hub and its baselines alike.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tmf688_runtime::ServeConfig;

/// A running server; dropped → shut down.
pub struct Running {
    /// Where it listens.
    pub address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the router `make` builds (inside the server thread's runtime).
pub fn start<F, Fut>(make: F) -> anyhow::Result<Running>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<Router>>,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("server".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready_tx.send(Err(anyhow::Error::from(error)));
                    return;
                }
            };
            runtime.block_on(async move {
                let started = async {
                    let router = make().await?;
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    anyhow::Ok((router, listener))
                };
                match started.await {
                    Ok((router, listener)) => {
                        let _ = ready_tx.send(listener.local_addr().map_err(Into::into));
                        let stop = async {
                            let _ = shutdown_rx.await;
                        };
                        tmf688_runtime::serve(listener, router, ServeConfig::default(), stop).await;
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            });
        })?;
    let address = ready_rx.recv()??;
    Ok(Running {
        address,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

/// The ingest baseline: parse the body into `serde_json::Value`, push it into a `Vec`
/// behind a mutex, answer 201 with the body.
pub fn bare_axum() -> Router {
    let stored: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    Router::new().route(
        "/topic/{id}/event",
        axum::routing::post(move |body: Bytes| {
            let stored = stored.clone();
            async move {
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(value) => {
                        stored.lock().unwrap_or_else(|p| p.into_inner()).push(value);
                        (StatusCode::CREATED, body).into_response()
                    }
                    Err(_) => StatusCode::BAD_REQUEST.into_response(),
                }
            }
        }),
    )
}
