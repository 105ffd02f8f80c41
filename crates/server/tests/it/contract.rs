//! The generated OpenAPI document against real answers: every body the server sends, on every
//! route and documented status, validates against the schema the document gives for it, field by
//! field (an undocumented field fails, as does a missing required one or a wrong type). The
//! schemas of the bodies other crates own (exposure, limits, lint, stress, the guard's alert
//! record) are declared beside the document; this is what keeps them true.

use super::*;

/// What is wrong with `v` against `schema` (a subset of JSON Schema: what utoipa emits).
fn check(doc: &Value, schema: &Value, v: &Value, at: &str, strict: bool, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let mut node = doc;
        for seg in r.trim_start_matches("#/").split('/') {
            node = &node[seg];
        }
        assert!(!node.is_null(), "dangling $ref {r}");
        return check(doc, node, v, at, strict, errs);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for p in parts {
            check(doc, p, v, at, false, errs);
        }
        if let Some(obj) = v.as_object() {
            let allowed: Vec<String> = parts.iter().flat_map(|p| keys(doc, p)).collect();
            for k in obj.keys().filter(|k| !allowed.contains(k)) {
                errs.push(format!("{at}.{k}: not in the document"));
            }
        }
        return;
    }
    for alt in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(alt).and_then(Value::as_array) {
            let fits = branches.iter().any(|b| {
                let mut e = Vec::new();
                check(doc, b, v, at, strict, &mut e);
                e.is_empty()
            });
            if !fits {
                errs.push(format!("{at}: fits none of the {alt} branches: {v}"));
            }
            return;
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !fits {
            errs.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {e:?}"));
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check(doc, items, x, &format!("{at}[{i}]"), true, errs);
        }
    }
    let Some(obj) = v.as_object() else { return };
    let props = schema.get("properties").and_then(Value::as_object);
    for r in schema["required"].as_array().into_iter().flatten() {
        if let Some(r) = r.as_str()
            && !obj.contains_key(r)
        {
            errs.push(format!("{at}.{r}: required, missing"));
        }
    }
    let extra = schema.get("additionalProperties");
    for (k, x) in obj {
        match (props.and_then(|p| p.get(k)), extra) {
            (Some(s), _) => check(doc, s, x, &format!("{at}.{k}"), true, errs),
            (None, Some(s)) if s.is_object() => {
                check(doc, s, x, &format!("{at}.{k}"), true, errs);
            }
            (None, _) if strict && props.is_some() => {
                errs.push(format!("{at}.{k}: not in the document"));
            }
            _ => {}
        }
    }
}

/// The property names a schema (or its `$ref`, or the parts of its `allOf`) declares.
fn keys(doc: &Value, schema: &Value) -> Vec<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let mut node = doc;
        for seg in r.trim_start_matches("#/").split('/') {
            node = &node[seg];
        }
        return keys(doc, node);
    }
    let mut out: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for alt in ["allOf", "oneOf", "anyOf"] {
        for p in schema[alt].as_array().into_iter().flatten() {
            out.extend(keys(doc, p));
        }
    }
    out
}

/// A request without a token or a body, of a path that is its own template.
const fn route(method: &'static str, path: &'static str) -> Case {
    templated(method, path, path)
}

/// A request without a token or a body, of `path` on the route `template`.
const fn templated(method: &'static str, path: &'static str, template: &'static str) -> Case {
    (method, path, template, None, None)
}

/// Calls each `(method, path, template, token, body)` and checks the answer against the
/// document's `template` route.
async fn conforms_all(doc: &Value, app: &Router, cases: &[Case]) {
    for &(method, path, template, token, body) in cases {
        let r = call(app, method, path, token, body).await;
        conforms(doc, method, template, &r);
    }
}

fn doc() -> Value {
    serde_json::from_str(openapi_json()).expect("the document is JSON")
}

/// Checks one answer against what the document says of `method path` at its status.
fn conforms(doc: &Value, method: &str, template: &str, r: &Reply) {
    let status = r.status.as_u16().to_string();
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not documented");
    let resp = &op["responses"][&status];
    assert!(
        resp.is_object(),
        "{method} {template} answered {status}, which the document does not list: {}",
        r.text
    );
    let Some(schema) = resp["content"]["application/json"].get("schema") else {
        panic!("{method} {template} {status}: no JSON schema");
    };
    let mut errs = Vec::new();
    check(doc, schema, &r.json(), "$", true, &mut errs);
    assert!(
        errs.is_empty(),
        "{method} {template} {status} differs from the document:\n{}",
        errs.join("\n")
    );
}

