//! Behaviour of `ringfence serve`: the API over the example ecosystem, its errors, the OpenAPI
//! document against the router, the guard's trips and events, and a real listening socket.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt as _;
use ringfence_exposure::{Closure, check_limits, exposure_report, lint};
use ringfence_guard::AlertRecord;
use ringfence_model::Model;
use ringfence_server::{Access, Config, ROUTES, Server, openapi_json};
use ringfence_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod bodies;
mod contract;

const TOKEN: &str = "test-token-7f3a";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    root().join("examples/ecosystem.toml")
}

fn server(token: Option<&str>) -> Server {
    Server::new(Config {
        spec: example(),
        guard: None,
        api_token: token.map(str::to_owned),
    })
    .expect("the example loads")
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request of a table: a name (or method), a method (or path), a path (or its template), the
/// bearer token and the body.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// A reload with a bearer token, sent to a server configured with no API token.
async fn reload_on_a_server_without_a_token() -> Reply {
    call(
        &server(None).router(),
        "POST",
        "/api/reload",
        Some(TOKEN),
        None,
    )
    .await
}

async fn get(app: &Router, path: &str) -> Reply {
    call(app, "GET", path, None, None).await
}

#[tokio::test]
async fn report_bodies_are_the_cli_json() {
    let app = server(None).router();
    let model = Model::load(&example()).expect("example");
    let closure = Closure::compute(&model);
    // Byte for byte what `ringfence … --format json` prints: pretty JSON and a newline.
    let pretty = |v: serde_json::Result<String>| v.expect("serialise") + "\n";
    let cases = [
        (
            "/api/exposure",
            pretty(serde_json::to_string_pretty(&exposure_report(
                &model, &closure, None,
            ))),
        ),
        (
            "/api/limits",
            pretty(serde_json::to_string_pretty(&check_limits(
                &model, &closure,
            ))),
        ),
        (
            "/api/lint",
            pretty(serde_json::to_string_pretty(&lint(&model))),
        ),
    ];
    for (path, want) in cases {
        let r = get(&app, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(
            r.headers[header::CONTENT_TYPE],
            "application/json",
            "{path}"
        );
        assert!(
            r.text == want,
            "{path}: the body differs from the CLI's JSON"
        );
    }
    let r = get(&app, "/api/exposure?holder=nope").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.error().contains("holder `nope` is not a protocol"),
        "{}",
        r.text
    );
    let r = get(&app, "/api/exposure?colour=red").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("unknown field `colour`"), "{}", r.text);
}

#[tokio::test]
async fn graph_and_policies_describe_the_example() {
    let app = server(None).router();
    let g = get(&app, "/api/graph").await.json();
    let usr = g["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "USR"))
        .cloned()
        .expect("USR in the graph");
    assert_eq!(usr["depends_on"]["resolv-service-role"], json!(1.0));
    assert!(g["components"].as_array().is_some_and(|c| c.len() > 50));
    // The picture is the one the HTML report draws, laid out once (issue 16).
    let model = Model::load(&example()).expect("example");
    let closure = Closure::compute(&model);
    let report = exposure_report(&model, &closure, None);
    let layout = ringfence_exposure::render::graph_layout(&model, &closure, &report);
    assert_eq!(g["layout"], serde_json::to_value(&layout).expect("JSON"));
    assert_eq!(g["layout"]["assets"].as_array().map(Vec::len), Some(20));
    let p = get(&app, "/api/policies").await.json();
    let policies = p["policies"].as_array().cloned().unwrap_or_default();
    assert_eq!(policies.len(), 4);
    assert!(policies.iter().any(|p| p["breached"] == json!(true)));
    for p in &policies {
        assert!(p["max_share"].as_f64().is_some_and(|m| m > 0.0 && m <= 1.0));
    }
}

#[tokio::test]
async fn health_metrics_and_security_headers() {
    let app = server(None).router();
    let r = get(&app, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .is_ok_and(|c| c.contains("default-src 'self'"))
    );
    let _ = get(&app, "/api/lint").await;
    let m = get(&app, "/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/plain"))
    );
    for needle in [
        "ringfence_http_requests_total{method=\"GET\",route=\"/api/lint\",status=\"200\"} 1",
        "ringfence_spec_generation 1",
        "ringfence_policy_breaches ",
        "ringfence_lint_findings{severity=\"critical\"}",
        "ringfence_component_value_at_risk_usd{component=\"resolv-service-role\",kind=\"key\"}",
    ] {
        assert!(m.text.contains(needle), "missing {needle}\n{}", m.text);
    }
    // Every sample line parses as `name{labels} value`.
    for line in m.text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap_or("");
        assert!(value.parse::<f64>().is_ok(), "bad sample: {line}");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = server(None).router();
    let r = get(&app, "/api/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error().contains("/api/openapi.json"), "{}", r.text);
}

