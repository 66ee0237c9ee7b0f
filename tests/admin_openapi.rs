//! `GET /_sqreen/openapi.json` over real HTTP: the document is OpenAPI 3.1, every operation it
//! lists is served with exactly the methods it lists (the unit test in `src/admin/openapi.rs`
//! holds it to the router's table the other way), and the real answers of every endpoint, good
//! and bad, validate against the schemas it gives for their path, method and status.

mod common;

#[path = "support/json_schema.rs"]
mod json_schema;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use common::{client, serve_router};
use serde_json::{json, Value};
use sqreen::{identify, track, Agent, AgentBuilder, UserKeys};

const TOKEN: &str = "openapi-test-token-0123456789";
const SQLI: &str = "1'%20OR%20'1'%3D'1";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn app() -> Router {
    Router::new()
        .route("/search", get(|| async { "results" }))
        .route(
            "/invite",
            post(|headers: HeaderMap| async move {
                let user = headers["x-user"].to_str().unwrap().to_owned();
                let _ = identify(UserKeys::new().with("email", &user));
                track("user.invited", json!({ "plan": "free" }));
                "invited"
            }),
        )
}

async fn setup(configure: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String) {
    let agent = configure(Agent::builder().admin_token(TOKEN))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    (agent, base)
}

#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = client().request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    Answer {
        status: res.status().as_u16(),
        content_type: res
            .headers()
            .get("content-type")
            .map_or("", |v| v.to_str().unwrap())
            .to_owned(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

async fn admin(base: &str, method: &str, path: &str, body: Option<&str>) -> Answer {
    call(base, method, path, Some(TOKEN), body).await
}

async fn document(base: &str) -> Value {
    let a = admin(base, "GET", "/_sqreen/openapi.json", None).await;
    assert_eq!(
        (a.status, a.content_type.as_str()),
        (200, "application/json")
    );
    serde_json::from_str(&a.body).expect("the document is JSON")
}

/// Follows a `$ref` (local) until the object it names.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        v = doc
            .pointer(r.strip_prefix('#').unwrap())
            .unwrap_or_else(|| panic!("unresolved {r}"));
    }
    v
}

/// Checks `answer` against `response` (an OpenAPI response object): its content type is the one
/// documented, its JSON body validates against the schema, its documented headers are present.
fn check_response(doc: &Value, response: &Value, answer: &Answer, what: &str) {
    let response = resolve(doc, response);
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let value = answer
            .headers
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_str()
            .unwrap();
        if let Some(schema) = header.get("schema") {
            json_schema::validate(doc, schema, &json!(value))
                .unwrap_or_else(|e| panic!("{what}: header {name}: {e}"));
        }
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            answer.body.is_empty(),
            "{what}: undocumented body {}",
            answer.body
        );
        return;
    };
    let media = content.get(&answer.content_type).unwrap_or_else(|| {
        panic!(
            "{what}: content type {} not documented",
            answer.content_type
        )
    });
    if answer.content_type == "application/json" {
        let body: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", answer.body));
        json_schema::validate(doc, &media["schema"], &body)
            .unwrap_or_else(|e| panic!("{what}: {e}\nbody: {body}"));
    }
}

/// Checks `answer` against what the document says `method` on `template` answers with its status.
fn expect(doc: &Value, template: &str, method: &str, answer: &Answer, status: u16) {
    let what = format!("{method} {template} {status}");
    assert_eq!(answer.status, status, "{what}: {}", answer.body);
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{what}: operation not documented");
    let response = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{what}: status not documented"));
    check_response(doc, response, answer, &what);
}

/// Checks an answer that no operation owns (404, 405) against `components.responses[name]`.
fn expect_component(doc: &Value, name: &str, answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{name}: {}", answer.body);
    check_response(doc, &doc["components"]["responses"][name], answer, name);
}

