//! Events and notifications leave the process reliably, signed and redacted, without slowing
//! requests: a real axum app with the layer, a real webhook receiver, all on 127.0.0.1.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use common::receiver::{Behaviour, Receiver};
use common::{client, eventually, serve_router};
use serde_json::{json, Value};
use sqreen::notify::webhook::verify;
use sqreen::playbook::{ActorKind, Frequency, Notification, Playbook, ResponseAction};
use sqreen::{Actor, Agent, AgentBuilder, ManualClock, WebhookEvents};

const SECRET: &str = "webhook-test-secret";

fn builder(url: &str) -> AgentBuilder {
    let url = url.to_owned();
    Agent::builder().configure(move |c| {
        c.webhook_url = Some(url);
        c.webhook_secret = Some(SECRET.to_owned());
    })
}

fn csrf_playbook(frequency: Frequency) -> sqreen::playbook::PlaybookBuilder {
    Playbook::on("csrf_request")
        .id("csrf")
        .name("CSRF abuse")
        .threshold(2)
        .within(Duration::from_secs(600))
        .by(ActorKind::Ip)
        .respond(ResponseAction::block_for(Duration::from_secs(3600)))
        .notify(Notification {
            frequency,
            webhook: true,
            ..Notification::default()
        })
}

fn app() -> Router {
    Router::new().route("/", get(|| async { "hello" })).route(
        "/track",
        post(|body: String| async move {
            let (name, props) = body.split_once(' ').unwrap_or((&body, "null"));
            let props: Value = serde_json::from_str(props).unwrap_or(Value::Null);
            format!("{:?}", sqreen::track(name, props))
        }),
    )
}