/// Regression (issue 10 item 10): `GET /api/stress` answered an empty 405 instead of the JSON
/// error the README promises.
#[tokio::test]
async fn a_wrong_method_is_a_json_405_that_names_the_right_one() {
    let app = server(None).router();
    let r = get(&app, "/api/stress").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.headers
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap_or_default()),
        Some("POST")
    );
    assert!(
        r.error()
            .contains("GET is not served at /api/stress: use POST"),
        "{}",
        r.text
    );
    let r = call(&app, "POST", "/api/trips/abc", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.error().contains("use GET"), "{}", r.text);
}

#[tokio::test]
async fn openapi_documents_every_route_and_nothing_else() {
    let doc: Value = serde_json::from_str(openapi_json()).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    for r in ROUTES {
        let op = &paths
            .get(r.path)
            .unwrap_or_else(|| panic!("{} is not documented", r.path))[r.method.to_lowercase()];
        assert!(op.is_object(), "{} {} is not documented", r.method, r.path);
        assert_eq!(
            op.get("security").is_some(),
            r.access == Access::Token,
            "{} {}: security must be documented exactly on authorised routes",
            r.method,
            r.path
        );
        assert!(
            op["responses"].is_object(),
            "{} {} has no responses",
            r.method,
            r.path
        );
    }
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            assert!(
                ROUTES
                    .iter()
                    .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not served"
            );
        }
    }
    // Every documented $ref resolves.
    let text = openapi_json();
    for part in text.split("\"$ref\": \"#/").skip(1) {
        let target = part.split('"').next().unwrap_or("");
        let mut node = &doc;
        for seg in target.split('/') {
            node = &node[seg];
        }
        assert!(!node.is_null(), "dangling $ref #/{target}");
    }
    // And the router really answers every route in the table (not 404/405 from routing).
    let app = server(Some(TOKEN)).router();
    for r in ROUTES {
        if r.path == "/api/events" {
            continue; // a stream: checked in its own test
        }
        let path = r.path.replace("{id}", "x");
        let resp = call(&app, r.method, &path, Some(TOKEN), Some("{}")).await;
        assert_ne!(
            resp.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {}",
            r.method,
            r.path
        );
        if resp.status == StatusCode::NOT_FOUND {
            // Only a handler's own 404 (guard not running), never the fallback's.
            assert!(
                resp.error().contains("--guard"),
                "{} {}: {}",
                r.method,
                r.path,
                resp.text
            );
        }
    }
    let served = call(&app, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(served.json(), doc);
}

/// Issue 16: the token is checked by a layer the router puts on every route the table does not
/// declare public, not by each handler (a handler that forgot the call was open). Every such
/// route refuses a request without the token, or with another, before its handler runs.
#[tokio::test]
async fn every_route_not_declared_public_refuses_without_the_token() {
    let with = server(Some(TOKEN)).router();
    let without = server(None).router();
    let guarded: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.access != Access::Public)
        .collect();
    assert!(guarded.len() >= 2, "{guarded:?}");
    for r in guarded {
        let path = r.path.replace("{id}", "x");
        for (app, token, want) in [
            (&with, None, StatusCode::UNAUTHORIZED),
            (&with, Some("another"), StatusCode::UNAUTHORIZED),
            (&without, None, StatusCode::FORBIDDEN),
            (&without, Some(TOKEN), StatusCode::FORBIDDEN),
        ] {
            let resp = call(app, r.method, &path, token, Some("{}")).await;
            assert_eq!(
                resp.status, want,
                "{} {} {token:?}: {}",
                r.method, r.path, resp.text
            );
        }
        let resp = call(&with, r.method, &path, Some(TOKEN), None).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&resp.status),
            "{} {} refuses the right token: {}",
            r.method,
            r.path,
            resp.text
        );
    }
    // A public route never asks for it.
    for r in ROUTES.iter().filter(|r| r.access == Access::Public) {
        if r.path == "/api/events" {
            continue; // a stream: checked in its own test
        }
        let path = r.path.replace("{id}", "x");
        let resp = call(&without, r.method, &path, None, Some("{}")).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&resp.status),
            "{} {} is public but refused: {}",
            r.method,
            r.path,
            resp.text
        );
    }
}

