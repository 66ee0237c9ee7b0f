//! The admin API over real HTTP: every endpoint with a good token, a wrong one and none; actions
//! pushed and lifted; metrics parsed as Prometheus text; events recorded, redacted and filtered;
//! admin requests kept away from the lists, the WAF, the playbooks and the application's routes.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use common::receiver::{Behaviour, Receiver};
use common::{client, eventually, get_with, serve_router};
use serde_json::{json, Value};
use sqreen::{identify, track, Agent, AgentBuilder, ManualClock, UserKeys};

const TOKEN: &str = "admin-token-for-tests-0123456789";
const SQLI: &str = "1' OR '1'='1";

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/search", get(|| async { "results" }))
        .route("/blocked", get(|| async { "blocked page" }))
        .route(
            "/invite",
            post(|headers: HeaderMap| async move {
                let user = headers["x-user"].to_str().unwrap().to_owned();
                if identify(UserKeys::new().with("email", &user)).is_blocked() {
                    return "identify said blocked".to_owned();
                }
                track(
                    "user.invited",
                    json!({ "plan": "free", "password": "hunter2" }),
                );
                format!("{user} invited")
            }),
        )
        // the application's own route under the admin path: the admin API must shadow it
        .route("/_sqreen/health", get(|| async { "the app's route" }))
}

async fn setup(configure: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String) {
    let agent = configure(Agent::builder().admin_token(TOKEN))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    (agent, base)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Auth {
    Good,
    Wrong,
    Missing,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map_or("", |v| v.to_str().unwrap())
    }

    /// A 400 whose JSON error names `field`.
    fn assert_names(&self, field: &str) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert_eq!(self.content_type(), "application/json");
        let body = self.json();
        assert_eq!(body["field"], field, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.starts_with(&format!("{field}: ")), "{error}");
    }
}