fn documented(doc: &Value) -> Vec<(String, BTreeSet<String>)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .map(|m| m.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_exactly_the_served_methods() {
    let (_agent, base) = setup(|b| b).await;
    // behind the same token as every admin endpoint
    let a = call(&base, "GET", "/_sqreen/openapi.json", None, None).await;
    assert_eq!(a.status, 401);
    let doc = document(&base).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["adminToken"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{ "adminToken": [] }]));
    let paths = documented(&doc);
    assert_eq!(paths.len(), 8, "{paths:?}");
    for (path, methods) in &paths {
        let concrete = path.replace("{id}", "424242");
        for method in METHODS {
            let a = admin(&base, method, &concrete, Some("{}")).await;
            if methods.contains(method) {
                // served: neither "no such endpoint" nor "not this method"
                assert!(
                    a.status != 404 || a.body.contains("no action"),
                    "{method} {path}: {}",
                    a.body
                );
                assert_ne!(a.status, 405, "{method} {path}: {}", a.body);
            } else {
                // a documented path, another method: the 405's Allow lists the documented methods
                assert_eq!(a.status, 405, "{method} {path}: {}", a.body);
                let allow: BTreeSet<String> = a.headers["allow"]
                    .to_str()
                    .unwrap()
                    .split(", ")
                    .map(str::to_owned)
                    .collect();
                assert_eq!(&allow, methods, "{path}");
            }
        }
    }
}