async fn track(base: &str, ip: &str, body: &str) -> u16 {
    client()
        .post(format!("{base}/track?token=query-secret&q=ok"))
        .header("x-forwarded-for", ip)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fired_playbook_arrives_signed_as_a_security_response() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let agent = builder(&url)
        .playbook(csrf_playbook(Frequency::Immediately))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    track(&base, "192.0.2.50", "csrf_request").await;
    assert_eq!(track(&base, "192.0.2.50", "csrf_request").await, 403);
    assert!(eventually(Duration::from_secs(5), || !receiver.accepted().is_empty()).await);
    let request = &receiver.accepted()[0];
    let signature = request.headers["x-sqreen-integrity"].to_str().unwrap();
    assert!(verify(&request.body, SECRET.as_bytes(), signature));
    assert!(!verify(&request.body, b"wrong secret", signature));
    let messages = request.json();
    let message = &messages[0];
    assert_eq!(message["message_type"], "security_response");
    assert_eq!(message["api_version"], "2");
    assert_eq!(message["retry_count"], 0);
    assert_eq!(message["message"]["playbook_id"], "csrf");
    assert_eq!(message["message"]["actor"], "ip 192.0.2.50");
    // counted once the delivery thread has read the answer
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.webhook_sent
            == 1)
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_message_once_after_retries() {
    let (receiver, url) = Receiver::start(vec![
        Behaviour::Status(503),
        Behaviour::Status(503),
        Behaviour::Status(503),
    ])
    .await;
    let agent = builder(&url)
        .playbook(csrf_playbook(Frequency::Immediately))
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.51".parse().unwrap());
    agent.track_for(&ip, "csrf_request", Value::Null);
    agent.track_for(&ip, "csrf_request", Value::Null);
    assert!(eventually(Duration::from_secs(10), || !receiver.accepted().is_empty()).await);
    let all = receiver.received.lock().unwrap().clone();
    assert_eq!(all.len(), 4, "three 503s then the 200");
    let counts: Vec<_> = all
        .iter()
        .map(|r| r.json()[0]["retry_count"].clone())
        .collect();
    assert_eq!(counts, vec![json!(0), json!(1), json!(2), json!(3)]);
    let accepted = receiver.accepted_messages();
    assert_eq!(accepted.len(), 1, "arrives once");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.webhook_sent
            == 1)
        .await
    );
    let stats = agent.stats().events;
    assert_eq!(stats.webhook_retries, 3);
    assert_eq!(stats.webhook_failures.get(&503), Some(&3), "{stats:?}");
    // each attempt was signed for its own body
    for r in &all {
        let sig = r.headers["x-sqreen-integrity"].to_str().unwrap();
        assert!(verify(&r.body, SECRET.as_bytes(), sig));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_does_not_slow_requests_and_a_full_queue_drops_and_counts() {
    let (receiver, url) = Receiver::start(vec![]).await;
    receiver.set_default(Behaviour::Hang);
    let agent = builder(&url)
        .configure(|c| {
            c.webhook_events = WebhookEvents::All;
            c.event_queue = 50;
        })
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let mut latencies = Vec::new();
    for i in 0..300 {
        let start = Instant::now();
        let status = track(&base, "192.0.2.52", &format!("page.viewed {{\"n\": {i}}}")).await;
        latencies.push(start.elapsed());
        assert_eq!(status, 200);
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    // a request that waited on the receiver would take the 10 s delivery timeout
    assert!(
        p99 < Duration::from_millis(250),
        "p99 {p99:?} while the receiver hangs"
    );
    let stats = agent.stats().events;
    assert_eq!(stats.queued + stats.dropped, 300, "{stats:?}");
    assert!(
        stats.dropped + stats.delivery_dropped > 0,
        "a queue filled up and its drops were counted: {stats:?}"
    );
    assert_eq!(stats.webhook_sent, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_ten_thousand_events_arrives_complete_in_batches() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let agent = builder(&url)
        .configure(|c| c.webhook_events = WebhookEvents::All)
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.53".parse().unwrap());
    for i in 0..10_000 {
        agent.track_for(&ip, "api.call", json!({ "i": i }));
    }
    assert!(
        eventually(Duration::from_secs(30), || receiver
            .accepted_messages()
            .len()
            >= 10_000)
        .await,
        "{} arrived",
        receiver.accepted_messages().len()
    );
    let messages = receiver.accepted_messages();
    let ids: std::collections::HashSet<_> =
        messages.iter().map(|m| m["message_id"].clone()).collect();
    assert_eq!(ids.len(), 10_000, "every event once");
    let requests = receiver.accepted().len();
    assert!(requests <= 50, "{requests} webhook calls for 10,000 events");
    assert!(receiver
        .accepted()
        .iter()
        .all(|r| r.json().as_array().unwrap().len() <= 1_000));
    assert_eq!(agent.stats().events.dropped, 0);
}

/// A `tracing` writer that keeps every log line, to check that secrets never reach the logs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_redacted_in_the_file_the_webhook_and_the_logs() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // global: the handlers run on the runtime's worker threads (only this test installs one)
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (receiver, url) = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let path = file.clone();
    let agent = builder(&url)
        .configure(move |c| {
            c.webhook_events = WebhookEvents::All;
            c.events_path = Some(path);
        })
        .event_sink(sqreen::event::LogSink)
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let props = r#"signup.attempt {"password": "hunter2-secret", "card": "4111 1111 1111 1111", "plan": "free"}"#;
    assert_eq!(track(&base, "192.0.2.54", props).await, 200);
    assert!(eventually(Duration::from_secs(5), || !receiver.accepted().is_empty()).await);
    assert_eq!(agent.shutdown(Duration::from_secs(5)), 0);

    let text = std::fs::read_to_string(&file).unwrap();
    let webhook = String::from_utf8_lossy(&receiver.accepted()[0].body).into_owned();
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    for (place, content) in [("file", &text), ("webhook", &webhook), ("logs", &logged)] {
        for secret in ["hunter2-secret", "4111 1111 1111 1111", "query-secret"] {
            assert!(
                !content.contains(secret),
                "{secret} leaked into the {place}: {content}"
            );
        }
    }
    assert!(
        logged.contains("signup.attempt"),
        "the event was logged: {logged}"
    );
    let event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(event["name"], "signup.attempt");
    assert_eq!(event["properties"]["password"], "<Redacted by sqreen>");
    assert_eq!(event["properties"]["plan"], "free");
    assert_eq!(
        event["request"]["parameters"]["query"]["token"],
        "<Redacted by sqreen>"
    );
    assert_eq!(event["request"]["parameters"]["query"]["q"], "ok");
    assert_eq!(event["client_ip"], "192.0.2.54");
    assert_eq!(event["ip_meta"]["metadata"]["version"], 4);
    assert_eq!(event["request"]["verb"], "POST");
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_is_sent_once_per_day_of_manual_clock_time() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let day = 86_400_000;
    let clock = ManualClock::new(1_795_392_000_000 + 3_600_000); // 2026-11-23 01:00 UTC
    let agent = builder(&url)
        .clock(clock.clone())
        .playbook(csrf_playbook(Frequency::Daily).respond(ResponseAction::none()))
        .build()
        .unwrap();
    for ip in ["192.0.2.60", "192.0.2.61", "192.0.2.60"] {
        let actor = Actor::ip(ip.parse().unwrap());
        agent.track_for(&actor, "csrf_request", Value::Null);
        agent.track_for(&actor, "csrf_request", Value::Null);
    }
    assert_eq!(agent.stats().playbooks_fired, 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.accepted().is_empty(),
        "nothing before the day ends"
    );
    clock.advance(Duration::from_millis(day));
    assert!(
        eventually(Duration::from_secs(5), || receiver
            .accepted_messages()
            .len()
            == 1)
        .await
    );
    let digest = &receiver.accepted_messages()[0];
    assert_eq!(digest["message_type"], "digest");
    assert_eq!(digest["message"]["count"], 3);
    assert_eq!(digest["message"]["top_actors"][0][0], "ip 192.0.2.60");
    assert_eq!(digest["message"]["top_actors"][0][1], 2);
    // another day without firings: no new digest
    clock.advance(Duration::from_millis(day));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.accepted_messages().len(), 1);
    assert_eq!(agent.stats().events.digests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_what_is_queued() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let path = file.clone();
    let agent = builder(&url)
        .configure(move |c| {
            c.webhook_events = WebhookEvents::All;
            c.events_path = Some(path);
        })
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.70".parse().unwrap());
    for i in 0..500 {
        agent.track_for(&ip, "api.call", json!({ "i": i }));
    }
    let left = agent.shutdown(Duration::from_secs(10));
    assert_eq!(left, 0);
    assert_eq!(receiver.accepted_messages().len(), 500);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fired_playbook_reaches_slack_readably() {
    let (slack, url) = Receiver::start(vec![]).await;
    let agent = Agent::builder()
        .configure(move |c| c.slack_webhook_url = Some(url))
        .playbook(csrf_playbook(Frequency::Immediately).notify(Notification {
            slack: true,
            ..Notification::default()
        }))
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.80".parse().unwrap());
    agent.track_for(&ip, "csrf_request", Value::Null);
    agent.track_for(&ip, "csrf_request", Value::Null);
    assert!(eventually(Duration::from_secs(5), || !slack.accepted().is_empty()).await);
    let request = &slack.accepted()[0];
    assert!(request.headers.get("x-sqreen-integrity").is_none());
    let text = request.json().to_string();
    for expected in ["CSRF abuse", "192.0.2.80", "10m", "block"] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert!(!text.contains("http"), "link-free: {text}");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.slack_sent
            == 1)
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_recorded_as_denied_events() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let path = file.clone();
    let agent = Agent::builder()
        .configure(move |c| c.events_path = Some(path))
        .rules_json(
            r#"{"ip_denylist": ["203.0.113.0/24"], "user_denylist": ["mallory@example.com"]}"#,
        )
        .build()
        .unwrap();
    let router = app().route(
        "/me",
        get(|| async {
            sqreen::identify(sqreen::UserKeys::new().with("email", "mallory@example.com"));
            "hi"
        }),
    );
    let base = serve_router(router.layer(agent.layer())).await;
    let blocked = client()
        .get(&base)
        .header("x-forwarded-for", "203.0.113.5")
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);
    let me = client()
        .get(format!("{base}/me"))
        .header("x-forwarded-for", "192.0.2.90")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 403);
    assert_eq!(agent.shutdown(Duration::from_secs(5)), 0);
    let events: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["name"], "app.sqreen.ip.denied");
    assert_eq!(events[0]["client_ip"], "203.0.113.5");
    assert_eq!(events[0]["properties"]["action"], "block");
    assert_eq!(events[0]["request"]["path"], "/");
    assert_eq!(events[1]["name"], "app.sqreen.user.denied");
    assert_eq!(events[1]["user"]["email"], "mallory@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_and_json_body_parameters_are_reported_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let path = file.clone();
    let agent = Agent::builder()
        .configure(move |c| c.events_path = Some(path))
        .build()
        .unwrap();
    let router = app()
        .route(
            "/login",
            post(|body: String| async move {
                let user = body
                    .split('&')
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("user=");
                sqreen::auth_track(false, sqreen::UserKeys::new().with("username", user));
                "no"
            }),
        )
        .route(
            "/api",
            post(|| async {
                sqreen::track("api.called", Value::Null);
                "ok"
            }),
        );
    let base = serve_router(router.layer(agent.layer())).await;
    client()
        .post(format!("{base}/login"))
        .header("x-forwarded-for", "192.0.2.91")
        .form(&[("user", "alice"), ("password", "hunter2-secret")])
        .send()
        .await
        .unwrap();
    client()
        .post(format!("{base}/api"))
        .header("x-forwarded-for", "192.0.2.91")
        .json(&json!({"q": "shoes", "api_key": "k-secret", "card": "4111 1111 1111 1111"}))
        .send()
        .await
        .unwrap();
    assert_eq!(agent.shutdown(Duration::from_secs(5)), 0);
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in ["hunter2-secret", "k-secret", "4111 1111 1111 1111"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let login = &events[0];
    assert_eq!(login["name"], "app.sqreen.auth.login_failure");
    assert_eq!(login["request"]["parameters"]["form"]["user"], "alice");
    assert_eq!(
        login["request"]["parameters"]["form"]["password"],
        "<Redacted by sqreen>"
    );
    let api = &events[1];
    assert_eq!(api["request"]["parameters"]["json"]["q"], "shoes");
    assert_eq!(
        api["request"]["parameters"]["json"]["api_key"],
        "<Redacted by sqreen>"
    );
    assert_eq!(
        api["request"]["parameters"]["json"]["card"],
        "<Redacted by sqreen>"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_file_follows_log_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let rotated = dir.path().join("events.jsonl.1");
    let path = file.clone();
    let agent = Agent::builder()
        .configure(move |c| c.events_path = Some(path))
        .build()
        .unwrap();
    let names = |path: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["name"].to_string())
            .collect()
    };
    let ip = Actor::ip("192.0.2.90".parse().unwrap());
    for _ in 0..3 {
        agent.track_for(&ip, "before.rotation", Value::Null);
    }
    assert!(eventually(Duration::from_secs(5), || names(&file).len() == 3).await);
    // logrotate renames the file away
    std::fs::rename(&file, &rotated).unwrap();
    for _ in 0..2 {
        agent.track_for(&ip, "after.rotation", Value::Null);
    }
    assert!(
        eventually(Duration::from_secs(5), || names(&file).len() == 2).await,
        "no new file at the path; the renamed one has {:?}",
        names(&rotated)
    );
    assert_eq!(names(&rotated), vec!["\"before.rotation\""; 3]);
    assert_eq!(names(&file), vec!["\"after.rotation\""; 2]);
    let stats = agent.stats().events;
    assert_eq!((stats.written, stats.file_errors), (5, 0));
}
