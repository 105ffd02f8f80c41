//! The dashboard: one HTML page, its stylesheet and its script, compiled into the binary. No
//! build step, no CDN: the page works offline.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
#[utoipa::path(
    get,
    path = "/",
    summary = "The dashboard (HTML; its script and stylesheet are compiled into the binary).",
    responses((status = 200, description = "HTML page.", content_type = "text/html", body = String))
)]
pub(crate) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/app.js`.
#[utoipa::path(
    get,
    path = "/assets/app.js",
    summary = "The dashboard's script.",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript", body = String))
)]
pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /assets/app.css`.
#[utoipa::path(
    get,
    path = "/assets/app.css",
    summary = "The dashboard's stylesheet.",
    responses((status = 200, description = "CSS.", content_type = "text/css", body = String))
)]
pub(crate) async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}
