//! Stopping the agent from async code never blocks the runtime's worker: on a current-thread
//! runtime that also serves the webhook receiver the events go to, `shutdown_async` and
//! dropping the last handle let the receiver answer while the events go out.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::eventually;
use common::receiver::Receiver;
use serde_json::json;
use sqreen::{Actor, Agent, WebhookEvents};

const EVENTS: usize = 100;

/// An agent sending every event to `url` and to `file`, with `EVENTS` events queued.
fn agent_with_queued_events(url: String, file: &Path) -> Agent {
    let path = file.to_owned();
    let agent = Agent::builder()
        .configure(move |c| {
            c.webhook_url = Some(url);
            c.webhook_events = WebhookEvents::All;
            c.events_path = Some(path);
        })
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.80".parse().unwrap());
    for i in 0..EVENTS {
        agent.track_for(&ip, "api.call", json!({ "i": i }));
    }
    agent
}

fn lines(file: &Path) -> usize {
    std::fs::read_to_string(file).map_or(0, |text| text.lines().count())
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_async_on_a_current_thread_runtime_delivers_the_queued_events() {
    // the receiver is served by this runtime's only thread
    let (receiver, url) = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let agent = agent_with_queued_events(url, &file);
    let left = agent.shutdown_async(Duration::from_secs(3)).await;
    assert_eq!(
        left, 0,
        "the receiver could not answer while shutdown waited"
    );
    assert_eq!(receiver.accepted_messages().len(), EVENTS);
    assert_eq!(lines(&file), EVENTS);
    // shut down: later events are dropped, and a second shutdown has nothing left to do
    agent.track_for(
        &Actor::ip("192.0.2.81".parse().unwrap()),
        "late",
        json!(null),
    );
    assert_eq!(agent.shutdown_async(Duration::from_secs(1)).await, 0);
    assert_eq!(lines(&file), EVENTS);
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_the_last_handle_on_a_runtime_worker_returns_at_once_and_still_delivers() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let agent = agent_with_queued_events(url, &file);
    let started = Instant::now();
    drop(agent);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the drop waited {took:?} on the runtime's worker"
    );
    assert!(
        eventually(Duration::from_secs(5), || receiver
            .accepted_messages()
            .len()
            == EVENTS)
        .await,
        "{} of {EVENTS} delivered",
        receiver.accepted_messages().len()
    );
    assert!(eventually(Duration::from_secs(5), || lines(&file) == EVENTS).await);
}

#[test]
fn dropping_the_last_handle_outside_a_runtime_flushes_before_returning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let path = file.clone();
    let agent = Agent::builder()
        .configure(move |c| c.events_path = Some(path))
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.82".parse().unwrap());
    for i in 0..EVENTS {
        agent.track_for(&ip, "api.call", json!({ "i": i }));
    }
    drop(agent);
    assert_eq!(lines(&file), EVENTS);
}
