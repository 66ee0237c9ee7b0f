//! Cluster mode's cost (issue: cluster mode), against a real `redis-server` this bench starts on
//! a free loopback port (skipped, with one line, when there is none):
//!
//! - before the criterion groups, measured runs: an agent counting `api.call` by IP for 10,000
//!   distinct IPs, in turn, for `CLUSTER_BENCH_SECONDS` (default 10) at a given event rate;
//!   printed: the Redis commands per second this replica caused (from `INFO commandstats`,
//!   the commands its Lua scripts run inside counted apart), the sync rounds, and Redis's
//!   memory per active actor (`used_memory` before and after, over the actors);
//! - `track_for/{local,cluster}`: `Agent::track_for` on one hot IP with one counting playbook,
//!   without and with cluster mode (the counted event also goes to the shared tally),
//!   alternating in one run.
//!
//! Run: `cargo bench --bench cluster`.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::Value;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Actor, Agent};

const ACTORS: u32 = 10_000;

#[path = "../tests/common/redis.rs"]
mod redis_server;
use redis_server::RedisServer;

/// `INFO <section>` as text.
fn info(port: u16, section: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("INFO {section}\r\n").as_bytes()).ok()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = s.read(&mut buf).ok()?;
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        // a bulk string: `$<len>\r\n<body>\r\n`
        if let Some((len, rest)) = text.strip_prefix('$').and_then(|t| t.split_once("\r\n")) {
            if rest.len() >= len.parse::<usize>().ok()? {
                return Some(rest.to_owned());
            }
        }
        if n == 0 {
            return None;
        }
    }
}

/// Calls per command (`cmdstat_<name>:calls=N,...`).
fn command_calls(port: u16) -> Vec<(String, u64)> {
    let text = info(port, "commandstats").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

fn used_memory(port: u16) -> u64 {
    info(port, "memory")
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("used_memory:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn agent(redis: Option<u16>, threshold: u32) -> Agent {
    let mut b = Agent::builder().playbook(
        Playbook::on("api.call")
            .id("hot")
            .threshold(threshold)
            .within(Duration::from_secs(600))
            .by(ActorKind::Ip)
            .respond(ResponseAction::block_for(Duration::from_secs(3600))),
    );
    if let Some(port) = redis {
        b = b.redis(&format!("redis://127.0.0.1:{port}"));
    }
    b.build().unwrap()
}

fn connected(agent: &Agent) {
    let start = Instant::now();
    while agent.stats().cluster.state != sqreen::cluster::ClusterState::Connected {
        assert!(start.elapsed() < Duration::from_secs(10), "never connected");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The measured run: 10,000 active IPs at `rate` events per second for `seconds`.
fn commands_at(port: u16, rate: u64, seconds: u64) {
    let agent = agent(Some(port), 1_000_000);
    connected(&agent);
    let memory_before = used_memory(port);
    let before = command_calls(port);
    let syncs_before = agent.stats().cluster.syncs;
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        // paced: `rate` a second, the actors in turn
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            let ip = IpAddr::V4(Ipv4Addr::from(
                0xC000_0000 + (sent % u64::from(ACTORS)) as u32,
            ));
            black_box(agent.track_for(&Actor::ip(ip), "api.call", Value::Null));
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = command_calls(port);
    let stats = agent.stats().cluster;
    let calls =
        |name: &str, v: &[(String, u64)]| v.iter().find(|(n, _)| n == name).map_or(0, |(_, c)| *c);
    let mut names: Vec<&String> = after.iter().map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    let mut client = 0.0;
    let mut inside = 0.0;
    let mut parts = Vec::new();
    for name in names {
        let n = (calls(name, &after) - calls(name, &before)) as f64 / elapsed;
        if n < 0.05 || name == "info" {
            continue;
        }
        // the Lua scripts' own commands (HINCRBY, PEXPIRE, HGETALL, HDEL, ZRANGEBYSCORE) run
        // inside one EVALSHA: counted apart
        if matches!(
            name.as_str(),
            "hincrby" | "pexpire" | "hgetall" | "hdel" | "zrangebyscore" | "zrem"
        ) {
            inside += n;
        } else {
            client += n;
        }
        parts.push(format!("{name} {n:.1}/s"));
    }
    let rounds = (stats.syncs - syncs_before) as f64 / elapsed;
    let memory = used_memory(port).saturating_sub(memory_before);
    println!(
        "cluster/commands: {ACTORS} active IPs, {rate} events/s for {elapsed:.0} s: \
         {client:.1} commands/s from this replica (+{inside:.0}/s inside its Lua scripts), \
         {rounds:.1} sync rounds/s, {} actors followed; {}; Redis memory {:.0} bytes per actor",
        stats.active_actors,
        parts.join(", "),
        memory as f64 / f64::from(ACTORS)
    );
}

fn bench_cluster(c: &mut Criterion) {
    let Some(redis) = RedisServer::start() else {
        return; // (the helper said why)
    };
    let port = redis.port;
    let seconds = std::env::var("CLUSTER_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    for rate in [20_000, 100_000] {
        commands_at(port, rate, seconds);
    }

    let local = agent(None, 1_000_000);
    let cluster = agent(Some(port), 1_000_000);
    connected(&cluster);
    let ip = Actor::ip("192.0.2.7".parse().unwrap());
    let mut group = c.benchmark_group("track_for");
    // alternating: criterion runs the functions one after the other; each is run twice
    for round in 0..2 {
        group.bench_function(format!("local/{round}"), |b| {
            b.iter(|| black_box(local.track_for(&ip, "api.call", Value::Null)))
        });
        group.bench_function(format!("cluster/{round}"), |b| {
            b.iter(|| black_box(cluster.track_for(&ip, "api.call", Value::Null)))
        });
    }
    group.finish();
    drop(redis);
}

criterion_group!(benches, bench_cluster);
criterion_main!(benches);
