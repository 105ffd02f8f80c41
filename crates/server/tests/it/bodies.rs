//! Every body the server shapes itself, pinned byte for byte (status, content type and text), so
//! that typing the responses changed no byte a client reads. Times that move (load time,
//! acknowledgement time) are masked.

use super::*;

/// Replaces the digits after each time key with `T`.
fn mask_times(text: &str) -> String {
    let mut out = text.to_owned();
    for key in ["\"loaded_at\":", "\"at\":", "\"since\":"] {
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(key) {
            let (head, tail) = rest.split_at(i + key.len());
            res.push_str(head);
            let spaces = tail.len() - tail.trim_start_matches(' ').len();
            res.push_str(&tail[..spaces]);
            let tail = &tail[spaces..];
            let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                res.push('T');
            }
            rest = &tail[digits..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}

fn shown(r: &Reply) -> String {
    let ct = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let mut extra = String::new();
    for h in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(v) = r.headers.get(&h).and_then(|v| v.to_str().ok()) {
            extra.push_str(&format!("{h}: {v}\n"));
        }
    }
    format!(
        "{}\ncontent-type: {ct}\n{extra}\n{}",
        r.status.as_u16(),
        mask_times(&r.text)
    )
}

/// Calls each `(name, method, path, token, body)` and pins its body under `name`.
async fn snapshot_all(app: &Router, cases: &[Case]) {
    for &(name, method, path, token, body) in cases {
        let r = call(app, method, path, token, body).await;
        insta::assert_snapshot!(name, shown(&r));
    }
}

#[test]
fn times_are_masked() {
    assert_eq!(
        mask_times(r#"{"loaded_at": 17, "at":5,"since": 1, "atx": 3}"#),
        r#"{"loaded_at": T, "at":T,"since": T, "atx": 3}"#
    );
}

#[tokio::test]
async fn bodies_without_a_guard_are_unchanged() {
    let app = server(Some(TOKEN)).router();
    let cases: [Case; 14] = [
        ("healthz", "GET", "/healthz", None, None),
        ("readyz", "GET", "/readyz", None, None),
        ("spec", "GET", "/api/spec", None, None),
        ("graph", "GET", "/api/graph", None, None),
        ("policies", "GET", "/api/policies", None, None),
        ("guard_off", "GET", "/api/guard", None, None),
        ("trips_off", "GET", "/api/trips", None, None),
        ("not_found", "GET", "/api/nope", None, None),
        ("wrong_method", "GET", "/api/stress", None, None),
        ("reload_no_token", "POST", "/api/reload", None, None),
        (
            "reload_wrong_token",
            "POST",
            "/api/reload",
            Some("nope"),
            None,
        ),
        ("reload", "POST", "/api/reload", Some(TOKEN), None),
        (
            "stress_unknown",
            "POST",
            "/api/stress",
            None,
            Some(r#"{"fail": ["nope", "resolv-servce-role"]}"#),
        ),
        ("stress_empty", "POST", "/api/stress", None, Some("")),
    ];
    snapshot_all(&app, &cases).await;
    let r = reload_on_a_server_without_a_token().await;
    insta::assert_snapshot!("reload_no_server_token", shown(&r));
}

#[tokio::test]
async fn bodies_with_a_guard_are_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = guarded_server(dir.path(), &alternating_alerts(3), Some(TOKEN)).router();
    let cases: [Case; 9] = [
        ("g_healthz", "GET", "/healthz", None, None),
        ("g_readyz", "GET", "/readyz", None, None),
        ("g_guard", "GET", "/api/guard", None, None),
        (
            "g_trips",
            "GET",
            "/api/trips?severity=all&per_page=2",
            None,
            None,
        ),
        ("g_trip", "GET", "/api/trips/a0", None, None),
        ("g_trip_unknown", "GET", "/api/trips/zz", None, None),
        (
            "g_ack",
            "POST",
            "/api/trips/a0/ack",
            Some(TOKEN),
            Some(r#"{"note": "seen"}"#),
        ),
        (
            "g_ack_again",
            "POST",
            "/api/trips/a0/ack",
            Some(TOKEN),
            None,
        ),
        ("g_trip_acked", "GET", "/api/trips/a0", None, None),
    ];
    snapshot_all(&app, &cases).await;
}
