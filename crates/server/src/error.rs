//! The crate's errors: [`Error`] for starting the server, [`ApiError`] for answering a request.
//!
//! Every [`ApiError`] becomes a JSON body `{"error": "...", "status": N, ...}` that says what is
//! wrong and what to do. Internal failures are logged in full and answered with a generic 500
//! that names no path, query or library.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ringfence_model::Diagnostics;
use ringfence_stress::RequestError;

use crate::body::{self, ErrorBody};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ecosystem spec is invalid (every problem, located).
    #[error("{0}")]
    Spec(#[from] Diagnostics),
    /// The guard config is invalid or unreadable.
    #[error("guard config: {0}")]
    Guard(#[from] ringfence_guard::Error),
    /// The guard's store cannot be opened.
    #[error("guard store: {0}")]
    Store(#[from] ringfence_store::Error),
    /// Binding or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request failed; each variant maps to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (400); the message says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// The stress scenario is refused (400): a range, a combination, or component ids the spec
    /// does not have (every one named, in `unknown`).
    #[error("{0}")]
    Stress(#[from] ringfence_stress::RequestError),
    /// No usable `Authorization: Bearer` header (401).
    #[error(
        "this route changes state: send `Authorization: Bearer <token>` with the server's RINGFENCE_API_TOKEN"
    )]
    MissingToken,
    /// A bearer token that is not the server's (401).
    #[error("the bearer token is not the one this server was started with (RINGFENCE_API_TOKEN)")]
    WrongToken,
    /// The server has no token, so nothing may change state (403).
    #[error(
        "state-changing routes are disabled: set RINGFENCE_API_TOKEN in the server's environment and restart it"
    )]
    TokenNotConfigured,
    /// Nothing at this id (404).
    #[error("{0}")]
    NotFound(String),
    /// The path exists, but not for this method (405): the answer names the methods it takes.
    #[error("{method} is not served at {path}: use {}", .allowed.join(" or "))]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path asked for.
        path: String,
        /// The methods the path takes.
        allowed: Vec<&'static str>,
    },
    /// A guard route on a server started without `--guard` (404).
    #[error("the live guard is not running: start `ringfence serve` with `--guard CONFIG`")]
    NoGuard,
    /// The spec on disk no longer validates; the previous one is still served (422).
    #[error("the spec on disk is invalid ({} problem{}); still serving the previous one", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    InvalidSpec(Diagnostics),
    /// The spec cannot be stress-tested (422).
    #[error("the spec cannot be stress-tested: {0}")]
    Unprocessable(String),
    /// Something failed inside the server (500). The detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Stress(_) => StatusCode::BAD_REQUEST,
            Self::MissingToken | Self::WrongToken => StatusCode::UNAUTHORIZED,
            Self::TokenNotConfigured => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoGuard => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidSpec(_) | Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal failure, logged with its cause.
    pub(crate) fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "{what}");
        Self::Internal(format!("{what}: {e}"))
    }
}

impl From<ringfence_store::Error> for ApiError {
    fn from(e: ringfence_store::Error) -> Self {
        Self::internal("store", e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: self.to_string(),
            status: status.as_u16(),
            unknown: match &self {
                Self::Stress(RequestError::UnknownComponents { ids, .. }) => Some(ids.clone()),
                _ => None,
            },
            problems: match &self {
                Self::InvalidSpec(d) => Some(d.iter().map(ToString::to_string).collect()),
                _ => None,
            },
        };
        let body = body::sorted(&body).unwrap_or_default();
        let allow = match &self {
            Self::MethodNotAllowed { allowed, .. } => {
                HeaderValue::from_str(&allowed.join(", ")).ok()
            }
            _ => None,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(allow) = allow {
            resp.headers_mut().insert(header::ALLOW, allow);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ringfence\""),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(ids: &[&str]) -> RequestError {
        RequestError::UnknownComponents {
            ids: ids.iter().map(|&s| s.to_owned()).collect(),
            suggestions: vec![None; ids.len()],
        }
    }

    #[test]
    fn statuses_follow_the_contract() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Stress(unknown(&["a"])), 400),
            (ApiError::MissingToken, 401),
            (ApiError::WrongToken, 401),
            (ApiError::TokenNotConfigured, 403),
            (ApiError::NoGuard, 404),
            (ApiError::InvalidSpec(Diagnostics::default()), 422),
            (ApiError::Internal("secret path /etc".into()), 500),
        ];
        for (e, code) in cases {
            assert_eq!(e.status().as_u16(), code, "{e:?}");
        }
    }

    #[test]
    fn unknown_components_are_named() {
        let e = ApiError::Stress(unknown(&["nope", "org:x"]));
        assert!(
            e.to_string()
                .starts_with("unknown components `nope`, `org:x`")
        );
    }

    #[test]
    fn internal_errors_do_not_leak() {
        assert_eq!(
            ApiError::Internal("/secret/path".into()).to_string(),
            "internal error"
        );
    }
}
