//! The console's static files, compiled into the binary: htmx (vendored from the npm
//! package `htmx.org`, 0BSD — see `assets/README.md`), its licence, and the style sheet.

use axum::extract::Path;
use axum::response::{IntoResponse as _, Response};
use http::{HeaderValue, header};
use tmf688_api::support::ApiError;

/// htmx 2.0.11, `dist/htmx.min.js`, unmodified.
const HTMX: &[u8] = include_bytes!("assets/htmx.min.js");
/// htmx's licence (Zero-Clause BSD), served beside it.
const HTMX_LICENSE: &[u8] = include_bytes!("assets/htmx.LICENSE");
const CSS: &[u8] = include_bytes!("assets/console.css");

/// `GET /console/assets/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "htmx.LICENSE" => (HTMX_LICENSE, "text/plain; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        _ => {
            return ApiError::not_found(format!(
                "the console has no asset {}",
                crate::limits::shown(&name)
            ))
            .into_response();
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Cached briefly: a new binary may bring new files under the same names.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}
