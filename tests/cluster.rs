//! Cluster mode over real servers: several agents (replicas), each serving the app on its own
//! loopback port, sharing one real `redis-server` that the test starts on a free port and
//! stops. Redis killed, restarted, silent; namespaces; bad URLs.

mod common;

use std::time::{Duration, Instant};

use common::redis::{free_port, RedisServer, SilentServer};
use common::{client, serve};
use serde_json::Value;
use sqreen::cluster::ClusterState;
use sqreen::{Agent, AgentBuilder};

const TOKEN: &str = "admin-token-for-tests-0123456789";

/// A replica: an agent on `url` with the admin API, serving the test app.
async fn replica(
    url: &str,
    configure: impl FnOnce(AgentBuilder) -> AgentBuilder,
) -> (Agent, String) {
    let agent = configure(Agent::builder().redis(url).admin_token(TOKEN))
        .build()
        .unwrap();
    let base = serve(&agent).await;
    (agent, base)
}

async fn status_from(base: &str, ip: &str) -> u16 {
    client()
        .get(format!("{base}/"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn health(base: &str) -> Value {
    client()
        .get(format!("{base}/_sqreen/health"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (up to `limit`) until `base` answers `want` to a request from `ip`; returns how long.
async fn until_status(base: &str, ip: &str, want: u16, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if status_from(base, ip).await == want {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

async fn until_state(agent: &Agent, want: ClusterState, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if agent.stats().cluster.state == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_block_on_one_replica_holds_on_the_others_within_250_ms_and_so_does_its_removal() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(replica(&redis.url(), |b| b).await);
    }
    for (agent, _) in &replicas {
        assert!(until_state(agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    let (_, base1) = &replicas[0];
    let (agent3, base3) = &replicas[2];
    assert_eq!(status_from(base3, "203.0.113.7").await, 200);

    let answer = client()
        .post(format!("{base1}/_sqreen/actions"))
        .bearer_auth(TOKEN)
        .body(r#"{"actor":{"ip":"203.0.113.0/24"},"action":"block","duration":"1h"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let posted = Instant::now();
    let id: u64 = answer.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let took = until_status(base3, "203.0.113.7", 403, Duration::from_secs(2))
        .await
        .expect("replica 3 never blocked the network");
    println!("block reached replica 3 in {took:?}");
    assert!(took <= Duration::from_millis(250), "{took:?}");
    for (_, base) in &replicas {
        until_status(base, "203.0.113.99", 403, Duration::from_secs(2))
            .await
            .expect("a replica never blocked the network");
        assert!(
            posted.elapsed() <= Duration::from_millis(250),
            "{:?}",
            posted.elapsed()
        );
        assert_eq!(status_from(base, "198.51.100.1").await, 200);
    }
    // replica 3 lists it under an id of its own, with its expiry
    let listed = agent3.actions();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].actor.to_string(), "ip 203.0.113.0/24");
    assert!(listed[0].until.is_some());

    let removed = client()
        .delete(format!("{base1}/_sqreen/actions/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let removed_at = Instant::now();
    let took = until_status(base3, "203.0.113.7", 200, Duration::from_secs(2))
        .await
        .expect("replica 3 never lifted the block");
    println!("removal reached replica 3 in {took:?}");
    assert!(took <= Duration::from_millis(250), "{took:?}");
    for (_, base) in &replicas {
        until_status(base, "203.0.113.99", 200, Duration::from_secs(2))
            .await
            .expect("a replica never lifted the block");
    }
    assert!(
        removed_at.elapsed() <= Duration::from_millis(250),
        "{:?}",
        removed_at.elapsed()
    );
    for (agent, _) in &replicas {
        let stats = agent.stats().cluster;
        assert_eq!(stats.bad_entries, 0);
        assert_eq!(stats.changes_dropped, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_starts_later_loads_the_actions_in_force_and_runtime_calls_are_shared() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (first, _) = replica(&redis.url(), |b| b).await;
    assert!(until_state(&first, ClusterState::Connected, Duration::from_secs(5)).await);
    first
        .block_ip(
            "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
            Some(Duration::from_secs(600)),
        )
        .unwrap();
    first.block_user("mallory", None).unwrap();
    let expired = first
        .block_ip(
            "198.51.100.0/24".parse::<ipnet::IpNet>().unwrap(),
            Some(Duration::from_millis(300)),
        )
        .unwrap();
    let _ = expired;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (late, base) = replica(&redis.url(), |b| b).await;
    // its first requests may come before its first sync: wait for the connection
    assert!(until_state(&late, ClusterState::Connected, Duration::from_secs(5)).await);
    assert_eq!(status_from(&base, "192.0.2.10").await, 403);
    assert_eq!(
        status_from(&base, "198.51.100.10").await,
        200,
        "the expired one is not loaded"
    );
    let users: Vec<String> = late.actions().iter().map(|a| a.actor.to_string()).collect();
    assert!(users.contains(&"user mallory".to_owned()), "{users:?}");
    assert_eq!(late.actions().len(), 2);

    // and an unblock on the late one lifts it on the first
    assert!(late.unblock_user("mallory"));
    let start = Instant::now();
    while first
        .actions()
        .iter()
        .any(|a| a.actor.to_string() == "user mallory")
    {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "the unblock never reached the first"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_on_one_redis_do_not_see_each_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, _) = replica(&redis.url(), |b| b.cluster_namespace("shop")).await;
    let (b, base_b) = replica(&redis.url(), |b| b.cluster_namespace("blog")).await;
    let (c, base_c) = replica(&redis.url(), |b| b.cluster_namespace("shop")).await;
    for agent in [&a, &b, &c] {
        assert!(until_state(agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    a.block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    assert!(
        until_status(&base_c, "203.0.113.1", 403, Duration::from_secs(2))
            .await
            .is_some()
    );
    // give the other namespace several sync periods to (wrongly) see it
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status_from(&base_b, "203.0.113.1").await, 200);
    assert!(b.actions().is_empty());
    let keys = redis.command("KEYS *").unwrap();
    assert!(keys.contains("shop:actions"), "{keys}");
    assert!(!keys.contains("blog:actions\r\n"), "{keys}");
}

#[test]
fn a_malformed_url_is_an_error_naming_the_variable_without_the_password() {
    for bad in [
        "http://127.0.0.1:6379",
        "redis://:s3cret@127.0.0.1:notaport",
        "127.0.0.1:6379",
        "redis://",
    ] {
        let e =
            sqreen::Config::from_lookup(|k| Ok((k == "SQREEN_REDIS_URL").then(|| bad.to_owned())))
                .unwrap_err();
        assert_eq!(e.variable(), Some("SQREEN_REDIS_URL"), "{bad}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = Agent::builder().redis(bad).build().unwrap_err();
        assert_eq!(e.variable(), Some("redis"));
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
    for bad in ["", "a b", "x".repeat(65).as_str(), "ns{1}"] {
        let e = sqreen::Config::from_lookup(|k| {
            Ok((k == "SQREEN_CLUSTER_NAMESPACE").then(|| bad.to_owned()))
        })
        .unwrap_err();
        assert_eq!(e.variable(), Some("SQREEN_CLUSTER_NAMESPACE"), "{bad}");
    }
    for bad in ["0", "5", "60001", "soon"] {
        let e = sqreen::Config::from_lookup(|k| {
            Ok((k == "SQREEN_CLUSTER_SYNC_MS").then(|| bad.to_owned()))
        })
        .unwrap_err();
        assert_eq!(e.variable(), Some("SQREEN_CLUSTER_SYNC_MS"), "{bad}");
    }
    let e = Agent::builder()
        .redis("redis://127.0.0.1:6379")
        .cluster_sync(Duration::from_millis(1))
        .build()
        .unwrap_err();
    assert_eq!(e.variable(), Some("SQREEN_CLUSTER_SYNC_MS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_at_start_is_degraded_not_an_error_and_the_replica_catches_up() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let (alone, base) = replica(&url, |b| b).await;
    assert!(until_state(&alone, ClusterState::Degraded, Duration::from_secs(5)).await);
    let h = health(&base).await;
    assert_eq!(h["cluster"]["state"], "degraded", "{h}");
    assert_eq!(h["cluster"]["last_error"], "connection refused", "{h}");
    // it works alone meanwhile
    alone
        .block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    assert_eq!(status_from(&base, "203.0.113.5").await, 403);
    assert_eq!(status_from(&base, "192.0.2.5").await, 200);

    // Redis comes up where it was expected: the block made meanwhile reaches a new replica
    let Some(_redis) = RedisServer::start_on(port) else {
        return;
    };
    assert!(until_state(&alone, ClusterState::Connected, Duration::from_secs(10)).await);
    let (_other, other_base) = replica(&url, |b| b).await;
    assert!(
        until_status(&other_base, "203.0.113.5", 403, Duration::from_secs(5))
            .await
            .is_some()
    );
    assert!(alone.stats().cluster.sync_failures > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_fails_no_request_and_reconciles_when_it_returns() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let port = redis.port;
    let (a, base_a) = replica(&redis.url(), |b| b).await;
    let (b, base_b) = replica(&redis.url(), |b| b).await;
    for agent in [&a, &b] {
        assert!(until_state(agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    a.block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    assert!(
        until_status(&base_b, "203.0.113.9", 403, Duration::from_secs(2))
            .await
            .is_some()
    );

    // load on both replicas while Redis dies
    let load = |base: String| {
        tokio::spawn(async move {
            let (mut ok, mut blocked, mut failed) = (0u32, 0u32, 0u32);
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(1_500) {
                for ip in ["192.0.2.1", "203.0.113.9"] {
                    match client()
                        .get(format!("{base}/"))
                        .header("x-forwarded-for", ip)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => ok += 1,
                        Ok(r) if r.status() == 403 => blocked += 1,
                        _ => failed += 1,
                    }
                }
            }
            (ok, blocked, failed)
        })
    };
    let runs = [load(base_a.clone()), load(base_b.clone())];
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.kill();
    for run in runs {
        let (ok, blocked, failed) = run.await.unwrap();
        assert_eq!(failed, 0);
        assert!(ok > 10 && blocked > 10, "{ok} {blocked}");
        assert_eq!(
            ok, blocked,
            "every request from the blocked network was blocked"
        );
    }
    for (agent, base) in [(&a, &base_a), (&b, &base_b)] {
        assert!(until_state(agent, ClusterState::Degraded, Duration::from_secs(5)).await);
        assert_eq!(health(base).await["cluster"]["state"], "degraded");
        assert_eq!(
            status_from(base, "203.0.113.9").await,
            403,
            "still enforced locally"
        );
    }
    // while Redis is away, b blocks a user and lifts the network
    b.block_user("mallory", None).unwrap();
    assert!(b.unblock_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap()));

    let Some(_back) = RedisServer::start_on(port) else {
        return;
    };
    for agent in [&a, &b] {
        assert!(until_state(agent, ClusterState::Connected, Duration::from_secs(10)).await);
    }
    // the restarted Redis was empty: b's changes reached it, and a got them
    let start = Instant::now();
    while !a
        .actions()
        .iter()
        .any(|x| x.actor.to_string() == "user mallory")
    {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the user block never reached a"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // a new push reaches every replica
    a.block_ip("198.51.100.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    assert!(
        until_status(&base_b, "198.51.100.3", 403, Duration::from_secs(2))
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_is_not_noticed_by_the_request_path() {
    let silent = SilentServer::start();
    let (agent, base) = replica(&silent.url(), |b| b).await;
    agent
        .block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)
        .unwrap();
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..200 {
        let t = Instant::now();
        let ip = if i % 2 == 0 {
            "192.0.2.1"
        } else {
            "203.0.113.1"
        };
        let want = if i % 2 == 0 { 200 } else { 403 };
        assert_eq!(status_from(&base, ip).await, want);
        slowest = slowest.max(t.elapsed());
    }
    println!("200 requests in {:?}, slowest {slowest:?}", start.elapsed());
    assert!(slowest < Duration::from_millis(500), "{slowest:?}");
    // the connection attempt times out: degraded, said so
    assert!(until_state(&agent, ClusterState::Degraded, Duration::from_secs(5)).await);
    let h = health(&base).await;
    assert_eq!(h["cluster"]["last_error"], "timed out", "{h}");
}

/// A playbook: 8 failed logins by one IP within 10 minutes block it for an hour.
const LOGIN_RULES: &str = r#"{
  "playbooks": [ { "id": "login-brute-force", "trigger": { "event": "login.failed",
      "threshold": 8, "period": "10m", "actor": "ip" },
      "response": { "action": "block", "duration": "1h" } } ]
}"#;

/// A replica whose `/login` records `login.failed`, with what it announced.
struct Counting {
    agent: Agent,
    base: String,
    notified: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    triggered: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn counting_replica(url: &str, rules: &str) -> Counting {
    use axum::routing::post;
    let notified = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let triggered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (n, t) = (notified.clone(), triggered.clone());
    let agent = Agent::builder()
        .redis(url)
        .admin_token(TOKEN)
        .rules_json(rules)
        .notifier(move |p: &sqreen::notify::PlaybookNotification| {
            n.lock()
                .unwrap()
                .push(format!("{} {}", p.playbook_id, p.actor))
        })
        .event_sink(move |e: &sqreen::event::Event| {
            if e.name == "app.sqreen.playbook.triggered" {
                t.lock().unwrap().push(e.name.clone());
            }
        })
        .build()
        .unwrap();
    let app = common::app().route(
        "/login",
        post(|| async {
            sqreen::track("login.failed", serde_json::json!({}));
            "wrong password"
        }),
    );
    let base = common::serve_router(app.layer(agent.layer().axum())).await;
    Counting {
        agent,
        base,
        notified,
        triggered,
    }
}

async fn login_from(base: &str, ip: &str) -> u16 {
    client()
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threshold_reached_across_four_replicas_fires_once_and_blocks_on_all_within_two_periods()
{
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(counting_replica(&redis.url(), LOGIN_RULES).await);
    }
    for r in &replicas {
        assert!(until_state(&r.agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    let attacker = "203.0.113.50";
    // 2 failures per replica: no replica alone reaches 8
    for r in &replicas {
        for _ in 0..2 {
            assert_eq!(login_from(&r.base, attacker).await, 200);
        }
    }
    // "within two periods" is counted in the replicas' own sync rounds, not in wall-clock time
    // (a loaded machine stretches both alike): from the 8th failure, each replica blocks within
    // the round in progress and two more
    let last = Instant::now();
    let rounds_then: Vec<u64> = replicas
        .iter()
        .map(|r| r.agent.stats().cluster.syncs)
        .collect();
    for (r, then) in replicas.iter().zip(&rounds_then) {
        until_status(&r.base, attacker, 403, Duration::from_secs(3))
            .await
            .expect("a replica never blocked the attacker");
        let rounds = r.agent.stats().cluster.syncs - then;
        assert!(rounds <= 3, "blocked after {rounds} sync rounds");
    }
    let took = last.elapsed();
    println!("blocked on all four {took:?} after the 8th failure");
    // once: one notification, one event, cluster-wide (give late announcements time)
    tokio::time::sleep(Duration::from_millis(400)).await;
    let notified: Vec<String> = replicas
        .iter()
        .flat_map(|r| r.notified.lock().unwrap().clone())
        .collect();
    assert_eq!(notified, ["login-brute-force ip 203.0.113.50"]);
    let triggered: usize = replicas
        .iter()
        .map(|r| r.triggered.lock().unwrap().len())
        .sum();
    assert_eq!(triggered, 1);
    let fired: u64 = replicas
        .iter()
        .map(|r| r.agent.stats().playbooks_fired)
        .sum();
    assert_eq!(fired, 1);
    let announced: u64 = replicas
        .iter()
        .map(|r| r.agent.stats().cluster.firings_announced)
        .sum();
    assert_eq!(announced, 1);
    // another IP is untouched
    for r in &replicas {
        assert_eq!(status_from(&r.base, "203.0.113.51").await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_firing_is_announced_once_even_when_other_replicas_see_the_total_too() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = counting_replica(&redis.url(), LOGIN_RULES).await;
    let b = counting_replica(&redis.url(), LOGIN_RULES).await;
    for r in [&a, &b] {
        assert!(until_state(&r.agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    let attacker = "198.51.100.20";
    // b counts 3, then a alone reaches 8 locally (a request-path firing)
    for _ in 0..3 {
        login_from(&b.base, attacker).await;
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(login_from(&a.base, attacker).await);
    }
    // a fired on its own count at the latest at its 8th (the cluster total may do it sooner)
    assert_eq!(statuses.last(), Some(&403), "{statuses:?}");
    assert!(until_status(&b.base, attacker, 403, Duration::from_secs(2))
        .await
        .is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let notified = a.notified.lock().unwrap().len() + b.notified.lock().unwrap().len();
    assert_eq!(notified, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_keep_working_locally_while_redis_is_away_and_are_shared_when_it_returns() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let port = redis.port;
    let a = counting_replica(&redis.url(), LOGIN_RULES).await;
    let b = counting_replica(&redis.url(), LOGIN_RULES).await;
    for r in [&a, &b] {
        assert!(until_state(&r.agent, ClusterState::Connected, Duration::from_secs(5)).await);
    }
    redis.kill();
    assert!(until_state(&a.agent, ClusterState::Degraded, Duration::from_secs(5)).await);
    // alone, a still fires on its own count, and tells of it itself
    let local = "192.0.2.80";
    let mut last = 0;
    for _ in 0..8 {
        last = login_from(&a.base, local).await;
    }
    assert_eq!(last, 403);
    assert!(eventually_true(|| a.notified.lock().unwrap().len() == 1).await);
    // 5 + 3 failures of another IP while Redis is away: shared when it returns
    let spread = "192.0.2.81";
    for _ in 0..5 {
        login_from(&a.base, spread).await;
    }
    for _ in 0..3 {
        login_from(&b.base, spread).await;
    }
    assert_eq!(status_from(&a.base, spread).await, 200);
    let Some(_back) = RedisServer::start_on(port) else {
        return;
    };
    for r in [&a, &b] {
        until_status(&r.base, spread, 403, Duration::from_secs(10))
            .await
            .expect("the kept deltas never made the cluster fire");
    }
}

async fn eventually_true(f: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
