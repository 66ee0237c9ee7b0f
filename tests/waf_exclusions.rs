//! WAF exclusions and per-route modes over real HTTP: one test per exclusion scope (path,
//! method, inputs, rules, categories, and none of rules or categories), one per route mode, an
//! exclusion written from an attack event, the hot-reloaded rules file swapping them, and an
//! attacker who read the source trying to reach an exclusion (or leave a stricter route) by
//! spelling paths and methods another way. Requests whose path a client library would
//! normalise go over a raw TCP connection.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::{client, serve_router};
use serde_json::{json, Value};
use sqreen::event::Event;
use sqreen::rules::WafMode;
use sqreen::waf::AttackCategory;
use sqreen::{Agent, AgentBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const XSS: &str = "<script>alert(document.cookie)</script>";
const SQLI: &str = "1' OR '1'='1";
/// Code a forum post quotes: only the script-tag rule matches it.
const CODE: &str = "<script>var x = 1;</script>";

type Seen = Arc<Mutex<Vec<Event>>>;

/// An agent (block mode unless the rules say otherwise) whose attack events are kept, and a
/// server with `/forum/{id}`, `/blog/{id}`, `/admin/{*rest}`, `/health` and `/api/{*rest}`
/// (each echoing its body, or `ok` on GET), 404 elsewhere.
async fn setup(rules: &str) -> (Agent, String, Seen) {
    setup_with(|b| b.rules_json(rules)).await
}

async fn setup_with(builder: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let agent = builder(Agent::builder().waf_mode(WafMode::Block))
        .event_sink(move |e: &Event| {
            if e.is_security() {
                sink.lock().unwrap().push(e.clone());
            }
        })
        .build()
        .unwrap();
    let echo = || {
        get(|| async { "ok" })
            .post(|body: Bytes| async move { body })
            .put(|body: Bytes| async move { body })
    };
    let app = Router::new()
        .route("/forum/{id}", echo())
        .route("/blog/{id}", echo())
        .route("/admin/{*rest}", echo())
        .route("/api/{*rest}", echo())
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") })
        .layer(agent.layer());
    let base = serve_router(app).await;
    (agent, base, seen)
}

/// Sends `body` as JSON with `method` to `path`; the status.
async fn send(base: &str, method: &str, path: &str, body: &Value) -> u16 {
    client()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// GET `path` with `q` in the query; the status.
async fn query(base: &str, path: &str, q: &str) -> u16 {
    client()
        .get(format!("{base}{path}"))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// One HTTP/1.1 request written byte for byte (`target` as given: no client normalises it);
/// the status.
async fn raw(base: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        request += &format!("{k}: {v}\r\n");
    }
    request += "content-length: 0\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

fn attacks(seen: &Seen) -> Vec<Event> {
    seen.lock().unwrap().clone()
}

fn post(content: &str) -> Value {
    json!({ "title": "Hello", "content": content })
}

#[tokio::test]
async fn a_path_scoped_exclusion_covers_its_paths_only() {
    let (_agent, base, seen) =
        setup(r#"{"waf": {"exclusions": [{"path": "/forum/*", "categories": ["xss"]}]}}"#).await;
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 200);
    assert_eq!(send(&base, "POST", "/blog/1", &post(XSS)).await, 403);
    assert_eq!(
        send(&base, "POST", "/forum/1/x", &post(XSS)).await,
        403,
        "* stays in a segment"
    );
    assert_eq!(
        send(&base, "POST", "/forum/1", &post(SQLI)).await,
        403,
        "other categories"
    );
    let names: Vec<String> = attacks(&seen).iter().map(|e| e.name.clone()).collect();
    assert_eq!(
        names,
        [
            "app.sqreen.attack.xss",
            "app.sqreen.attack.xss",
            "app.sqreen.attack.sqli"
        ]
    );
}

#[tokio::test]
async fn a_method_scoped_exclusion_covers_its_method_only() {
    let (_agent, base, _seen) =
        setup(r#"{"waf": {"exclusions": [{"method": "put", "categories": ["xss"]}]}}"#).await;
    assert_eq!(send(&base, "PUT", "/forum/1", &post(XSS)).await, 200);
    assert_eq!(send(&base, "PUT", "/blog/1", &post(XSS)).await, 200);
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 403);
}

#[tokio::test]
async fn an_input_scoped_exclusion_covers_its_inputs_only() {
    let rules = r#"{"waf": {"exclusions": [{"path": "/forum/*", "method": "POST",
        "inputs": ["body.content", "body.*.text"], "categories": ["xss"]}]}}"#;
    let (_agent, base, seen) = setup(rules).await;
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 200);
    let nested = json!({ "reply": { "text": XSS } });
    assert_eq!(send(&base, "POST", "/forum/1", &nested).await, 200);
    for other in [
        json!({ "title": XSS, "content": "fine" }),
        json!({ "reply": { "deeper": { "text": XSS } } }),
        json!({ "content": { "text": XSS, "x": 1 }, "contents": XSS }),
    ] {
        assert_eq!(
            send(&base, "POST", "/forum/1", &other).await,
            403,
            "{other}"
        );
    }
    // a whole category excluded in an input: any number of its fragments there
    let many = json!({ "content": format!("{XSS} {CODE} ").repeat(30) });
    assert_eq!(send(&base, "POST", "/forum/1", &many).await, 200);
    // the same string under an excluded name and another: the repeat is still inspected
    let twice = json!({ "content": XSS, "title": XSS });
    let n = attacks(&seen).len();
    assert_eq!(send(&base, "POST", "/forum/1", &twice).await, 403);
    assert_eq!(attacks(&seen).len(), n + 1);
    assert_eq!(
        query(&base, "/forum/1", XSS).await,
        403,
        "query.q is not excluded"
    );
    let inputs: Vec<String> = attacks(&seen)
        .iter()
        .map(|e| e.properties["input"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        inputs,
        [
            "body.title",
            "body.reply.deeper.text",
            "body.contents",
            "body.title",
            "query.q"
        ]
    );
}

