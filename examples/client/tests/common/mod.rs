//! What several test files need: our hub with a delivery engine on a loopback port.

use std::process::Command;
use std::sync::Arc;

use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::{AppConfig, Hub688, HubConfig, MemoryStore, app_with};

/// A memory-store hub with a delivery engine, served on `127.0.0.1:<any port>`: its
/// `http://` URL, the server task (abort it) and the engine (shut it down).
#[allow(dead_code)] // not every test binary uses every helper
pub async fn serve_with_delivery() -> (
    String,
    tokio::task::JoinHandle<()>,
    DeliveryEngine<MemoryStore>,
) {
    let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default())
        .await
        .unwrap();
    let engine = DeliveryEngine::start(&hub, DeliveryConfig::default())
        .await
        .unwrap();
    let app = app_with(Arc::new(hub), &AppConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task, engine)
}

/// `tmf688-client --url <url> <args>`, without the caller's `TMF688_*` settings.
pub fn client_command(url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tmf688-client"));
    command
        .arg("--url")
        .arg(url)
        .args(args)
        .env_remove("TMF688_URL")
        .env_remove("TMF688_TOKEN");
    command
}
