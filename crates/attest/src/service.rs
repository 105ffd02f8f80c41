//! The attestor's HTTP service: `GET /attestations/{message_id}` returns what it signed.

use alloy::primitives::B256;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::Store;

/// The router: `GET /attestations/{message_id}` (0x-prefixed 32-byte hex) → 200 with
/// `{"message_id", "route", "attestation", "signatures": [{"signer", "signature"}]}`, 404 when
/// this attestor has not attested the message, 400 for a malformed id. Internal errors are
/// logged and answered with a bare 500.
pub fn router(store: Store) -> axum::Router {
    axum::Router::new()
        .route("/attestations/{message_id}", axum::routing::get(get))
        .route("/health", axum::routing::get(|| async { "ok" }))
        .with_state(store)
}

async fn get(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let Ok(message_id) = id.parse::<B256>() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "message id must be 0x followed by 64 hex digits"})),
        )
            .into_response();
    };
    match store.get(message_id) {
        Ok(Some(r)) => Json(json!({
            "message_id": message_id,
            "route": r.route,
            "attestation": r.attestation,
            "signatures": [r.signed],
            "block": r.block,
        }))
        .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not attested by this attestor"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "attestation store");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