#[tokio::test]
async fn a_rule_scoped_exclusion_covers_that_rule_and_hides_nothing_behind_it() {
    let script = sqreen::waf::detect(AttackCategory::Xss, CODE).unwrap().rule;
    let handler = "<img src=x onerror=alert(1)>";
    let other = sqreen::waf::detect(AttackCategory::Xss, handler)
        .unwrap()
        .rule;
    assert_ne!(script, other);
    let rules =
        format!(r#"{{"waf": {{"exclusions": [{{"path": "/forum/*", "rules": ["{script}"]}}]}}}}"#);
    let (_agent, base, seen) = setup(&rules).await;
    assert_eq!(send(&base, "POST", "/forum/1", &post(CODE)).await, 200);
    // the same value with a call in it: another rule, not excluded
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 403);
    assert_eq!(send(&base, "POST", "/forum/1", &post(handler)).await, 403);
    // an attack after excluded fragments is still found
    let hidden = format!("{CODE} and then {handler}");
    assert_eq!(send(&base, "POST", "/forum/1", &post(&hidden)).await, 403);
    // a value of many excluded fragments is not a hiding place: past 16 it is reported
    let many = CODE.repeat(20);
    assert_eq!(send(&base, "POST", "/forum/1", &post(&many)).await, 403);
    assert_eq!(
        send(&base, "POST", "/forum/1", &post(&CODE.repeat(3))).await,
        200
    );
    let rules: Vec<String> = attacks(&seen)
        .iter()
        .map(|e| e.properties["rule"].as_str().unwrap().to_owned())
        .collect();
    let call = sqreen::waf::detect(AttackCategory::Xss, "alert(document.cookie)</script>")
        .unwrap()
        .rule;
    assert_eq!(rules, [call, other, other, script]);
}

#[tokio::test]
async fn a_category_scoped_exclusion_covers_every_rule_of_it() {
    let rules =
        r#"{"waf": {"exclusions": [{"path": "/forum/*", "categories": ["sqli", "rce", "lfi"]}]}}"#;
    let (_agent, base, _seen) = setup(rules).await;
    for value in [
        SQLI,
        "1 UNION SELECT password FROM users --",
        "x; cat /etc/passwd",
        "../../../etc/shadow",
    ] {
        assert_eq!(
            send(&base, "POST", "/forum/1", &post(value)).await,
            200,
            "{value}"
        );
        assert_eq!(
            send(&base, "POST", "/blog/1", &post(value)).await,
            403,
            "{value}"
        );
    }
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 403);
}

