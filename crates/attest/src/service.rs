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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::{Signed, attestation};
    use crate::store::Record;
    use alloy::primitives::{Address, Bytes, U256};
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn call(app: axum::Router, path: &str) -> (StatusCode, serde_json::Value) {
        let r = app
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn serves_what_was_signed_and_nothing_else() {
        let store = Store::memory().expect("store");
        let id = B256::repeat_byte(4);
        let a = attestation(
            B256::repeat_byte(1),
            1,
            B256::repeat_byte(2),
            3,
            id,
            B256::repeat_byte(5),
            U256::MAX,
            Address::repeat_byte(6),
        );
        let signed = Signed {
            signer: Address::repeat_byte(7),
            signature: Bytes::from(vec![9u8; 65]),
        };
        store
            .insert(&Record {
                route: "lab".into(),
                attestation: a,
                signed,
                block: 12,
                timestamp: 100,
            })
            .expect("insert");
        let app = router(store);
        let (s, v) = call(app.clone(), &format!("/attestations/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["route"], "lab");
        assert_eq!(
            v["attestation"]["amount"],
            serde_json::to_value(U256::MAX).expect("json")
        );
        assert_eq!(
            v["signatures"][0]["signer"],
            Address::repeat_byte(7).to_string()
        );
        let (s, _) = call(app.clone(), &format!("/attestations/{}", B256::ZERO)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, v) = call(app, "/attestations/0x12").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            v["error"]
                .as_str()
                .is_some_and(|e| e.contains("64 hex digits"))
        );
    }
}
