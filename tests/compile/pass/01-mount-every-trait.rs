//! An implementation of every generated trait mounts under both base paths.
use std::sync::Arc;

use tmf688_api::{profile, server};
use tmf688_tests::Unimplemented;

fn main() {
    let api = Arc::new(Unimplemented);
    let mut app = axum::Router::new();
    for base in profile::BASE_PATHS {
        app = app.nest(base.path, server::router(api.clone()));
    }
    let _app: axum::Router = app.nest("/listener", server::listener_router(api));
}
