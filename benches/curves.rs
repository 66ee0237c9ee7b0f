//! Cost curves: what the layer adds to a request as the work it holds grows. Each point is the
//! layered service minus the bare one, timed in alternating chunks inside every sample (so the
//! machine's drift cancels), for:
//!
//! - `playbooks_same_event/N`: N playbooks all counting the event the handler tracks, with the
//!   same actor kind and period (one shared window per actor: the cost must not depend on N);
//! - `playbooks_other_events/N`: N playbooks on N different events, the handler tracking one of
//!   them (the per-request cost must not depend on N);
//! - `deny_cidrs/N`: a deny list of N CIDRs (/16, /24 and /32 in the same proportions);
//! - `live_actors/N`: N windows alive (one per client IP, created before timing), requests from
//!   random actors among them.
//!
//! The handler calls `sqreen::track` once per request in every group. In the playbook and deny-list
//! groups, requests come from 64 actors, and in every group no playbook may fire (checked after
//! each point). Run:
//! `cargo bench --bench curves` (setting up 1,000,000 CIDRs and 1,000,000 actors takes a few
//! seconds each).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use serde_json::Value;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Actor, Agent, AgentBuilder};
use tower::Layer;

#[path = "support/mod.rs"]
mod support;
use support::{added_time, Layered};

async fn bare(_req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = std::hint::black_box("api.call");
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

async fn tracking(_req: Request<Layered>) -> Result<Response<Full<Bytes>>, Infallible> {
    std::hint::black_box(sqreen::track("api.call", Value::Null));
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Client `n` (a public address, never denied: 100.0.0.0 upwards).
fn client(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x6400_0000 + n)
}

fn request(ip: Ipv4Addr) -> Request<Full<Bytes>> {
    let mut req = Request::get("/search?q=shoes")
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        )
        .header("x-forwarded-for", ip.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    req.extensions_mut()
        .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
    req
}

fn playbook(event: &str, i: usize) -> sqreen::playbook::PlaybookBuilder {
    Playbook::on(event)
        .id(&format!("p{i}"))
        .threshold(1_000_000)
        .within(Duration::from_secs(3600))
        .by(ActorKind::Ip)
        .respond(ResponseAction::block_for(Duration::from_secs(3600)))
}

/// Requests come from this many actors, so none of them gets near the threshold of 1,000,000
/// within the hour however fast the layer is ([`measure`] checks that nothing fired).
const SPREAD: u32 = 64;

fn measure(c: &mut Criterion, group: &str, points: Vec<(String, Agent)>, random_actor: u32) {
    let mut g = c.benchmark_group(group);
    g.sample_size(20);
    let mut plain = tower::service_fn(bare);
    for (name, agent) in points {
        let mut layered = agent.layer().layer(tower::service_fn(tracking));
        let name = name.as_str();
        let mut state = 0x9E37_79B9u32;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                added_time(
                    iters,
                    |_| {
                        // xorshift: a different actor each request when `random_actor` > 1
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        request(client(state % random_actor.max(1)))
                    },
                    &mut plain,
                    &mut layered,
                )
            })
        });
        // A firing would block the actor and the bench would time the block path instead.
        assert_eq!(
            agent.stats().playbooks_fired,
            0,
            "{group}/{name}: a playbook fired"
        );
    }
    g.finish();
}

fn with_playbooks(n: usize, same_event: bool) -> Agent {
    let mut b: AgentBuilder = Agent::builder();
    for i in 0..n {
        let event = if same_event || i == 0 {
            "api.call".to_owned()
        } else {
            format!("other.{i}")
        };
        b = b.playbook(playbook(&event, i));
    }
    b.build().unwrap()
}

fn bench_playbooks(c: &mut Criterion) {
    for (group, same) in [
        ("playbooks_same_event", true),
        ("playbooks_other_events", false),
    ] {
        let points: Vec<(String, Agent)> = [1, 10, 100, 1000]
            .into_iter()
            .map(|n| (n.to_string(), with_playbooks(n, same)))
            .collect();
        measure(c, group, points, SPREAD);
    }
}

/// `n` CIDRs in public space from 45.0.0.0 upwards, cycling through /24, /32 and /16.
fn deny_rules(n: u32) -> String {
    let nets: Vec<String> = (0..n)
        .map(|i| {
            let base = 0x2D00_0000u32 + i * 256;
            let a = Ipv4Addr::from(base);
            match i % 3 {
                0 => format!("\"{a}/24\""),
                1 => format!("\"{}/32\"", Ipv4Addr::from(base + 7)),
                _ => format!("\"{}/16\"", Ipv4Addr::from(base & 0xFFFF_0000)),
            }
        })
        .collect();
    format!("{{\"ip_denylist\": [{}]}}", nets.join(","))
}

fn bench_deny(c: &mut Criterion) {
    let points = [10u32, 1_000, 100_000, 1_000_000]
        .into_iter()
        .map(|n| {
            let agent = Agent::builder()
                .rules_json(&deny_rules(n))
                .playbook(playbook("api.call", 0))
                .build()
                .unwrap();
            (n.to_string(), agent)
        })
        .collect();
    measure(c, "deny_cidrs", points, SPREAD);
}

fn bench_actors(c: &mut Criterion) {
    for n in [1_000u32, 10_000, 100_000, 1_000_000] {
        let agent = Agent::builder()
            .configure(|c| c.max_actors = 2 * n as usize)
            .playbook(playbook("api.call", 0))
            .build()
            .unwrap();
        for i in 0..n {
            agent.track_for(&Actor::ip(IpAddr::V4(client(i))), "api.call", Value::Null);
        }
        assert_eq!(agent.stats().windows, u64::from(n));
        measure(c, "live_actors", vec![(n.to_string(), agent)], n);
    }
}

criterion_group!(benches, bench_playbooks, bench_deny, bench_actors);
criterion_main!(benches);