#[tokio::test]
async fn an_exclusion_naming_no_rule_or_category_turns_every_rule_off_in_its_scope() {
    let rules = r#"{"waf": {"exclusions": [{"path": "/forum/*", "inputs": ["body.content"]}]}}"#;
    let (_agent, base, _seen) = setup(rules).await;
    for value in [XSS, SQLI, "../../../../etc/passwd", "x; cat /etc/passwd"] {
        assert_eq!(
            send(&base, "POST", "/forum/1", &post(value)).await,
            200,
            "{value}"
        );
    }
    assert_eq!(
        send(&base, "POST", "/forum/1", &json!({ "title": SQLI })).await,
        403
    );
}

#[tokio::test]
async fn route_modes_off_monitor_and_block_and_the_first_match_wins() {
    let rules = r#"{"waf": {"mode": "monitor", "routes": [
        {"path": "/admin/public/**", "mode": "monitor"},
        {"path": "/admin/**", "mode": "block"},
        {"path": "/health", "mode": "off"},
        {"path": "/api/**", "method": "GET", "mode": "off"}
    ]}}"#;
    let (agent, base, seen) = setup(rules).await;
    // monitor (the global mode, and the first route's): recorded, not blocked
    assert_eq!(query(&base, "/blog/1", SQLI).await, 200);
    assert_eq!(query(&base, "/admin/public/logo", SQLI).await, 200);
    // block on its route
    assert_eq!(query(&base, "/admin/users", SQLI).await, 403);
    assert_eq!(
        send(&base, "POST", "/admin/users", &post(XSS)).await,
        403,
        "body too"
    );
    // off on its route: nothing recorded
    let before = attacks(&seen).len();
    assert_eq!(query(&base, "/health", SQLI).await, 200);
    assert_eq!(query(&base, "/api/items", SQLI).await, 200);
    assert_eq!(attacks(&seen).len(), before);
    // a method-scoped route: other methods keep the global mode (recorded)
    assert_eq!(send(&base, "POST", "/api/items", &post(XSS)).await, 200);
    let blocked: Vec<bool> = attacks(&seen)
        .iter()
        .map(|e| e.properties["blocked"].as_bool().unwrap())
        .collect();
    assert_eq!(blocked, [false, false, true, true, false]);
    assert_eq!(agent.stats().waf.blocked, 2);
}

#[tokio::test]
async fn an_exclusion_written_from_an_event_lets_that_request_through() {
    let (agent, base, seen) = setup("{}").await;
    let body = json!({ "comments": [{ "text": "fine" }, { "text": CODE }] });
    assert_eq!(send(&base, "POST", "/forum/7", &body).await, 403);
    let event = attacks(&seen).pop().unwrap();
    let (rule, input) = (&event.properties["rule"], &event.properties["input"]);
    assert_eq!(input, "body.comments[1].text");
    let exclusion =
        json!({ "path": "/forum/7", "method": "POST", "inputs": [input], "rules": [rule] });
    let doc = json!({ "waf": { "exclusions": [exclusion] } }).to_string();
    agent.set_rules(sqreen::rules::RulesDocument::parse(&doc).unwrap());
    assert_eq!(send(&base, "POST", "/forum/7", &body).await, 200);
    assert_eq!(send(&base, "POST", "/forum/8", &body).await, 403);
}

