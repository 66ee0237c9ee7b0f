//! The SDK's cost on the hot path: `Agent::track_for` on one hot actor, one playbook counting
//! the event (it never fires: threshold 1,000,000), the default event sink (events not built
//! unless debug logging is on). This is `track`'s work minus the task-local lookup: name and
//! properties checks, the spared-actor checks, the playbook index, and the counter record.
//!
//! Run: `cargo bench --bench track`.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::Value;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Actor, Agent};

fn agent(actor: ActorKind) -> Agent {
    Agent::builder()
        .playbook(
            Playbook::on("api.call")
                .id("hot")
                .threshold(1_000_000)
                .within(Duration::from_secs(3600))
                .by(actor)
                .respond(ResponseAction::block_for(Duration::from_secs(3600))),
        )
        .build()
        .unwrap()
}

fn bench_track(c: &mut Criterion) {
    let mut group = c.benchmark_group("track_for");
    let ip_agent = agent(ActorKind::Ip);
    let ip = Actor::ip("192.0.2.7".parse().unwrap());
    group.bench_function("hot_ip", |b| {
        b.iter(|| black_box(ip_agent.track_for(&ip, "api.call", Value::Null)))
    });
    let user_agent = agent(ActorKind::User);
    let user = Actor::User("alice@example.com".into());
    group.bench_function("hot_user", |b| {
        b.iter(|| black_box(user_agent.track_for(&user, "api.call", Value::Null)))
    });
    group.bench_function("unwatched_event", |b| {
        b.iter(|| black_box(ip_agent.track_for(&ip, "other.event", Value::Null)))
    });
    group.finish();
}

criterion_group!(benches, bench_track);
criterion_main!(benches);