#[tokio::test]
async fn every_answer_without_a_guard_is_what_the_document_says() {
    let doc = doc();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("eco.toml");
    std::fs::copy(example(), &spec).expect("copy");
    let app = Server::new(Config {
        spec: spec.clone(),
        guard: None,
        api_token: Some(TOKEN.into()),
    })
    .expect("loads")
    .router();
    let full = r#"{"fail": ["resolv-service-role"], "clearing": "rv", "alpha": 0.5, "beta": 0.9,
        "rank": true, "reverse": 1e9, "include_chains": true, "monte_carlo": 200, "seed": 3,
        "debtrank": true}"#;
    let cases: [Case; 16] = [
        route("GET", "/healthz"),
        route("GET", "/readyz"),
        route("GET", "/api/spec"),
        route("GET", "/api/exposure"),
        templated("GET", "/api/exposure?holder=fluid", "/api/exposure"),
        templated("GET", "/api/exposure?holder=nope", "/api/exposure"),
        route("GET", "/api/limits"),
        route("GET", "/api/lint"),
        route("GET", "/api/graph"),
        route("GET", "/api/policies"),
        route("GET", "/api/guard"),
        ("POST", "/api/stress", "/api/stress", None, Some(full)),
        (
            "POST",
            "/api/stress",
            "/api/stress",
            None,
            Some(r#"{"fail": ["nope"]}"#),
        ),
        route("POST", "/api/reload"),
        ("POST", "/api/reload", "/api/reload", Some("another"), None),
        ("POST", "/api/reload", "/api/reload", Some(TOKEN), None),
    ];
    conforms_all(&doc, &app, &cases).await;
    std::fs::write(&spec, "[[chain]]\nid = \"eth\"\ncolour = 1\n").expect("write");
    let r = call(&app, "POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    conforms(&doc, "POST", "/api/reload", &r);
    let r = reload_on_a_server_without_a_token().await;
    conforms(&doc, "POST", "/api/reload", &r);
}

#[tokio::test]
async fn every_answer_of_the_guard_is_what_the_document_says() {
    let doc = doc();
    let dir = tempfile::tempdir().expect("tempdir");
    let [a0, a1] = shared_pause("a0", "a1");
    let server = guarded_server(
        dir.path(),
        &[a0, a1, alert("a2", "alert", 11, None)],
        Some(TOKEN),
    );
    let health = server.guard_health().expect("a guard");
    health.halt("dst", "the endpoints disagree");
    let app = server.router();
    let cases: [Case; 11] = [
        route("GET", "/healthz"),
        route("GET", "/readyz"),
        route("GET", "/api/guard"),
        templated("GET", "/api/trips?severity=all", "/api/trips"),
        templated("GET", "/api/trips?per_page=0", "/api/trips"),
        templated("GET", "/api/trips/a1", "/api/trips/{id}"),
        templated("GET", "/api/trips/zz", "/api/trips/{id}"),
        templated("POST", "/api/trips/a0/ack", "/api/trips/{id}/ack"),
        (
            "POST",
            "/api/trips/a0/ack",
            "/api/trips/{id}/ack",
            Some(TOKEN),
            Some(r#"{"note": "seen"}"#),
        ),
        (
            "POST",
            "/api/trips/a0/ack",
            "/api/trips/{id}/ack",
            Some(TOKEN),
            Some("{\"x\": 1}"),
        ),
        templated("GET", "/api/trips/a0", "/api/trips/{id}"),
    ];
    conforms_all(&doc, &app, &cases).await;
}

/// The request bodies the document describes are exactly the fields the server accepts: serde
/// names them when it refuses an unknown one.
#[tokio::test]
async fn request_bodies_document_exactly_the_accepted_fields() {
    let doc = doc();
    let accepted = |error: &str| -> Vec<String> {
        let list = error.split("expected ").nth(1).unwrap_or_default();
        let mut out: Vec<String> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        out.sort();
        out
    };
    let documented = |name: &str| -> Vec<String> {
        let mut k = keys(&doc, &doc["components"]["schemas"][name]);
        k.sort();
        k
    };
    let app = server(Some(TOKEN)).router();
    let r = call(&app, "POST", "/api/stress", None, Some(r#"{"zz": 1}"#)).await;
    assert_eq!(
        accepted(&r.error()),
        documented("StressRequest"),
        "{}",
        r.text
    );
    let sr = &doc["components"]["schemas"]["StressRequest"];
    assert_eq!(sr["additionalProperties"], false);
    // The bounds the document states are the ones the shared validation applies.
    use ringfence_stress::request::{MAX_API_DRAWS, MAX_API_FAILED};
    assert_eq!(
        sr["properties"]["monte_carlo"]["maximum"],
        json!(MAX_API_DRAWS)
    );
    assert_eq!(sr["properties"]["fail"]["maxItems"], json!(MAX_API_FAILED));

    let dir = tempfile::tempdir().expect("tempdir");
    let app = guarded_server(dir.path(), &[], Some(TOKEN)).router();
    let r = call(
        &app,
        "POST",
        "/api/trips/x/ack",
        Some(TOKEN),
        Some(r#"{"zz": 1}"#),
    )
    .await;
    assert_eq!(accepted(&r.error()), documented("AckRequest"), "{}", r.text);
}

/// The validator itself: it refuses what it must.
#[test]
fn the_validator_refuses_undocumented_missing_and_mistyped_fields() {
    let doc = json!({ "components": { "schemas": { "A": {
        "type": "object", "required": ["n"],
        "properties": { "n": { "type": "integer" }, "s": { "type": ["string", "null"] } }
    } } } });
    let a = json!({ "$ref": "#/components/schemas/A" });
    let errs = |v: Value| {
        let mut e = Vec::new();
        check(&doc, &a, &v, "$", true, &mut e);
        e
    };
    assert!(errs(json!({ "n": 1, "s": null })).is_empty());
    assert!(errs(json!({ "n": 1, "s": "x" })).is_empty());
    assert_eq!(
        errs(json!({ "n": 1, "t": 2 })),
        ["$.t: not in the document"]
    );
    assert_eq!(errs(json!({ "s": "x" })), ["$.n: required, missing"]);
    assert_eq!(errs(json!({ "n": "1" })).len(), 1);
    let both = json!({ "allOf": [a, { "type": "object", "properties": { "m": {} } }] });
    let mut e = Vec::new();
    check(
        &doc,
        &both,
        &json!({ "n": 1, "m": 2, "o": 3 }),
        "$",
        true,
        &mut e,
    );
    assert_eq!(e, ["$.o: not in the document"]);
}
