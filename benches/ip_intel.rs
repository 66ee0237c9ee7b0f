//! IP intelligence lookups and what they add to building an event.
//!
//! - `tor/{hit,miss}`: one lookup in a Tor exit list of 2,000 addresses (the size of the
//!   published bulk exit list) and of 100,000, parsed with the agent's own parser
//!   (`sqreen::intel::parse_tor_exit_list`): what `ip_meta.is_tor` costs besides one `ArcSwap`
//!   load.
//! - `datacenter/{hit,miss}`: one longest-prefix lookup in datacenter ranges shaped like the
//!   published cloud lists (10,000 IPv4 networks of lengths /12 to /28 and 2,000 IPv6 of /32 to
//!   /64, a provider each), with `sqreen::intel::parse_datacenter_ranges`: what
//!   `ip_meta.datacenter` and `provider` cost besides one `ArcSwap` load.
//! - `event/{without,tor_list}`: one `track_for` by an IP actor whose event goes to a sink that
//!   keeps nothing, on an agent without and with a Tor list of 2,000, both measured in the same
//!   alternating chunks of 256 calls (each bench reports its side), so drift falls on both.
//!
//! Run: `cargo bench --bench ip_intel`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::Value;
use sqreen::event::Event;
use sqreen::{Actor, Agent};

/// `n` distinct addresses in 10.0.0.0/8 and 2001:db8::/32, a tenth of them IPv6.
fn exit_list(n: u32) -> String {
    (0..n)
        .map(|i| {
            if i % 10 == 9 {
                format!("2001:db8::{:x}:{:x}\n", i >> 16, i & 0xffff)
            } else {
                format!("{}\n", Ipv4Addr::from(0x0a00_0000 + i * 7))
            }
        })
        .collect()
}

fn lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("ip_intel/tor");
    for n in [2_000, 100_000] {
        let set = sqreen::intel::parse_tor_exit_list(&exit_list(n)).unwrap();
        let hit = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 7 * 7));
        let miss = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert!(set.contains(hit) && !set.contains(miss));
        g.bench_function(format!("hit_{n}"), |b| {
            b.iter(|| set.contains(black_box(hit)))
        });
        g.bench_function(format!("miss_{n}"), |b| {
            b.iter(|| set.contains(black_box(miss)))
        });
    }
    g.finish();
}

/// Cloud-like ranges: many prefix lengths, which is what a longest-prefix lookup pays for.
fn datacenter_ranges() -> String {
    let mut text = String::new();
    for i in 0..10_000u32 {
        let len = 12 + i % 17;
        let net = Ipv4Addr::from(0x2000_0000u32.wrapping_add(i.wrapping_mul(0x0001_3579)));
        let provider = ["aws", "gcp", "azure", "oracle"][(i % 4) as usize];
        text.push_str(&format!("{net}/{len} {provider}\n"));
    }
    for i in 0..2_000u32 {
        let len = 32 + (i % 33);
        text.push_str(&format!("2600:{:x}:{:x}::/{len} aws\n", i % 0xffff, i * 3));
    }
    text
}

fn datacenter(c: &mut Criterion) {
    let map = sqreen::intel::parse_datacenter_ranges(&datacenter_ranges()).unwrap();
    let hit = map
        .iter()
        .find(|(net, _)| net.prefix_len() == 28)
        .map(|(net, _)| net.addr())
        .unwrap();
    let miss = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    assert!(map.longest_match(hit).is_some() && map.longest_match(miss).is_none());
    let mut g = c.benchmark_group("ip_intel/datacenter");
    g.bench_function("hit", |b| {
        b.iter(|| map.longest_match(black_box(hit)).map(|(_, p)| p.clone()))
    });
    g.bench_function("miss", |b| {
        b.iter(|| map.longest_match(black_box(miss)).is_some())
    });
    g.finish();
}

fn agent(list: Option<&std::path::Path>) -> Agent {
    let mut b = Agent::builder().event_sink(|e: &Event| {
        black_box(e);
    });
    if let Some(path) = list {
        b = b.tor_exit_list(path);
    }
    b.build().unwrap()
}

fn events(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tor.txt");
    std::fs::write(&path, exit_list(2_000)).unwrap();
    let (without, with) = (agent(None), agent(Some(&path)));
    let actor = Actor::ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)));
    let track = |a: &Agent| a.track_for(&actor, "bench.event", Value::Null);
    // both agents in alternating chunks of 256 calls, whichever side is reported, so that
    // machine drift falls on both sides alike
    let alternating = |iters: u64, report_with: bool| {
        const CHUNK: u64 = 256;
        let (mut t_without, mut t_with) = (Duration::ZERO, Duration::ZERO);
        let mut done = 0;
        while done < iters {
            let n = CHUNK.min(iters - done);
            let start = Instant::now();
            for _ in 0..n {
                track(&without);
            }
            t_without += start.elapsed();
            let start = Instant::now();
            for _ in 0..n {
                track(&with);
            }
            t_with += start.elapsed();
            done += n;
        }
        if report_with {
            t_with
        } else {
            t_without
        }
    };
    let mut g = c.benchmark_group("ip_intel/event");
    g.bench_function("without", |b| b.iter_custom(|n| alternating(n, false)));
    g.bench_function("tor_list", |b| b.iter_custom(|n| alternating(n, true)));
    g.finish();
}

criterion_group!(benches, lookups, datacenter, events);
criterion_main!(benches);