async fn call(
    base: &str,
    method: &str,
    path: &str,
    auth: Auth,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let url = format!("{base}{path}");
    let mut req = client().request(method.parse().unwrap(), url);
    match auth {
        Auth::Good => req = req.bearer_auth(TOKEN),
        Auth::Wrong => req = req.bearer_auth("admin-token-for-tests-0123456788"),
        Auth::Missing => {}
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

async fn admin(base: &str, method: &str, path: &str, body: Option<&str>) -> Answer {
    call(base, method, path, Auth::Good, body, &[]).await
}

#[tokio::test]
async fn every_endpoint_needs_the_token_and_refusals_are_counted() {
    let (agent, base) = setup(|b| b).await;
    let block = r#"{"actor":{"ip":"198.51.100.0/24"},"action":"block","duration":"1h"}"#;
    let endpoints: [(&str, &str, Option<&str>, u16, &str); 6] = [
        ("GET", "/_sqreen/health", None, 200, "application/json"),
        (
            "GET",
            "/_sqreen/metrics",
            None,
            200,
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        ("GET", "/_sqreen/events", None, 200, "application/json"),
        ("GET", "/_sqreen/actions", None, 200, "application/json"),
        (
            "POST",
            "/_sqreen/actions",
            Some(block),
            201,
            "application/json",
        ),
        ("DELETE", "/_sqreen/actions/1", None, 204, ""),
    ];
    let mut refused = 0;
    for (method, path, body, ok, content_type) in endpoints {
        for auth in [Auth::Missing, Auth::Wrong] {
            let a = call(&base, method, path, auth, body, &[]).await;
            refused += 1;
            assert_eq!(a.status, 401, "{method} {path} {auth:?}: {}", a.body);
            assert_eq!(a.content_type(), "application/json");
            assert!(a.json()["error"].as_str().unwrap().contains("token"));
            assert!(a.headers.contains_key("www-authenticate"));
        }
        let a = call(&base, method, path, Auth::Good, body, &[]).await;
        assert_eq!(a.status, ok, "{method} {path}: {}", a.body);
        assert_eq!(a.content_type(), content_type, "{method} {path}");
    }
    // other schemes and malformed headers are refused too
    for value in ["Basic YWRtaW46eA==", "Bearer", TOKEN] {
        let a = call(
            &base,
            "GET",
            "/_sqreen/health",
            Auth::Missing,
            None,
            &[("authorization", value)],
        )
        .await;
        refused += 1;
        assert_eq!(a.status, 401, "{value}");
    }
    // a token is never taken from the query (it would reach access logs), on no endpoint
    for path in ["health", "events", "actions", "metrics", "openapi.json"] {
        let a = call(
            &base,
            "GET",
            &format!("/_sqreen/{path}?token={TOKEN}"),
            Auth::Missing,
            None,
            &[],
        )
        .await;
        refused += 1;
        assert_eq!(a.status, 401, "{path}");
    }
    // the Explorer's page holds no data: it is served without a token, and takes its token
    // from the fragment, never from the query
    let page = call(&base, "GET", "/_sqreen/explorer", Auth::Missing, None, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Events Explorer"));
    assert!(page.body.contains("location.hash"));
    assert!(!page.body.contains("params.get(\"token\")"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers["referrer-policy"], "no-referrer");

    assert_eq!(agent.stats().admin_unauthorized, refused);
    // unknown endpoints and wrong methods, once authorized
    let a = admin(&base, "GET", "/_sqreen/nope", None).await;
    assert_eq!((a.status, a.content_type()), (404, "application/json"));
    let a = admin(&base, "PUT", "/_sqreen/health", None).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.headers["allow"], "GET");
}

#[tokio::test]
async fn admin_requests_never_reach_the_app_and_skip_lists_waf_and_playbooks() {
    let rules = r#"{
      "ip_denylist": ["203.0.113.0/24"],
      "playbooks": [ { "id": "attacks", "trigger": { "event": "app.sqreen.attack.*", "threshold": 1,
          "period": "10m", "actor": "ip" }, "response": { "action": "block", "duration": "1h" } } ]
    }"#;
    let (agent, base) = setup(|b| b.rules_json(rules)).await;
    let denied = [("x-forwarded-for", "203.0.113.5")];
    let attacker = [("x-forwarded-for", "192.0.2.66")];

    // the app's own /_sqreen/health is shadowed, with or without a token
    let a = call(&base, "GET", "/_sqreen/health", Auth::Missing, None, &[]).await;
    assert_eq!(a.status, 401);
    assert_ne!(a.body, "the app's route");
    // a deny-listed client still reaches the admin API (the token is the guard)...
    assert_eq!(get_with(&format!("{base}/"), &denied).await.0, 403);
    let a = call(&base, "GET", "/_sqreen/health", Auth::Good, None, &denied).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["status"], "ok");
    // ...and an attack in an admin URL is neither inspected nor counted by the playbook
    let path = format!(
        "/_sqreen/events?name={}",
        urlencode(&format!("x{SQLI} UNION SELECT password FROM users--"))
    );
    let a = call(&base, "GET", &path, Auth::Good, None, &attacker).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(agent.stats().waf.sqli, 0);
    assert_eq!(get_with(&format!("{base}/"), &attacker).await.0, 200);
    // the same attack on the app is seen, and fires the playbook
    let (status, _) = get_with(&format!("{base}/search?q={}", urlencode(SQLI)), &attacker).await;
    assert_eq!(
        status, 403,
        "the playbook fires on the attack's own response"
    );
    assert_eq!(agent.stats().waf.sqli, 1);
    assert_eq!(agent.stats().playbooks_fired, 1);
    assert_eq!(get_with(&format!("{base}/"), &attacker).await.0, 403);
    // no admin request was recorded as an event
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.queue_depth
            == 0)
        .await
    );
    let events = admin(&base, "GET", "/_sqreen/events?limit=10000", None)
        .await
        .json();
    for e in events["events"].as_array().unwrap() {
        let path = e["request"]["path"].as_str().unwrap_or("");
        assert!(!path.starts_with("/_sqreen"), "admin request recorded: {e}");
    }
    // a path that only starts like the admin path is the app's
    assert_eq!(get_with(&format!("{base}/_sqreenx"), &[]).await.0, 404);
}

#[tokio::test]
async fn without_a_token_there_is_no_admin_api_and_the_path_can_move() {
    let agent = Agent::builder().build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let (status, body) = get_with(
        &format!("{base}/_sqreen/health"),
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "the app's route"));

    let (_, base) = setup(|b| b.admin_path("/ops/security/")).await;
    assert_eq!(
        admin(&base, "GET", "/ops/security/health", None)
            .await
            .status,
        200
    );
    let (status, body) = get_with(&format!("{base}/_sqreen/health"), &[]).await;
    assert_eq!((status, body.as_str()), (200, "the app's route"));

    let err = Agent::builder().admin_token("short").build().unwrap_err();
    assert_eq!(err.variable(), Some("admin_token"));
    assert!(!err.to_string().contains("short"), "{err}");
    let err = Agent::builder().admin_path("no-slash").build().unwrap_err();
    assert_eq!(err.variable(), Some("admin_path"));
}

