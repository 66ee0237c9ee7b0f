//! Memory under a flood: 2,000,000 requests, each from a distinct client IP (behind a trusted
//! proxy) and a distinct user id, through the layer in-process, with a playbook on each actor
//! kind. Prints, every 200,000 requests, the process's resident memory and the counter windows
//! kept, for `SQREEN_MAX_ACTORS` 100,000 and 1,000,000 (each in a fresh child process, so one
//! run's freed memory does not hide the other's). Memory must plateau once the cap is reached.
//!
//! Run: `cargo bench --bench flood`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use serde_json::Value;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Agent, UserKeys};
use tower::Layer;

#[path = "support/mod.rs"]
mod support;
use support::{call, Layered};

const REQUESTS: u32 = 2_000_000;
const REPORT_EVERY: u32 = 200_000;

async fn handler(req: Request<Layered>) -> Result<Response<Full<Bytes>>, Infallible> {
    let user = req
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    sqreen::identify(UserKeys::new().with("id", user));
    sqreen::track("api.call", Value::Null);
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn playbook(actor: ActorKind) -> sqreen::playbook::PlaybookBuilder {
    Playbook::on("api.call")
        .id(&format!("flood-{actor}"))
        .threshold(10)
        .within(Duration::from_secs(3600))
        .by(actor)
        .respond(ResponseAction::block_for(Duration::from_secs(3600)))
}

fn flood(max_actors: usize) {
    let agent = Agent::builder()
        .configure(|c| c.max_actors = max_actors)
        .playbook(playbook(ActorKind::Ip))
        .playbook(playbook(ActorKind::User))
        .build()
        .unwrap();
    let mut service = agent.layer().layer(tower::service_fn(handler));
    let base = rss_kib();
    let mut peak = base;
    let start = Instant::now();
    println!("max_actors {max_actors}: baseline RSS {base} KiB");
    for i in 0..REQUESTS {
        // 11.0.0.0/8 upwards: public, so never spared as critical
        let client = Ipv4Addr::from(0x0B00_0000 + i);
        let mut req = Request::builder()
            .uri("/api")
            .header("x-forwarded-for", client.to_string())
            .header("x-user", format!("user-{i}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        req.extensions_mut()
            .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
        call(&mut service, req);
        if (i + 1) % REPORT_EVERY == 0 {
            let rss = rss_kib();
            peak = peak.max(rss);
            let stats = agent.stats();
            println!(
                "  {:>9} requests: RSS {:>8} KiB, windows {:>9}, evicted {:>9}",
                i + 1,
                rss,
                stats.windows,
                stats.actors_evicted
            );
        }
    }
    let stats = agent.stats();
    let grown = peak.saturating_sub(base) * 1024;
    println!(
        "max_actors {max_actors}: {REQUESTS} requests in {:.1} s; peak RSS {peak} KiB \
         ({} KiB above baseline); windows kept {} (cap {max_actors}); evicted {}; \
         {:.0} bytes of resident memory per window kept",
        start.elapsed().as_secs_f64(),
        grown / 1024,
        stats.windows,
        stats.actors_evicted,
        grown as f64 / stats.windows.max(1) as f64,
    );
    assert!(stats.windows as usize <= max_actors, "the cap holds");
}

fn main() {
    if let Ok(max) = std::env::var("SQREEN_FLOOD_MAX_ACTORS") {
        flood(max.parse().unwrap());
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and listing: nothing to run
    }
    for max in [100_000, 1_000_000] {
        let status = Command::new(std::env::current_exe().unwrap())
            .env("SQREEN_FLOOD_MAX_ACTORS", max.to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }
}