#[tokio::test]
async fn reload_needs_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("eco.toml");
    std::fs::copy(example(), &spec).expect("copy");
    let mk = |token: Option<&str>| {
        Server::new(Config {
            spec: spec.clone(),
            guard: None,
            api_token: token.map(str::to_owned),
        })
        .expect("loads")
        .router()
    };
    // Without RINGFENCE_API_TOKEN on the server: refused, and the message says what to do.
    let r = call(&mk(None), "POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error().contains("set RINGFENCE_API_TOKEN"), "{}", r.text);
    let r = call(&mk(Some("")), "POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an empty token is no token"
    );

    let app = mk(Some(TOKEN));
    let r = call(&app, "POST", "/api/reload", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
    let r = call(&app, "POST", "/api/reload", Some("wrong"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&app, "POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["generation"], 2);

    // An invalid spec on disk is refused with every problem, and the old one stays served.
    std::fs::write(&spec, "[[chain]]\nid = \"eth\"\ncolour = 1\n").expect("write");
    let r = call(&app, "POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let problems = r.json()["problems"].as_array().cloned().unwrap_or_default();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("colour"))),
        "{}",
        r.text
    );
    let s = get(&app, "/api/spec").await.json();
    assert_eq!(s["generation"], 2);
    assert_eq!(s["counts"]["chains"], 9);
}

#[tokio::test]
async fn stress_runs_the_cli_scenario() {
    let app = server(None).router();
    let r = call(
        &app,
        "POST",
        "/api/stress",
        None,
        Some(r#"{"fail": ["resolv-service-role"]}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    assert_eq!(body["failed"], json!(["resolv-service-role"]));
    assert!(body["direct_loss_usd"].as_f64().is_some_and(|x| x > 0.0));
    assert!(body["rounds"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(body["clearing"], "en");

    // The same numbers as the library (and so as `ringfence stress --format json`).
    let model = Model::load(&example()).expect("example");
    let system = ringfence_stress::System::new(&model).expect("system");
    let failed = system
        .resolve(&["resolv-service-role".to_owned()])
        .expect("known");
    let outcome = system.run(&failed, &ringfence_stress::StressParams::default());
    assert_eq!(body["direct_loss_usd"], json!(outcome.direct_loss_usd));
    assert_eq!(
        body["secondary_damage_usd"],
        json!(outcome.secondary_damage_usd)
    );
    // The waterfall is the one the stress HTML report draws, laid out once (issue 16); the rest
    // of the body is the CLI's JSON, field for field.
    let waterfall = ringfence_stress::report::waterfall(&outcome);
    assert_eq!(
        body["waterfall"],
        serde_json::to_value(&waterfall).expect("JSON")
    );
    let mut cli = serde_json::to_value(
        system
            .report(
                &ringfence_stress::report::Scenario {
                    fail: vec!["resolv-service-role".to_owned()],
                    ..Default::default()
                },
                &|_| {},
            )
            .expect("runs"),
    )
    .expect("JSON");
    if let Some(m) = cli.as_object_mut() {
        m.insert("waterfall".into(), body["waterfall"].clone());
    }
    assert_eq!(body, cli);

    let r = call(
        &app,
        "POST",
        "/api/stress",
        None,
        Some(r#"{"fail": ["resolv-service-role"], "rank": true, "monte_carlo": 500, "seed": 7}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json()["ranking"]
            .as_array()
            .is_some_and(|x| !x.is_empty())
    );
    assert_eq!(r.json()["monte_carlo"]["draws"], 500);
}

#[tokio::test]
async fn stress_bad_bodies_are_400_and_say_why() {
    let app = server(None).router();
    let cases: [(&str, &str); 9] = [
        (
            r#"{"fail": ["nope", "resolv-service-role", "org:nobody"]}"#,
            "unknown components `nope`, `org:nobody`",
        ),
        ("", "empty body"),
        ("{", "invalid scenario"),
        ("[]", "invalid scenario"),
        (r#"{"fial": ["x"]}"#, "unknown field `fial`"),
        (r#"{"fail": "x"}"#, "expected a sequence"),
        (
            r#"{"monte_carlo": 100000000}"#,
            "`monte_carlo` must be between 1 and 100000",
        ),
        (
            r#"{"clearing": "rv", "alpha": 2}"#,
            "alpha must be in [0, 1]",
        ),
        (r#"{"alpha": 0.5}"#, "apply to `\"clearing\": \"rv\"` only"),
    ];
    for (body, want) in cases {
        let r = call(&app, "POST", "/api/stress", None, Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert!(r.error().contains(want), "{body}: {}", r.text);
    }
    let r = call(
        &app,
        "POST",
        "/api/stress",
        None,
        Some(r#"{"fail": ["nope"]}"#),
    )
    .await;
    assert_eq!(r.json()["unknown"], json!(["nope"]));
}

#[tokio::test]
async fn guard_routes_without_a_guard_say_how_to_start_one() {
    let app = server(Some(TOKEN)).router();
    assert_eq!(
        get(&app, "/api/guard").await.json(),
        json!({ "enabled": false })
    );
    for (method, path) in [
        ("GET", "/api/trips"),
        ("GET", "/api/trips/x"),
        ("POST", "/api/trips/x/ack"),
    ] {
        let r = call(&app, method, path, Some(TOKEN), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.error().contains("--guard CONFIG"), "{}", r.text);
    }
}

/// A guard config whose store is in `dir`.
fn guard_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("examples/guard/ringfence-guard.toml"))
        .expect("example guard config");
    let db = dir.join("guard.db");
    let text = text.replacen(
        "path = \"ringfence.db\"",
        &format!("path = {:?}", db.display().to_string()),
        1,
    );
    assert!(text.contains("guard.db"), "the example's store path moved");
    let path = dir.join("guard.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The pause transaction of the stored trips.
const PAUSE_TX: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

/// A server of the example with a guard (config and store in `dir`) whose store already holds
/// `alerts`, each new to it.
fn guarded_server(dir: &Path, alerts: &[AlertRecord], token: Option<&str>) -> Server {
    let config = guard_config(dir);
    {
        let store = Store::open(&dir.join("guard.db")).expect("store");
        for a in alerts {
            assert!(store.insert_alert(a).expect("insert"), "{} is new", a.id);
        }
    }
    Server::new(Config {
        spec: example(),
        guard: Some(config),
        api_token: token.map(str::to_owned),
    })
    .expect("loads")
}

/// `n` findings `a0`, `a1`, …: trips at even indexes and alerts at odd ones, at blocks 10, 11, …,
/// each with a mined pause.
fn alternating_alerts(n: u64) -> Vec<AlertRecord> {
    (0..n)
        .map(|i| {
            let sev = if i % 2 == 0 { "trip" } else { "alert" };
            alert(&format!("a{i}"), sev, 10 + i, Some(PAUSE_TX))
        })
        .collect()
}

/// Two trips of block 10 sharing one pause: `second` names `lead` as the trip that sent it.
fn shared_pause(lead: &str, second: &str) -> [AlertRecord; 2] {
    let mut shared = alert(second, "trip", 10, Some(PAUSE_TX));
    shared.actions[0].shared_with = Some(lead.into());
    [alert(lead, "trip", 10, Some(PAUSE_TX)), shared]
}

fn alert(id: &str, severity: &str, block: u64, pause_tx: Option<&str>) -> AlertRecord {
    serde_json::from_value(json!({
        "id": id,
        "rule": "usdx-mint-rate",
        "kind": "mint-rate",
        "severity": severity,
        "reason": "window-exceeded",
        "chain": "dst",
        "block": block,
        "timestamp": 1_700_000_000u64 + block,
        "tx": "0x1111111111111111111111111111111111111111111111111111111111111111",
        "log_index": 0,
        "evidence": { "minted": "80000000", "limit": "1000000", "window_s": 3600 },
        "actions": pause_tx.map_or_else(Vec::new, |tx| vec![json!({ "id": "pause-usdx", "kind": "pause", "status": "mined", "tx": tx })]),
        "retracted": false,
    }))
    .expect("alert record")
}

// Kept long: one store and one event stream followed through paging, acks and the stream's events in order; split, the stream would miss the events it checks.
#[tokio::test]
async fn trips_are_paged_acked_and_streamed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = guarded_server(dir.path(), &alternating_alerts(5), Some(TOKEN));
    let app = server.router();

    let g = get(&app, "/api/guard").await.json();
    assert_eq!(g["enabled"], true);
    assert_eq!(g["watcher"]["state"], "idle");
    assert_eq!(g["chains"][0]["id"], "src");
    assert_eq!(g["chains"][0]["endpoint"], "http://127.0.0.1:8545");
    assert_eq!(
        g["counts"],
        json!({ "trips": 3, "alerts": 2, "unacked_trips": 3 })
    );

    // Trips only by default, newest first; paged.
    let p = get(&app, "/api/trips?per_page=2").await.json();
    assert_eq!(p["total"], 3);
    assert_eq!(p["pages"], 2);
    let ids: Vec<&str> = p["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["a4", "a2"]);
    assert_eq!(p["items"][0]["pause"][0]["tx"], PAUSE_TX);
    assert_eq!(p["items"][0]["evidence"]["minted"], "80000000");
    let p = get(&app, "/api/trips?severity=all&page=2&per_page=2")
        .await
        .json();
    let ids: Vec<&str> = p["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["a2", "a1"]);
    for bad in [
        "page=0",
        "per_page=0",
        "per_page=1000",
        "severity=bad",
        "page=x",
    ] {
        let r = get(&app, &format!("/api/trips?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    assert_eq!(get(&app, "/api/trips/a0").await.json()["id"], "a0");
    assert_eq!(
        get(&app, "/api/trips/zz").await.status,
        StatusCode::NOT_FOUND
    );

    // Open the event stream, then acknowledge: the ack is streamed.
    let resp = app
        .clone()
        .oneshot(
            Request::get("/api/events")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut stream = resp.into_body().into_data_stream();
    let mut next = async || -> String {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("an event within 5 s")
            .expect("open")
            .expect("data");
        String::from_utf8_lossy(&chunk).into_owned()
    };
    assert!(next().await.starts_with("event: ready"));

    assert_eq!(
        call(&app, "POST", "/api/trips/a0/ack", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "POST", "/api/trips/a0/ack", Some("nope"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = call(
        &app,
        "POST",
        "/api/trips/a0/ack",
        Some(TOKEN),
        Some(r#"{"note": 1}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains("invalid type"), "{}", r.text);
    let r = call(&app, "POST", "/api/trips/zz/ack", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(
        &app,
        "POST",
        "/api/trips/a0/ack",
        Some(TOKEN),
        Some(r#"{"note": "paused, investigating"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["new"], true);
    let ev = next().await;
    assert!(
        ev.starts_with("event: ack") && ev.contains("\"a0\""),
        "{ev}"
    );
    let r = call(&app, "POST", "/api/trips/a0/ack", Some(TOKEN), None).await;
    assert_eq!(r.json()["new"], false);
    assert_eq!(r.json()["acked"]["note"], "paused, investigating");
    assert_eq!(
        get(&app, "/api/trips/a0").await.json()["acked"]["note"],
        "paused, investigating"
    );
    assert_eq!(
        get(&app, "/api/guard").await.json()["counts"]["unacked_trips"],
        2
    );

    // A trip from the watcher reaches the stream.
    server.publish_alert(alert("live1", "trip", 99, Some(PAUSE_TX)));
    let ev = next().await;
    assert!(
        ev.starts_with("event: alert") && ev.contains("live1") && ev.contains(PAUSE_TX),
        "{ev}"
    );
    let m = get(&app, "/metrics").await.text;
    assert!(m.contains("ringfence_guard_trips_streamed_total 1"), "{m}");
    assert!(m.contains("ringfence_sse_clients 1"), "{m}");
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server(None).serve(listener, async {
        let _ = stopped.await;
    }));
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    sock.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut out = String::new();
    sock.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"status\":\"ok\""), "{out}");
    // An open event stream must not hold the shutdown up.
    let mut events = tokio::net::TcpStream::connect(addr).await.expect("connect");
    events
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 512];
    let n = events.read(&mut buf).await.expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("text/event-stream"));
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("stops")
        .expect("joins")
        .expect("served");
}

/// Issue 10 item 2: `serve --guard` without the guardian key ran with a dead watcher while
/// `/healthz` said `ok`. Health now says `degraded` with the reason, readiness answers 503.
#[tokio::test]
async fn regression_a_guard_that_cannot_start_is_degraded_and_not_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = guard_config(dir.path());
    let absent = "RINGFENCE_TEST_ABSENT_GUARDIAN_KEY_4E1";
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("RINGFENCE_GUARDIAN_KEY", absent);
    std::fs::write(&config, text).expect("write");
    assert!(std::env::var_os(absent).is_none());
    let server = Server::new(Config {
        spec: example(),
        guard: Some(config),
        api_token: None,
    })
    .expect("loads");
    let app = server.router();
    // Before the watcher starts: not ready.
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = stopped.await;
    }));
    let start = std::time::Instant::now();
    let health = loop {
        let h = get(&app, "/healthz").await.json();
        if h["guard"]["state"] == "failed" {
            break h;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the watcher never failed: {h}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(health["status"], "degraded", "{health}");
    let reason = health["reasons"][0].as_str().expect("a reason");
    assert!(
        reason.contains(absent) && reason.contains("is not set"),
        "{reason}"
    );
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["ready"], false);
    assert!(r.text.contains(absent), "{}", r.text);
    let _ = stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
}

#[tokio::test]
async fn without_a_guard_the_server_is_ready() {
    let app = server(None).router();
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({ "ready": true, "reasons": [] }));
}

/// Issue 10 item 3: two trips of one block sharing a pause — both list the sent transaction.
#[tokio::test]
async fn regression_a_shared_pause_shows_its_hash_on_both_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = guarded_server(dir.path(), &shared_pause("lead", "second"), None).router();
    let p = get(&app, "/api/trips").await.json();
    let items = p["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for t in items {
        assert_eq!(t["pause"][0]["tx"], PAUSE_TX, "{t}");
        assert_eq!(t["pause"][0]["status"], "mined", "{t}");
    }
    assert_eq!(items[0]["pause"][0]["shared_with"], "lead");
    assert_eq!(
        get(&app, "/api/trips/second").await.json()["actions"][0]["tx"],
        PAUSE_TX
    );
}

/// Issue 12: a chain the watcher halted on (its endpoints disagree, or a finding rests on what
/// one of them contradicted) makes `/healthz` `degraded` with the reason and `/readyz` 503;
/// once it acts on the chain again the reason is gone.
#[tokio::test]
async fn a_halted_chain_is_degraded_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = guarded_server(dir.path(), &[], None);
    let app = server.router();
    let health = server.guard_health().expect("a guard is configured");
    let halted = |h: &Value| {
        h["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(Value::as_str)
            .filter(|r| r.contains("halted on chain `dst`"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(halted(&get(&app, "/healthz").await.json()).is_empty());
    health.halt(
        "dst",
        "block 7: the endpoints disagree and no quorum agrees",
    );
    let h = get(&app, "/healthz").await.json();
    assert_eq!(h["status"], "degraded", "{h}");
    let reasons = halted(&h);
    assert_eq!(reasons.len(), 1, "{h}");
    assert!(reasons[0].contains("no quorum agrees"), "{h}");
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(r.text.contains("halted on chain `dst`"), "{}", r.text);
    health.resume("dst");
    assert!(halted(&get(&app, "/healthz").await.json()).is_empty());
}