#[tokio::test]
async fn the_rules_file_reloads_swap_exclusions_and_an_invalid_one_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.json");
    std::fs::write(
        &path,
        r#"{"waf": {"exclusions": [{"path": "/forum/*", "categories": ["xss"]}]}}"#,
    )
    .unwrap();
    let (agent, base, _seen) = setup_with(|b| b.rules_path(&path)).await;
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 200);
    assert_eq!(send(&base, "POST", "/blog/1", &post(XSS)).await, 403);
    std::fs::write(
        &path,
        r#"{"waf": {"exclusions": [{"path": "/blog/*", "categories": ["xss"]}]}}"#,
    )
    .unwrap();
    agent.reload_rules().unwrap();
    assert_eq!(send(&base, "POST", "/forum/1", &post(XSS)).await, 403);
    assert_eq!(send(&base, "POST", "/blog/1", &post(XSS)).await, 200);
    std::fs::write(
        &path,
        r#"{"waf": {"exclusions": [{"path": "/forum/*", "categories": ["xsss"]}]}}"#,
    )
    .unwrap();
    let e = agent.reload_rules().unwrap_err();
    assert_eq!(e.place(), Some("waf.exclusions[0].categories[0]"), "{e}");
    assert_eq!(
        send(&base, "POST", "/blog/1", &post(XSS)).await,
        200,
        "the previous rules stay"
    );
}

#[tokio::test]
async fn an_attacker_cannot_reach_an_exclusion_by_spelling_the_path_another_way() {
    let rules = r#"{"waf": {"exclusions": [
        {"path": "/forum/*", "categories": ["xss"]},
        {"path": "/blog/*", "method": "GET", "categories": ["xss"]},
        {"path": "/api/**", "categories": ["xss"]}
    ]}}"#;
    let (_agent, base, _seen) = setup(rules).await;
    let q = "q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E";
    assert_eq!(
        raw(&base, "GET", &format!("/forum/1?{q}"), &[]).await,
        200,
        "in scope"
    );
    assert_eq!(
        raw(&base, "GET", &format!("/blog/1?{q}"), &[]).await,
        200,
        "in scope"
    );
    assert_eq!(
        raw(&base, "GET", &format!("/api/a/b?{q}"), &[]).await,
        200,
        "in scope"
    );
    for target in [
        "/forum/..",
        "/forum/.",
        "/forum/%2e%2e",
        "/forum/.%2E",
        "/api/../admin/x",
        "/api/x/../../admin/x",
        "/api/%2e%2e/admin/x",
        "/forum/../admin/x",
        "/forum/%2e%2e/admin/x",
        "/forum/..%2fadmin",
        "/forum%2f..%2fadmin/x",
        "/forum/1%2f..",
        "/Forum/1",
        "/FORUM/1",
        "/forum/1/",
        "//forum/1",
        "/forum//1",
        "/x/../forum/1",
        "/forum/1;.css",
        "/forum/1%3b",
        "/forum\\1",
        "/forum/%252e%252e/admin",
        "/forum/%00",
    ] {
        let status = raw(&base, "GET", &format!("{target}?{q}"), &[]).await;
        assert!(status == 403 || status == 400, "{target}: {status}");
    }
    for (header, value) in [
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "POST"),
        ("X-Method-Override", "PUT"),
    ] {
        let status = raw(&base, "GET", &format!("/blog/1?{q}"), &[(header, value)]).await;
        assert_eq!(status, 403, "{header}");
    }
    let status = raw(&base, "GET", &format!("/blog/1?{q}&_method=DELETE"), &[]).await;
    assert_eq!(status, 403, "_method");
    assert_eq!(
        raw(&base, "get", &format!("/blog/1?{q}"), &[]).await,
        403,
        "lowercase method"
    );
}

#[tokio::test]
async fn an_attacker_cannot_leave_a_stricter_route_by_spelling_the_path_another_way() {
    let rules =
        r#"{"waf": {"mode": "monitor", "routes": [{"path": "/admin/**", "mode": "block"}]}}"#;
    let (_agent, base, _seen) = setup(rules).await;
    let q = "q=1%27%20OR%20%271%27%3D%271";
    assert_eq!(raw(&base, "GET", &format!("/blog/1?{q}"), &[]).await, 200);
    for target in [
        "/admin/x",
        "/ADMIN/x",
        "/Admin",
        "/admin/",
        "/blog/../admin/x",
        "/admin%2fx",
        "/%61dmin/x",
        "/%2561dmin/x",
        "//admin//x",
        "/admin;a=b/x",
        "/admin\\x",
        "/./admin/x",
    ] {
        let status = raw(&base, "GET", &format!("{target}?{q}"), &[]).await;
        assert!(status == 403 || status == 400, "{target}: {status}");
    }
}