#[tokio::test]
async fn post_actions_blocks_a_cidr_and_delete_lifts_it() {
    let (agent, base) = setup(|b| b).await;
    let from = [("x-forwarded-for", "203.0.113.9")];
    assert_eq!(get_with(&format!("{base}/"), &from).await.0, 200);

    let a = admin(
        &base,
        "POST",
        "/_sqreen/actions",
        Some(r#"{"actor":{"ip":"203.0.113.0/24"},"action":"block","duration":"1h"}"#),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let created = a.json();
    let id = created["id"].as_u64().unwrap();
    assert_eq!(
        a.headers["location"].to_str().unwrap(),
        format!("/_sqreen/actions/{id}")
    );
    assert_eq!(created["action"]["actor"], json!({"ip": "203.0.113.0/24"}));
    assert_eq!(created["action"]["source"], "api");
    assert!(created["action"]["until"].as_str().unwrap().ends_with('Z'));

    // the very next request from the network is blocked; others are not
    let (status, body) = get_with(&format!("{base}/"), &from).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        get_with(&format!("{base}/"), &[("x-forwarded-for", "203.0.114.1")])
            .await
            .0,
        200
    );
    let listed = admin(&base, "GET", "/_sqreen/actions", None).await.json();
    let actions = listed["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["id"], id);
    assert_eq!(actions[0]["action"], "block");
    assert_eq!(agent.actions().len(), 1);

    let a = admin(&base, "DELETE", &format!("/_sqreen/actions/{id}"), None).await;
    assert_eq!((a.status, a.body.as_str()), (204, ""));
    assert_eq!(get_with(&format!("{base}/"), &from).await.0, 200);
    let a = admin(&base, "DELETE", &format!("/_sqreen/actions/{id}"), None).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["field"], "id");
    assert_eq!(
        admin(&base, "GET", "/_sqreen/actions", None).await.json(),
        json!({"actions": []})
    );

    // a user redirect, permanent
    let a = admin(
        &base,
        "POST",
        "/_sqreen/actions",
        Some(r#"{"actor":{"user":"mallory@example.com"},"action":"redirect","url":"/blocked","duration":"permanent"}"#),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["action"]["until"], Value::Null);
    let res = client()
        .post(format!("{base}/invite"))
        .header("x-user", "mallory@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/blocked");
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_field() {
    let (agent, base) = setup(|b| b).await;
    let post = |body: &'static str| {
        let base = base.clone();
        async move { admin(&base, "POST", "/_sqreen/actions", Some(body)).await }
    };
    post("{not json").await.assert_names("body");
    post(r#"["block"]"#).await.assert_names("body");
    post(r#"{"actor":{"ip":"203.0.113.0/33"},"action":"block","duration":"1h"}"#)
        .await
        .assert_names("actor.ip");
    post(r#"{"actor":{"ip":"not-an-ip"},"action":"block","duration":"1h"}"#)
        .await
        .assert_names("actor.ip");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"block","duration":"1h","reason":"x"}"#)
        .await
        .assert_names("reason");
    post(r#"{"actor":{"ip":"203.0.113.7","host":"x"},"action":"block","duration":"1h"}"#)
        .await
        .assert_names("actor.host");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"redirect","duration":"1h"}"#)
        .await
        .assert_names("url");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"redirect","url":"javascript:alert(1)","duration":"1h"}"#)
        .await
        .assert_names("url");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"ban","duration":"1h"}"#)
        .await
        .assert_names("action");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"block"}"#)
        .await
        .assert_names("duration");
    post(r#"{"actor":{"ip":"203.0.113.7"},"action":"block","duration":"forever"}"#)
        .await
        .assert_names("duration");
    post(r#"{"actor":{},"action":"block","duration":"1h"}"#)
        .await
        .assert_names("actor");
    admin(&base, "DELETE", "/_sqreen/actions/abc", None)
        .await
        .assert_names("id");
    for (query, field) in [
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("view=xml", "view"),
        ("actr=1.2.3.4", "actr"),
        ("name=", "name"),
    ] {
        admin(&base, "GET", &format!("/_sqreen/events?{query}"), None)
            .await
            .assert_names(field);
    }
    // a body over 64 KiB is refused whole
    let big = format!(
        r#"{{"actor":{{"user":"{}"}},"action":"block","duration":"1h"}}"#,
        "u".repeat(70 * 1024)
    );
    let a = admin(&base, "POST", "/_sqreen/actions", Some(&big)).await;
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["field"], "body");
    assert!(agent.actions().is_empty(), "no bad request made an action");
}

#[tokio::test]
async fn events_are_held_redacted_newest_first_and_filtered() {
    let (agent, base) = setup(|b| b).await;
    for (user, ip) in [
        ("alice@example.com", "198.51.100.1"),
        ("bob@example.com", "198.51.100.2"),
        ("alice@example.com", "198.51.100.1"),
    ] {
        let res = client()
            .post(format!("{base}/invite"))
            .header("x-user", user)
            .header("x-forwarded-for", ip)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    let _ = get_with(
        &format!("{base}/search?q={}", urlencode(SQLI)),
        &[("x-forwarded-for", "192.0.2.9")],
    )
    .await;
    let held = || async {
        admin(&base, "GET", "/_sqreen/events", None).await.json()["held"]
            .as_u64()
            .unwrap()
    };
    let mut n = 0;
    for _ in 0..200 {
        n = held().await;
        if n >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(n, 4);

    let all = admin(&base, "GET", "/_sqreen/events", None).await.json();
    let events = all["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["name"], "app.sqreen.attack.sqli", "newest first");
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(all["now"].as_str().unwrap().ends_with('Z'));
    assert_eq!(all["capacity"], 10_000);
    let invited = &events[1];
    assert_eq!(invited["properties"]["plan"], "free");
    assert_eq!(invited["properties"]["password"], "<Redacted by sqreen>");
    assert!(!all.to_string().contains("hunter2"));

    let names = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = |query: &str| {
        let base = base.clone();
        let query = query.to_owned();
        async move {
            admin(&base, "GET", &format!("/_sqreen/events?{query}"), None)
                .await
                .json()
        }
    };
    assert_eq!(names(&q("name=user.invited").await).len(), 3);
    assert_eq!(
        names(&q("name=app.sqreen.attack.*").await),
        ["app.sqreen.attack.sqli"]
    );
    assert_eq!(names(&q("actor=alice%40example.com").await).len(), 2);
    assert_eq!(names(&q("actor=198.51.100.2").await).len(), 1);
    assert_eq!(names(&q("actor=198.51.100.0%2F24").await).len(), 3);
    assert_eq!(names(&q("limit=2").await).len(), 2);
    assert_eq!(names(&q("since=2999-01-01T00:00:00Z").await).len(), 0);
    assert_eq!(
        names(&q("since=2000-01-01T00:00:00%2B02:00").await).len(),
        4
    );
    let summary = q("view=summary&name=user.invited&limit=1").await;
    assert_eq!(
        summary["events"][0],
        json!({
            "name": "user.invited",
            "timestamp": summary["events"][0]["timestamp"],
            "ip": "198.51.100.1",
            "critical": false,
            "user": "alice@example.com",
        })
    );
    assert_eq!(agent.stats().admin_unauthorized, 0);
}

#[tokio::test]
async fn health_reports_rules_uptime_queue_and_the_last_delivery_error() {
    let (receiver, url) = Receiver::start(vec![]).await;
    receiver.set_default(Behaviour::Status(400));
    let clock = ManualClock::new(1_795_449_600_000);
    let (_agent, base) = setup(|b| {
        b.clock(clock.clone())
            .rules_json(r#"{"version": "2026-11-23.1"}"#)
            .configure(|c| c.webhook_url = Some(url))
    })
    .await;
    let health = admin(&base, "GET", "/_sqreen/health", None).await.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["rules_version"], "2026-11-23.1");
    assert_eq!(health["rules_source"], "code");
    assert_eq!(health["uptime_s"], 0);
    assert_eq!(health["queue_depth"], 0);
    assert_eq!(health["last_delivery_error"], Value::Null);
    assert_eq!(health["waf_mode"], "monitor");
    assert_eq!(health["waf_paranoia"], 1);

    clock.advance(Duration::from_secs(90));
    // an attack is a security event: the webhook gets it, and answers 400
    let _ = get_with(&format!("{base}/search?q={}", urlencode(SQLI)), &[]).await;
    let mut health = Value::Null;
    for _ in 0..500 {
        health = admin(&base, "GET", "/_sqreen/health", None).await.json();
        if !health["last_delivery_error"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(health["uptime_s"], 90);
    let error = &health["last_delivery_error"];
    assert_eq!(error["sink"], "webhook", "{health}");
    assert_eq!(error["error"], "status 400 (not retried)");
    assert_eq!(error["at"], "2026-11-23T16:01:30.000Z");
    assert!(!error.to_string().contains("127.0.0.1"), "no receiver URL");
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text() {
    let (agent, base) = setup(|b| b.rules_json(r#"{"version": "v\"1\\2"}"#)).await;
    // some activity: an attack, a blocked request, a refused admin call
    let _ = get_with(&format!("{base}/search?q={}", urlencode(SQLI)), &[]).await;
    agent
        .block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    let from = [("x-forwarded-for", "203.0.113.1")];
    assert_eq!(get_with(&format!("{base}/"), &from).await.0, 403);
    assert_eq!(
        call(&base, "GET", "/_sqreen/metrics", Auth::Wrong, None, &[])
            .await
            .status,
        401
    );
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.queue_depth
            == 0)
        .await
    );
    tokio::time::sleep(Duration::from_millis(50)).await;

    let a = admin(&base, "GET", "/_sqreen/metrics", None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    let metrics = prometheus::parse(&a.body).unwrap_or_else(|e| panic!("{e}\n{}", a.body));
    let get = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let key = prometheus::key(name, labels);
        *metrics
            .samples
            .get(&key)
            .unwrap_or_else(|| panic!("no sample {key}"))
    };
    assert_eq!(
        get("sqreen_waf_matches_total", &[("category", "sqli")]),
        1.0
    );
    assert_eq!(get("sqreen_waf_matches_total", &[("category", "xss")]), 0.0);
    assert_eq!(get("sqreen_blocks_total", &[("reason", "ip")]), 1.0);
    assert_eq!(get("sqreen_blocks_total", &[("reason", "waf")]), 0.0);
    assert_eq!(get("sqreen_admin_unauthorized_total", &[]), 1.0);
    assert_eq!(get("sqreen_actions", &[]), 1.0);
    // the attack and the deny: two events
    assert_eq!(get("sqreen_events_recorded_total", &[]), 2.0);
    assert_eq!(get("sqreen_event_queue_depth", &[]), 0.0);
    assert_eq!(
        get("sqreen_events_dropped_total", &[("queue", "events")]),
        0.0
    );
    assert_eq!(get("sqreen_rules_loaded_total", &[]), 1.0);
    assert_eq!(get("sqreen_counter_evictions_total", &[]), 0.0);
    assert_eq!(get("sqreen_playbooks_fired_total", &[]), 0.0);
    assert_eq!(get("sqreen_waf_budget_overruns_total", &[]), 0.0);
    assert_eq!(get("sqreen_deliveries_total", &[("sink", "webhook")]), 0.0);
    assert_eq!(
        get(
            "sqreen_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("rules_version", "v\"1\\2"),
                ("waf_mode", "monitor")
            ]
        ),
        1.0
    );
    assert_eq!(metrics.types["sqreen_uptime_seconds"], "gauge");
    assert_eq!(metrics.types["sqreen_blocks_total"], "counter");
}

/// A small parser of the Prometheus text exposition format (0.0.4), strict about every line.
mod prometheus {
    use super::*;

    #[derive(Debug, Default)]
    pub struct Parsed {
        /// `name{l1="v1",l2="v2"}` (labels sorted) to value.
        pub samples: HashMap<String, f64>,
        pub types: HashMap<String, String>,
    }

    pub fn key(name: &str, labels: &[(&str, &str)]) -> String {
        let sorted: BTreeMap<&str, &str> = labels.iter().copied().collect();
        let inner: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("{name}{{{}}}", inner.join(","))
    }

    fn valid_name(s: &str, colon: bool) -> bool {
        let mut chars = s.chars();
        let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
        matches!(chars.next(), Some(c) if first_ok(c))
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    }

    fn value(s: &str) -> Option<f64> {
        match s {
            "NaN" => Some(f64::NAN),
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            _ if s
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) =>
            {
                s.parse().ok()
            }
            _ => None,
        }
    }

    /// Parses `name{labels}` at the start of `line`; returns the key and the rest.
    fn series(line: &str) -> Result<(String, String, &str), String> {
        let end = line.find(['{', ' ']).ok_or("no value")?;
        let name = &line[..end];
        if !valid_name(name, true) {
            return Err(format!("invalid metric name {name:?}"));
        }
        let mut rest = &line[end..];
        let mut labels: Vec<(String, String)> = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            loop {
                if let Some(after) = rest.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let eq = rest.find('=').ok_or("label without =")?;
                let label = &rest[..eq];
                if !valid_name(label, false) {
                    return Err(format!("invalid label name {label:?}"));
                }
                rest = rest[eq + 1..]
                    .strip_prefix('"')
                    .ok_or("label value not quoted")?;
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let close = loop {
                    match chars.next().ok_or("unterminated label value")? {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            c => return Err(format!("bad escape \\{c}")),
                        },
                        (_, '\n') => return Err("newline in label value".into()),
                        (_, c) => value.push(c),
                    }
                };
                rest = &rest[close + 1..];
                if labels.iter().any(|(l, _)| l == label) {
                    return Err(format!("label {label} twice"));
                }
                labels.push((label.to_owned(), value));
                if let Some(after) = rest.strip_prefix(',') {
                    rest = after;
                } else if !rest.starts_with('}') {
                    return Err("expected , or } after a label".into());
                }
            }
        }
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok((name.to_owned(), key(name, &pairs), rest))
    }

    pub fn parse(text: &str) -> Result<Parsed, String> {
        if !text.ends_with('\n') {
            return Err("the exposition must end with a newline".into());
        }
        let mut parsed = Parsed::default();
        let mut helped: Vec<String> = Vec::new();
        let mut sampled: Vec<String> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
                match words.as_slice() {
                    ["HELP", name, ..] => {
                        if !valid_name(name, true) {
                            return Err(at("invalid name in HELP".into()));
                        }
                        if helped.contains(&name.to_string()) {
                            return Err(at("second HELP".into()));
                        }
                        helped.push(name.to_string());
                    }
                    ["TYPE", name, kind] => {
                        if !valid_name(name, true) {
                            return Err(at("invalid name in TYPE".into()));
                        }
                        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                            return Err(at(format!("unknown type {kind}")));
                        }
                        if parsed.types.contains_key(*name) {
                            return Err(at("second TYPE".into()));
                        }
                        if sampled.contains(&name.to_string()) {
                            return Err(at("TYPE after the samples".into()));
                        }
                        parsed.types.insert(name.to_string(), kind.to_string());
                    }
                    ["TYPE", ..] => return Err(at("malformed TYPE".into())),
                    _ => {} // any other comment
                }
                continue;
            }
            let (name, key, rest) = series(line).map_err(at)?;
            let mut fields = rest.split(' ').filter(|s| !s.is_empty());
            let v = fields
                .next()
                .and_then(value)
                .ok_or_else(|| at("missing or non-numeric value".into()))?;
            if let Some(ts) = fields.next() {
                ts.parse::<i64>()
                    .map_err(|_| at("non-integer timestamp".into()))?;
            }
            if fields.next().is_some() {
                return Err(at("trailing text".into()));
            }
            let kind = parsed
                .types
                .get(&name)
                .ok_or_else(|| at(format!("{name} has no TYPE")))?;
            if kind == "counter" && (!name.ends_with("_total") || v < 0.0) {
                return Err(at("a counter is named *_total and is never negative".into()));
            }
            if !name.starts_with("sqreen_") {
                return Err(at("not a sqreen_ metric".into()));
            }
            if parsed.samples.insert(key, v).is_some() {
                return Err(at("duplicate series".into()));
            }
            if !sampled.contains(&name) {
                sampled.push(name);
            }
        }
        for name in parsed.types.keys() {
            if !helped.contains(name) {
                return Err(format!("{name} has no HELP"));
            }
        }
        Ok(parsed)
    }

    #[test]
    fn the_parser_refuses_what_it_must() {
        let ok = "# HELP sqreen_a_total x\n# TYPE sqreen_a_total counter\nsqreen_a_total{k=\"v\\\"\"} 1\n";
        assert!(parse(ok).is_ok());
        for bad in [
            "sqreen_a 1\n",                                    // no TYPE
            "# TYPE sqreen_a gauge\nsqreen_a one\n",           // not numeric
            "# TYPE sqreen_a gauge\nsqreen_a{k=v} 1\n",        // unquoted
            "# TYPE sqreen_a counter\nsqreen_a 1\n",           // counter not _total
            "# TYPE sqreen_a gauge\nsqreen_a 1\nsqreen_a 2\n", // duplicate
            "# TYPE sqreen_a gauge\nsqreen_a 1",               // no final newline
            "# TYPE 1a gauge\n",                               // name
            "# TYPE sqreen_a gauge\n# TYPE sqreen_a gauge\n",  // twice
            "# TYPE sqreen_a gauge\nsqreen_a{k=\"v\"\n",       // unterminated
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