#[tokio::test]
async fn another_admin_path_moves_the_documented_paths() {
    let (_agent, base) = setup(|b| b.admin_path("/ops/security")).await;
    let a = admin(&base, "GET", "/ops/security/openapi.json", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let doc: Value = serde_json::from_str(&a.body).unwrap();
    let paths: Vec<String> = documented(&doc).into_iter().map(|(p, _)| p).collect();
    assert!(
        paths.contains(&"/ops/security/actions/{id}".to_owned()),
        "{paths:?}"
    );
    assert!(
        paths.iter().all(|p| p.starts_with("/ops/security/")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn real_answers_validate_against_the_documented_schemas() {
    let (_agent, base) = setup(|b| b).await;
    let doc = document(&base).await;
    let p = |sub: &str| format!("/_sqreen/{sub}");

    // events: a user event and an attack, so both have something to show
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let res = client()
            .post(format!("{base}/invite"))
            .header("x-user", "alice@example.com")
            .header("x-forwarded-for", ip)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    let _ = client()
        .get(format!("{base}/search?q={SQLI}"))
        .header("x-forwarded-for", "192.0.2.9")
        .send()
        .await
        .unwrap();
    let mut held = 0;
    for _ in 0..300 {
        let a = admin(&base, "GET", &p("events"), None).await;
        held = serde_json::from_str::<Value>(&a.body).unwrap()["held"]
            .as_u64()
            .unwrap();
        if held >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(held >= 3, "{held} events held");

    let t = "/_sqreen/events";
    for query in [
        "",
        "?view=summary",
        "?view=full&limit=2",
        "?name=app.sqreen.attack.*&actor=192.0.2.0/24&since=2020-01-01T00:00:00Z",
        "?actor=alice%40example.com&view=summary",
    ] {
        let a = admin(&base, "GET", &format!("{t}{query}"), None).await;
        expect(&doc, t, "GET", &a, 200);
        let n = serde_json::from_str::<Value>(&a.body).unwrap()["events"]
            .as_array()
            .unwrap()
            .len();
        assert!(n > 0, "{query}: no events");
    }
    for query in [
        "?limit=0",
        "?since=yesterday",
        "?nmae=x",
        "?view=xml",
        "?token=x",
        "?name=a&name=b",
    ] {
        let a = admin(&base, "GET", &format!("{t}{query}"), None).await;
        expect(&doc, t, "GET", &a, 400);
    }

    // the top attacks, with their exclusions
    let t = "/_sqreen/attacks/top";
    for query in [
        "",
        "?limit=1",
        "?since=2020-01-01T00:00:00Z",
        "?since=2999-01-01T00:00:00Z",
    ] {
        let a = admin(&base, "GET", &format!("{t}{query}"), None).await;
        expect(&doc, t, "GET", &a, 200);
    }
    let a = admin(&base, "GET", t, None).await;
    let top: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(top["top"][0]["exclusion"]["path"], "/search", "{top}");
    for query in [
        "?limit=0",
        "?limit=x",
        "?since=x",
        "?view=full",
        "?limit=1&limit=2",
    ] {
        let a = admin(&base, "GET", &format!("{t}{query}"), None).await;
        expect(&doc, t, "GET", &a, 400);
    }

    // health, metrics, explorer, the document itself
    for sub in ["health", "metrics", "explorer", "openapi.json"] {
        let a = admin(&base, "GET", &p(sub), None).await;
        expect(&doc, &p(sub), "GET", &a, 200);
    }

    // actions: list, create (good and bad), list again, delete (existing, missing, malformed)
    let t = "/_sqreen/actions";
    expect(&doc, t, "GET", &admin(&base, "GET", t, None).await, 200);
    let new_action = &doc["components"]["schemas"]["NewAction"];
    let good = [
        r#"{"actor":{"ip":"203.0.113.9/24"},"action":"block","duration":"1h"}"#,
        r#"{"actor":{"user":"mallory@example.com"},"action":"redirect","url":"/blocked","duration":"permanent"}"#,
        r#"{"actor":{"ip":"2001:db8::1"},"action":"redirect","url":"https://example.com/why","duration":"7d"}"#,
        r#"{"actor":{"user":"eve"},"action":"block","url":null,"duration":"30s"}"#,
    ];
    let mut ids = Vec::new();
    for body in good {
        // the request schema accepts what the API accepts...
        let value: Value = serde_json::from_str(body).unwrap();
        json_schema::validate(&doc, new_action, &value).unwrap_or_else(|e| panic!("{body}: {e}"));
        let a = admin(&base, "POST", t, Some(body)).await;
        expect(&doc, t, "POST", &a, 201);
        let created: Value = serde_json::from_str(&a.body).unwrap();
        let id = created["id"].as_u64().unwrap();
        assert_eq!(a.headers["location"], format!("/_sqreen/actions/{id}"));
        ids.push(id);
    }
    assert_eq!(ids.len(), good.len());
    let list = admin(&base, "GET", t, None).await;
    expect(&doc, t, "GET", &list, 200);
    // ...and refuses what the API refuses (the checks a schema can express)
    for body in [
        r#"{"actor":{"ip":"1.2.3.4"},"action":"block","duraton":"1h"}"#,
        r#"{"action":"block","duration":"1h"}"#,
        r#"{"actor":"1.2.3.4","action":"block","duration":"1h"}"#,
        r#"{"actor":{"ip":7},"action":"block","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4","user":"u"},"action":"block","duration":"1h"}"#,
        r#"{"actor":{"cidr":"1.2.3.4"},"action":"block","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"ban","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"redirect","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"redirect","url":"//evil","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"block","url":"/x","duration":"1h"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"block"}"#,
        r#"{"actor":{"ip":"1.2.3.4"},"action":"block","duration":"1 hour"}"#,
        r#"[]"#,
    ] {
        let value: Value = serde_json::from_str(body).unwrap();
        assert!(
            json_schema::validate(&doc, new_action, &value).is_err(),
            "the schema accepts {body}, which the API refuses"
        );
        expect(
            &doc,
            t,
            "POST",
            &admin(&base, "POST", t, Some(body)).await,
            400,
        );
    }
    expect(
        &doc,
        t,
        "POST",
        &admin(&base, "POST", t, Some("{")).await,
        400,
    );
    let huge = format!(r#"{{"actor":{{"user":"{}"}}}}"#, "u".repeat(70 * 1024));
    expect(
        &doc,
        t,
        "POST",
        &admin(&base, "POST", t, Some(&huge)).await,
        413,
    );

    let t = "/_sqreen/actions/{id}";
    let a = admin(&base, "DELETE", &p(&format!("actions/{}", ids[0])), None).await;
    expect(&doc, t, "DELETE", &a, 204);
    let a = admin(&base, "DELETE", &p(&format!("actions/{}", ids[0])), None).await;
    expect(&doc, t, "DELETE", &a, 404);
    let a = admin(&base, "DELETE", &p("actions/seven"), None).await;
    expect(&doc, t, "DELETE", &a, 400);

    // refusals: no token, a wrong one, on every operation
    for (path, methods) in documented(&doc) {
        let concrete = path.replace("{id}", &ids[1].to_string());
        for method in methods {
            // an operation the document declares public (`security: []`) answers anyway
            let public = doc["paths"][&path][method.to_lowercase()]["security"]
                .as_array()
                .is_some_and(Vec::is_empty);
            for token in [None, Some("openapi-test-token-0123456788")] {
                let a = call(&base, &method, &concrete, token, Some(good[0])).await;
                expect(&doc, &path, &method, &a, if public { 200 } else { 401 });
            }
        }
    }
    // what no operation owns: an unknown path, a wrong method
    let a = admin(&base, "GET", &p("nope"), None).await;
    expect_component(&doc, "NotFound", &a, 404);
    let a = admin(&base, "PUT", &p("health"), None).await;
    expect_component(&doc, "MethodNotAllowed", &a, 405);
    let a = admin(&base, "GET", &p("actions/1"), None).await;
    expect_component(&doc, "MethodNotAllowed", &a, 405);
}
