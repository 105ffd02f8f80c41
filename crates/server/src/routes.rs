//! Every route of the server, in one table that builds the router and that the OpenAPI document
//! is checked against (`tests/it`: every route documented, every documented route served).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use crate::{api, auth, dashboard, guard, metrics, stress};

/// Who may call a route: declared once per route, here, and enforced by a layer the router puts
/// on every route that is not [`Access::Public`] (a handler never checks the token itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can reach the server (reads, liveness, the dashboard, stress scenarios).
    Public,
    /// Needs `Authorization: Bearer <RINGFENCE_API_TOKEN>`: the route changes state.
    Token,
}

/// One route: method, path (axum syntax, `{id}` for a parameter) and who may call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path.
    pub path: &'static str,
    /// Public, or behind the bearer token.
    pub access: Access,
}

const fn public(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        access: Access::Public,
    }
}

const fn token(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        access: Access::Token,
    }
}

/// Every route the server answers.
pub const ROUTES: &[Route] = &[
    public("GET", "/"),
    public("GET", "/assets/app.js"),
    public("GET", "/assets/app.css"),
    public("GET", "/healthz"),
    public("GET", "/readyz"),
    public("GET", "/metrics"),
    public("GET", "/api/openapi.json"),
    public("GET", "/api/spec"),
    public("GET", "/api/exposure"),
    public("GET", "/api/limits"),
    public("GET", "/api/lint"),
    public("GET", "/api/graph"),
    public("GET", "/api/policies"),
    token("POST", "/api/reload"),
    public("POST", "/api/stress"),
    public("GET", "/api/guard"),
    public("GET", "/api/trips"),
    public("GET", "/api/trips/{id}"),
    token("POST", "/api/trips/{id}/ack"),
    public("GET", "/api/events"),
];

fn handler(route: &Route) -> Option<MethodRouter<AppState>> {
    Some(match (route.method, route.path) {
        ("GET", "/" | "/assets/app.js" | "/assets/app.css") => get(dashboard::file),
        ("GET", "/healthz") => get(api::healthz),
        ("GET", "/readyz") => get(api::readyz),
        ("GET", "/metrics") => get(metrics::metrics),
        ("GET", "/api/openapi.json") => get(api::openapi),
        ("GET", "/api/spec") => get(api::spec),
        ("GET", "/api/exposure") => get(api::exposure),
        ("GET", "/api/limits") => get(api::limits),
        ("GET", "/api/lint") => get(api::lint),
        ("GET", "/api/graph") => get(api::graph),
        ("GET", "/api/policies") => get(api::policies),
        ("POST", "/api/reload") => post(api::reload),
        ("POST", "/api/stress") => post(stress::stress),
        ("GET", "/api/guard") => get(guard::guard),
        ("GET", "/api/trips") => get(guard::trips),
        ("GET", "/api/trips/{id}") => get(guard::trip),
        ("POST", "/api/trips/{id}/ack") => post(guard::ack),
        ("GET", "/api/events") => get(guard::events),
        _ => return None,
    })
}

/// Headers every response carries: no sniffing, no framing, only our own scripts and styles.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    resp
}

/// The router over `state`.
pub(crate) fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for route in ROUTES {
        let Some(mut h) = handler(route) else {
            tracing::error!(
                method = route.method,
                path = route.path,
                "route without a handler"
            );
            continue;
        };
        if route.access != Access::Public {
            h = h.route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::require_token,
            ));
        }
        let merged = match by_path.remove(route.path) {
            Some(m) => m.merge(h),
            None => h,
        };
        by_path.insert(route.path, merged);
    }
    let mut router = Router::new();
    for (path, m) in by_path {
        router = router.route(path, m);
    }
    router
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A route that takes a body or changes state (anything but GET) needs the token unless it
    /// is named here with the reason it may be public: a new POST route is closed by default.
    const PUBLIC_WRITES: &[(&str, &str)] = &[(
        "/api/stress",
        "runs a scenario on the loaded spec and changes no state",
    )];

    #[test]
    fn only_listed_non_get_routes_are_public() {
        for route in ROUTES.iter().filter(|r| r.method != "GET") {
            let listed = PUBLIC_WRITES.iter().any(|(p, _)| *p == route.path);
            assert_eq!(
                route.access == Access::Public,
                listed,
                "{} {}: a public write must be listed in PUBLIC_WRITES with its reason, and a listed one must be public",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn every_route_has_a_handler_and_appears_once() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert!(handler(route).is_some(), "{route:?}");
            assert!(
                !ROUTES[..i].contains(route),
                "{} {} twice",
                route.method,
                route.path
            );
        }
    }
}
