//! RASP in process, over real HTTP: what a finding records, block vs monitor vs off (and the
//! rules document's `rasp.mode` over the environment's), the block page replacing whatever the
//! handler answered, playbooks counting findings, and checks outside a request passing.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Query;
use axum::routing::get;
use axum::Router;
use common::{client, serve_router};
use serde::Deserialize;
use sqreen::event::Event;
use sqreen::rasp::{self, Sink};
use sqreen::rules::WafMode;
use sqreen::Agent;

#[derive(Deserialize)]
struct Q {
    name: String,
}

/// A route that reads `files/<name>` through the checked path check, and answers 200 even
/// when the check refuses (the layer must still answer the block page).
fn app() -> Router {
    Router::new()
        .route(
            "/file",
            get(|Query(q): Query<Q>| async move {
                let path = std::path::Path::new("files").join(&q.name);
                match rasp::check_path(&path) {
                    Ok(()) => format!("would read {}", path.display()),
                    Err(e) => format!("the handler ignored: {e}"),
                }
            }),
        )
        .route(
            "/file-safe",
            get(|Query(q): Query<Q>| async move {
                // safe code: only the name's last component, joined under the base
                let name = std::path::Path::new(&q.name)
                    .file_name()
                    .map(|n| n.to_owned())
                    .unwrap_or_default();
                let path = std::path::Path::new("files").join(name);
                match rasp::check_path(&path) {
                    Ok(()) => format!("would read {}", path.display()),
                    Err(e) => format!("the handler ignored: {e}"),
                }
            }),
        )
        .route(
            "/ping",
            get(|Query(q): Query<Q>| async move {
                match rasp::shell::sh(&format!("echo pinging {}", q.name)) {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => e.to_string(),
                }
            }),
        )
}

struct Setup {
    agent: Agent,
    base: String,
    events: Arc<Mutex<Vec<Event>>>,
}

async fn setup(mode: WafMode, rules: &str) -> Setup {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let agent = Agent::builder()
        .configure(|c| c.rasp_mode = mode)
        .rules_json(rules)
        .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer().axum())).await;
    Setup {
        agent,
        base,
        events,
    }
}

async fn call(base: &str, path: &str, name: &str) -> (u16, String) {
    let r = client()
        .get(format!("{base}{path}"))
        .query(&[("name", name)])
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn rasp_events(s: &Setup) -> Vec<Event> {
    s.events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name.starts_with("app.sqreen.rasp."))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_finding_in_block_mode_answers_the_block_page_and_records_what_and_where() {
    let s = setup(WafMode::Block, "{}").await;
    let (status, body) = call(&s.base, "/file", "readme.txt").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "would read files/readme.txt")
    );
    let (status, body) = call(&s.base, "/file", "../../etc/passwd").await;
    assert_eq!(status, 403, "the handler's own 200 is replaced: {body}");
    assert!(!body.contains("the handler ignored"));
    let events = rasp_events(&s);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.name, "app.sqreen.rasp.lfi");
    let p = serde_json::to_value(&e.properties).unwrap();
    assert_eq!(p["sink"], "lfi");
    assert_eq!(p["input"], "query.name");
    assert_eq!(p["fragment"], "../../etc/passwd");
    assert_eq!(p["target"], "files/../../etc/passwd");
    assert_eq!(p["blocked"], true);
    let stats = s.agent.stats().rasp;
    assert_eq!((stats.lfi, stats.blocked), (1, 1));
}

#[tokio::test]
async fn the_same_strings_through_a_checked_name_pass() {
    let s = setup(WafMode::Block, "{}").await;
    for probe in [
        "../../etc/passwd",
        "/etc/passwd",
        "docs/../../../Cargo.toml",
    ] {
        let (status, body) = call(&s.base, "/file-safe", probe).await;
        assert_eq!(status, 200, "{probe}: {body}");
        assert!(body.starts_with("would read files/"), "{body}");
        assert_eq!(call(&s.base, "/file", probe).await.0, 403, "{probe}");
    }
}

#[tokio::test]
async fn monitor_records_and_passes_off_checks_nothing_and_the_rules_document_wins() {
    let s = setup(WafMode::Monitor, "{}").await;
    let (status, body) = call(&s.base, "/ping", "x; id").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(rasp_events(&s).len(), 1);
    assert_eq!(s.agent.stats().rasp.shi, 1);
    assert_eq!(s.agent.stats().rasp.blocked, 0);

    let s = setup(WafMode::Off, "{}").await;
    assert_eq!(call(&s.base, "/ping", "x; id").await.0, 200);
    assert!(rasp_events(&s).is_empty());

    // the environment says off, the rules document says block: block
    let s = setup(WafMode::Off, r#"{"rasp": {"mode": "block"}}"#).await;
    assert_eq!(call(&s.base, "/ping", "x; id").await.0, 403);
    assert!(
        sqreen::rules::RulesDocument::parse(r#"{"rasp": {"mode": "loud"}}"#)
            .unwrap_err()
            .to_string()
            .contains("rasp.mode")
    );
    assert!(sqreen::rules::RulesDocument::parse(r#"{"rasp": {"mood": "block"}}"#).is_err());
}

#[tokio::test]
async fn playbooks_count_rasp_findings() {
    let rules = r#"{"playbooks": [{"id": "exploiters", "trigger": {"event": "app.sqreen.rasp.*",
        "threshold": 2, "period": "10m", "actor": "ip"},
        "response": {"action": "block", "duration": "1h"}}]}"#;
    let s = setup(WafMode::Monitor, rules).await;
    assert_eq!(call(&s.base, "/ping", "a; id").await.0, 200);
    assert_eq!(
        call(&s.base, "/ping", "b && id").await.0,
        403,
        "the second one fires the playbook"
    );
    // and the IP stays blocked, even for a harmless request
    assert_eq!(call(&s.base, "/file", "readme.txt").await.0, 403);
}

#[test]
fn checks_outside_a_request_pass() {
    assert!(rasp::check_path("/etc/passwd").is_ok());
    assert!(rasp::check_command("echo a; id").is_ok());
    assert!(rasp::check_url("http://127.0.0.1/").is_ok());
    let inputs = rasp::Inputs::from_pairs([("query.host", "x; id")]);
    assert_eq!(
        rasp::find_in(Sink::Shell, "echo x; id", &inputs).as_deref(),
        Some("query.host")
    );
}
