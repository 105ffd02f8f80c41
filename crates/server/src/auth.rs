//! Bearer-token authorisation of the routes that change state: a layer the router puts on every
//! route the route table does not declare public.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

/// The layer: checks `Authorization: Bearer <token>` against the server's token before the
/// handler runs. Without a configured token nothing may change state (403); a missing or
/// malformed header, or another token, is 401.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check(state.0.token.as_deref(), req.headers())?;
    Ok(next.run(req).await)
}

fn check(expected: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Err(ApiError::TokenNotConfigured);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::MissingToken)?;
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::WrongToken)
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(v: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = v {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn table_of_authorisation_outcomes() {
        type Case = (Option<&'static str>, Option<&'static str>, Result<(), u16>);
        let cases: [Case; 8] = [
            (None, Some("Bearer s3cret"), Err(403)),
            (None, None, Err(403)),
            (Some("s3cret"), None, Err(401)),
            (Some("s3cret"), Some("Bearer"), Err(401)),
            (Some("s3cret"), Some("Basic czNjcmV0"), Err(401)),
            (Some("s3cret"), Some("Bearer s3cre"), Err(401)),
            (Some("s3cret"), Some("Bearer s3cret"), Ok(())),
            (Some("s3cret"), Some("bearer  s3cret "), Ok(())),
        ];
        for (expected, header, want) in cases {
            let got = check(expected, &headers(header)).map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "token {expected:?}, header {header:?}");
        }
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
