//! Profiling helper for the live-actors cost curve (`benches/curves.rs`, `live_actors/N`):
//! creates `N` windows (one per client IP, one playbook by IP), then records `K` events from
//! random actors among them in [`measured`], and prints the time per `track_for`.
//!
//! Run natively: `cargo run --release --example profile_actors -- 1000000 2000000`. Under
//! callgrind's cache simulation, counting only the measured part (the host's last-level cache
//! size given explicitly: a VM may report a wrong one):
//!
//! ```text
//! valgrind --tool=callgrind --cache-sim=yes --LL=33554432,16,64 --collect-atstart=no \
//!   --toggle-collect='profile_actors::measured' target/release/examples/profile_actors 1000000 200000
//! ```
//!
//! See `benches/README.md` ("curves") for what it showed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Actor, Agent};

fn client(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x6400_0000 + n))
}

/// `k` events from actors drawn by xorshift among the first `n`.
#[inline(never)]
fn measured(agent: &Agent, n: u32, k: u32) {
    let mut state = 0x9E37_79B9u32;
    for _ in 0..k {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        agent.track_for(&Actor::ip(client(state % n)), "api.call", Value::Null);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().as_deref().unwrap_or("1000000").parse()?;
    let k: u32 = args.next().as_deref().unwrap_or("2000000").parse()?;
    let n = n.max(1);
    let agent = Agent::builder()
        .configure(|c| c.max_actors = 2 * n as usize)
        .playbook(
            Playbook::on("api.call")
                .id("p0")
                .threshold(1_000_000)
                .within(Duration::from_secs(3600))
                .by(ActorKind::Ip)
                .respond(ResponseAction::block_for(Duration::from_secs(3600))),
        )
        .build()?;
    for i in 0..n {
        agent.track_for(&Actor::ip(client(i)), "api.call", Value::Null);
    }
    let start = Instant::now();
    measured(&agent, n, k);
    println!(
        "{n} live actors: {:.0} ns per track_for ({k} calls)",
        start.elapsed().as_nanos() as f64 / f64::from(k.max(1))
    );
    Ok(())
}
