//! An attacker who reads the source and adapts, over real HTTP: each test is a way around the
//! agent that once worked (durations that wrap, a panic placed beside an attack, ...), and shows
//! it no longer does.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use common::{client, serve_router};
use serde_json::{json, Value};
use sqreen::event::Event;
use sqreen::rules::RulesDocument;
use sqreen::rules::{Paranoia, WafMode};
use sqreen::{auth_track, track, Agent, AgentBuilder, AuthenticatedUser, UserKeys, UserMonitoring};

const TOKEN: &str = "admin-token-for-tests-0123456789";

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
        .route(
            "/export",
            post(|| async {
                track("data.exported", Value::Null);
                "exported"
            }),
        )
        .route(
            "/login",
            post(|| async {
                auth_track(false, UserKeys::new().with("username", "alice"));
                (StatusCode::UNAUTHORIZED, "wrong password")
            }),
        )
}

/// Four failed logins by one IP in ten minutes block that IP for an hour.
const BRUTE_FORCE: &str = r#"{ "playbooks": [
  { "id": "login-brute-force",
    "trigger": { "event": "app.sqreen.auth.login_failure", "threshold": 4, "period": "10m", "actor": "ip" },
    "response": { "action": "block", "duration": "1h" } } ] }"#;

/// A failed login as the client `ip`.
async fn login_as(base: &str, ip: &str) -> u16 {
    request(base, "POST", "/login", ip, None).await
}

async fn setup(configure: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String) {
    let agent = configure(Agent::builder().admin_token(TOKEN))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    (agent, base)
}

/// GET `/` as the client `ip`.
async fn get_as(base: &str, ip: &str) -> u16 {
    request(base, "GET", "/", ip, None).await
}

async fn post_action(base: &str, body: Value) -> (u16, Value) {
    let res = client()
        .post(format!("{base}/_sqreen/actions"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// `"duration": "18446744073709552s"` once made the expiry wrap into the past: 201, and the IP
/// was free again at once. Every duration over ten years is now a 400 naming the field; ten
/// years exactly still blocks.
#[tokio::test]
async fn an_overflowing_action_duration_is_refused_not_wrapped() {
    let (agent, base) = setup(|b| b).await;
    for duration in [
        "18446744073709552s",
        "18446744073709551615s",
        "213503982334602d",
        "3651d",
        "87601h",
    ] {
        let (status, body) = post_action(
            &base,
            json!({"actor": {"ip": "192.0.2.7"}, "action": "block", "duration": duration}),
        )
        .await;
        assert_eq!(status, 400, "{duration}: {body}");
        assert_eq!(body["field"], "duration", "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("at most 10 years"),
            "{body}"
        );
    }
    assert!(agent.actions().is_empty());
    assert_eq!(get_as(&base, "192.0.2.7").await, 200);

    let (status, body) = post_action(
        &base,
        json!({"actor": {"ip": "192.0.2.7"}, "action": "block", "duration": "3650d"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_as(&base, "192.0.2.7").await, 403);

    // the same limit in code: an error naming `duration`, nothing added
    let err = agent
        .block_ip(
            "192.0.2.8".parse::<std::net::IpAddr>().unwrap(),
            Some(Duration::MAX),
        )
        .unwrap_err();
    assert_eq!(err.variable(), Some("duration"));
    assert_eq!(agent.actions().len(), 1);
    assert_eq!(get_as(&base, "192.0.2.8").await, 200);
}

/// A value whose scheme part holds a multi-byte character (`htt€e://`) made the paranoia-2
/// off-site rule panic; the panic was caught and, failing open, the request went on
/// uninspected with the attack beside it. Now it is inspected, and nothing failed inside.
#[tokio::test]
async fn a_value_that_once_panicked_does_not_carry_an_attack_past_the_waf() {
    let (agent, base) = setup(|b| {
        b.waf_mode(WafMode::Block)
            .waf_paranoia(Paranoia::Level2)
            .configure(|c| c.waf_budget = Duration::from_secs(1))
    })
    .await;
    for scheme in ["htt€e", "url€", "ur€l:http"] {
        // the odd value first (keys in order: serde_json's map is sorted)
        let body = json!({
            "a": format!("{scheme}://foo.test/"),
            "z": "1' UNION SELECT password FROM users --",
        });
        let res = client()
            .post(format!("{base}/echo"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{scheme}");
    }
    assert_eq!(agent.stats().internal_failures, 0);
}

/// An IPv6 client holds a whole /64: four failed logins from four of its addresses once never
/// reached a threshold of four, and a block held one address only. Now they are one actor.
#[tokio::test]
async fn four_addresses_of_one_ipv6_64_fire_an_ip_playbook_and_the_block_covers_the_64() {
    let (agent, base) = setup(|b| b.rules(RulesDocument::parse(BRUTE_FORCE).unwrap())).await;
    // the fourth failure fires the playbook, and its own request is blocked
    for (i, status) in [(1, 401), (2, 401), (3, 401), (4, 403)] {
        let ip = format!("2001:db8:77:1::{i:x}");
        assert_eq!(login_as(&base, &ip).await, status, "{ip}");
    }
    // the fifth address of that /64 is blocked, another /64 and IPv4 are not
    assert_eq!(get_as(&base, "2001:db8:77:1:ffff::9").await, 403);
    assert_eq!(get_as(&base, "2001:db8:77:2::1").await, 200);
    assert_eq!(get_as(&base, "192.0.2.1").await, 200);
    let actions = agent.actions();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].actor.to_string(), "ip 2001:db8:77:1::/64");

    // a runtime block on one IPv6 address covers its /64, and lifting it by any address of
    // that /64 lifts it
    agent
        .block_ip("2001:db8:99::5".parse::<std::net::IpAddr>().unwrap(), None)
        .unwrap();
    assert_eq!(get_as(&base, "2001:db8:99::abcd").await, 403);
    assert!(agent.unblock_ip("2001:db8:99::1".parse::<std::net::IpAddr>().unwrap()));
    assert_eq!(get_as(&base, "2001:db8:99::abcd").await, 200);

    // IPv4 stays per address: four addresses of one /24 are four actors
    for i in 1..=4 {
        assert_eq!(login_as(&base, &format!("198.51.100.{i}")).await, 401);
    }
    assert_eq!(get_as(&base, "198.51.100.1").await, 200);
}

/// `SQREEN_IPV6_ACTOR_PREFIX` (here the rules document's `ipv6_actor_prefix`) sets the prefix:
/// at 128, IPv6 addresses are actors of their own, as IPv4 ones.
#[tokio::test]
async fn the_ipv6_actor_prefix_is_a_setting() {
    let doc = BRUTE_FORCE.replacen('{', r#"{ "ipv6_actor_prefix": 128,"#, 1);
    let (_agent, base) = setup(|b| b.rules(RulesDocument::parse(&doc).unwrap())).await;
    for i in 1..=4 {
        assert_eq!(login_as(&base, &format!("2001:db8:77:1::{i:x}")).await, 401);
    }
    assert_eq!(get_as(&base, "2001:db8:77:1::1").await, 200);
    let (_agent, base) = setup(|b| {
        b.rules(RulesDocument::parse(BRUTE_FORCE).unwrap())
            .configure(|c| c.ipv6_actor_prefix = 48)
    })
    .await;
    for (i, status) in [(1, 401), (2, 401), (3, 401), (4, 403)] {
        let ip = format!("2001:db8:77:{i:x}::1");
        assert_eq!(login_as(&base, &ip).await, status, "{ip}");
    }
    assert_eq!(get_as(&base, "2001:db8:77:ffff::1").await, 403);
}

fn basic(user: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    format!("Basic {}", b64.encode(format!("{user}:any-password")))
}

/// A bearer JWT nobody signed: `alg: none`, claims as given.
fn unsigned_jwt(sub: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "Bearer {}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(json!({ "sub": sub }).to_string())
    )
}

/// Denied networks, pass-listed users, and three exports by one user block that user.
const TRUST: &str = r#"{
  "ip_denylist": ["192.0.2.0/24"],
  "user_passlist": ["vip@example.com", "admin"],
  "user_denylist": ["mallory"],
  "playbooks": [
    { "id": "export-flood",
      "trigger": { "event": "data.exported", "threshold": 3, "period": "10m", "actor": "user" },
      "response": { "action": "block", "duration": "1h" } } ] }"#;

/// A request as the client `ip` (the test client is a trusted proxy: loopback), with an
/// `Authorization` header if given; its status.
async fn request(base: &str, method: &str, path: &str, ip: &str, auth: Option<&str>) -> u16 {
    let mut req = client()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .header("x-forwarded-for", ip);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    req.send().await.unwrap().status().as_u16()
}

/// With automatic user monitoring, a client on a denied network once got through by sending
/// Basic credentials or an unsigned JWT naming a pass-listed user: an unverified name lifted
/// the IP deny. Claimed users are counted and blocked, but never trusted.
#[tokio::test]
async fn forged_credentials_naming_a_passlisted_user_lift_nothing() {
    let (agent, base) = setup(|b| {
        b.rules(RulesDocument::parse(TRUST).unwrap())
            .user_monitoring(UserMonitoring::Automatic)
    })
    .await;
    agent
        .block_ip("198.51.100.9".parse::<std::net::IpAddr>().unwrap(), None)
        .unwrap();
    let forged = [
        basic("admin"),
        basic("vip@example.com"),
        unsigned_jwt("vip@example.com"),
        unsigned_jwt("admin"),
    ];
    for auth in &forged {
        // neither the deny list nor a runtime action on the IP is lifted
        assert_eq!(
            request(&base, "GET", "/", "192.0.2.9", Some(auth)).await,
            403,
            "{auth}"
        );
        assert_eq!(
            request(&base, "GET", "/", "198.51.100.9", Some(auth)).await,
            403,
            "{auth}"
        );
        // and an ordinary client with them is served
        assert_eq!(
            request(&base, "GET", "/", "203.0.113.5", Some(auth)).await,
            200,
            "{auth}"
        );
    }
    // a claimed user on the deny list is blocked
    for auth in [basic("mallory"), unsigned_jwt("mallory")] {
        assert_eq!(
            request(&base, "GET", "/", "203.0.113.5", Some(&auth)).await,
            403
        );
    }
    // a claimed user is counted, also one naming a pass-listed user, and blocked at three
    let auth = basic("vip@example.com");
    for status in [200, 200, 403] {
        assert_eq!(
            request(&base, "POST", "/export", "203.0.113.6", Some(&auth)).await,
            status
        );
    }
    assert_eq!(
        request(&base, "GET", "/", "203.0.113.7", Some(&auth)).await,
        403
    );
}

/// The trust a pass list grants still comes from users the app names: the builder's resolver,
/// the `AuthenticatedUser` extension its middleware sets, `identify` and `auth_track`.
#[tokio::test]
async fn users_the_app_names_still_lift_an_ip_deny() {
    let agent = Agent::builder()
        .rules(RulesDocument::parse(TRUST).unwrap())
        .user_monitoring(UserMonitoring::Automatic)
        .build()
        .unwrap();
    // the app's authentication middleware vouches for the user in `x-verified-user`
    let router = app().layer(agent.layer()).layer(axum::middleware::from_fn(
        |mut req: axum::extract::Request, next: axum::middleware::Next| async move {
            if let Some(user) = req.headers().get("x-verified-user").cloned() {
                let keys = UserKeys::new().with("email", user.to_str().unwrap());
                req.extensions_mut().insert(AuthenticatedUser(keys));
            }
            next.run(req).await
        },
    ));
    let base = serve_router(router).await;
    let res = client()
        .get(format!("{base}/"))
        .header("x-forwarded-for", "192.0.2.9")
        .header("x-verified-user", "vip@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // the real pass-listed user is not caught by blocks a forger earned under its name
    let auth = basic("vip@example.com");
    for _ in 0..3 {
        request(&base, "POST", "/export", "203.0.113.6", Some(&auth)).await;
    }
    assert_eq!(
        request(&base, "GET", "/", "203.0.113.6", Some(&auth)).await,
        403
    );
    let res = client()
        .get(format!("{base}/"))
        .header("x-forwarded-for", "203.0.113.8")
        .header("x-verified-user", "vip@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

/// Runtime actions are bounded (`SQREEN_MAX_ACTIONS`): pushing past the cap drops expired
/// actions first, then the oldest, and counts the evictions in the metrics.
#[tokio::test]
async fn the_action_store_is_capped_and_evicts_the_oldest() {
    let (agent, base) = setup(|b| b.configure(|c| c.max_actions = 3)).await;
    for (ip, duration) in [
        ("192.0.2.1", "1h"),
        ("192.0.2.2", "permanent"),
        ("192.0.2.3", "1h"),
        ("192.0.2.4", "1h"),
    ] {
        let (status, body) = post_action(
            &base,
            json!({"actor": {"ip": ip}, "action": "block", "duration": duration}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(agent.actions().len(), 3);
    assert_eq!(
        get_as(&base, "192.0.2.1").await,
        200,
        "the oldest was evicted"
    );
    for ip in ["192.0.2.2", "192.0.2.3", "192.0.2.4"] {
        assert_eq!(get_as(&base, ip).await, 403, "{ip}");
    }
    assert_eq!(agent.stats().actions_evicted, 1);
    let metrics = client()
        .get(format!("{base}/_sqreen/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("\nsqreen_actions_evicted_total 1\n"),
        "{metrics}"
    );
    // a flood of playbook-sized writes stays within the cap
    for i in 0..500u32 {
        let ip = std::net::Ipv4Addr::from(0xc633_6400 + i); // 198.51.100.0 onwards
        agent
            .block_ip(std::net::IpAddr::V4(ip), Some(Duration::from_secs(60)))
            .unwrap();
    }
    assert_eq!(agent.action_store().len(), 3);
    assert_eq!(agent.stats().actions_evicted, 501);
}

/// Near-attack padding no detector flags: quotes, tags, dots, `$(`, `;`.
const PAD_UNIT: &str = "' or <a on=../;|${ $( ";
const ATTACK: &str = "1' UNION SELECT password FROM users --";

/// An agent in block mode whose time budget is spent at once (as on a busy machine, or behind
/// enough padding), with the given rules.
async fn busy_block_mode(rules: &str) -> (Agent, String) {
    let rules = rules.to_owned();
    setup(move |b| {
        b.waf_mode(WafMode::Block)
            .rules_json(&rules)
            .configure(|c| c.waf_budget = Duration::from_micros(1))
    })
    .await
}

/// The request `carrier` with the padding first and the attack after it, within the body limit
/// (`SQREEN_MAX_BODY_BYTES`, 64 KiB).
fn padded(base: &str, carrier: &str) -> reqwest::RequestBuilder {
    let pad = PAD_UNIT.repeat(30_000 / PAD_UNIT.len());
    let c = client();
    match carrier {
        "json string" => c
            .post(format!("{base}/echo"))
            .json(&json!({ "a": pad, "b": ATTACK })),
        "json list" => {
            // distinct strings: the WAF remembers values it found clean, and does not time those
            let list: Vec<String> = (0..2_000).map(|i| format!("{i}{PAD_UNIT}")).collect();
            c.post(format!("{base}/echo"))
                .json(&json!({ "a": list, "b": ATTACK }))
        }
        "form" => {
            let mut form: Vec<(String, &str)> =
                (0..900).map(|i| (format!("p{i}"), PAD_UNIT)).collect();
            form.push(("q".into(), ATTACK));
            c.post(format!("{base}/echo")).form(&form)
        }
        "query" => {
            let q: Vec<(String, &str)> = (0..300).map(|i| (format!("p{i}"), PAD_UNIT)).collect();
            let mut url = reqwest::Url::parse(&format!("{base}/")).unwrap();
            url.query_pairs_mut()
                .extend_pairs(q)
                .append_pair("q", ATTACK);
            c.get(url)
        }
        "headers" => {
            let mut req = c.get(format!("{base}/"));
            for i in 0..60 {
                req = req.header(format!("x-pad-{i}"), format!("{i}{}", PAD_UNIT.repeat(20)));
            }
            req.header("x-search", ATTACK)
        }
        "multipart" => {
            let mut form = reqwest::multipart::Form::new();
            for i in 0..200 {
                form = form.text(format!("p{i}"), PAD_UNIT.repeat(5));
            }
            c.post(format!("{base}/echo"))
                .multipart(form.text("q", ATTACK))
        }
        other => panic!("{other}"),
    }
}

const CARRIERS: [&str; 6] = [
    "json string",
    "json list",
    "form",
    "query",
    "headers",
    "multipart",
];

/// Padding a request past the WAF's time budget once let the attack after the padding through
/// uninspected (200). In block mode every byte is now read whatever the clock says: 403 in every
/// carrier, the overrun counted and recorded with the whole request inspected.
#[tokio::test]
async fn padding_past_the_time_budget_no_longer_carries_an_attack_through() {
    let (agent, base) = busy_block_mode("{}").await;
    for carrier in CARRIERS {
        let res = padded(&base, carrier).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 403, "{carrier}");
    }
    let stats = agent.stats();
    assert_eq!(
        stats.waf.budget_overruns,
        CARRIERS.len() as u64,
        "{:?}",
        stats.waf
    );
    assert_eq!(stats.waf.blocked, CARRIERS.len() as u64);
    assert_eq!(stats.internal_failures, 0);
}

/// `waf.on_budget_exceeded: "pass"` restores the cut-off, a trade of protection for latency the
/// rules document states: the same padded requests then go through.
#[tokio::test]
async fn on_budget_exceeded_pass_trades_protection_for_latency() {
    let (agent, base) = busy_block_mode(r#"{"waf": {"on_budget_exceeded": "pass"}}"#).await;
    for carrier in CARRIERS {
        let res = padded(&base, carrier).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{carrier}");
    }
    assert_eq!(agent.stats().waf.budget_overruns, CARRIERS.len() as u64);
    assert_eq!(agent.stats().waf.blocked, 0);
}

/// 64 KiB of worst-case near-attacks in block mode: read whole (the event says so), and the
/// attack in its last bytes is found.
#[tokio::test]
async fn a_64k_body_of_near_attacks_is_inspected_whole() {
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    let (_agent, base) = setup(move |b| {
        b.waf_mode(WafMode::Block)
            .configure(|c| c.waf_budget = Duration::from_micros(50))
            .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
    })
    .await;
    let tail = format!(r#"","z":"{ATTACK}"}}"#);
    let room = 65_536 - tail.len() - r#"{"a":""#.len();
    let pad = PAD_UNIT.repeat(room / PAD_UNIT.len() + 1)[..room].to_owned();
    let body = format!(r#"{{"a":"{pad}{tail}"#);
    assert_eq!(body.len(), 65_536);
    let res = client()
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let events = seen.lock().unwrap();
    let exceeded: Vec<&Event> = events
        .iter()
        .filter(|e| e.name == "app.sqreen.waf.budget_exceeded")
        .collect();
    assert_eq!(exceeded.len(), 1, "{events:?}");
    assert_eq!(exceeded[0].properties["inspected"], 1.0);
    assert_eq!(exceeded[0].properties["on_budget_exceeded"], "inspect");
    assert!(events.iter().any(|e| e.name == "app.sqreen.attack.sqli"));
}

/// Notifications as a notifier saw them: the playbook id and the thread it ran on.
type Notified = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct SlowNotifier(Notified);

impl sqreen::notify::Notifier for SlowNotifier {
    fn notify(&self, n: &sqreen::notify::PlaybookNotification) {
        std::thread::sleep(Duration::from_millis(300));
        let thread = std::thread::current().name().map(str::to_owned);
        self.0.lock().unwrap().push((n.playbook_id.clone(), thread));
    }
}

/// The notifier (here a slow one; the default one writes a log line) never runs on the request
/// thread: the request that fires the playbook is answered without waiting for it.
#[tokio::test]
async fn the_notifier_runs_on_its_own_thread() {
    let notified: Notified = Arc::default();
    let (_agent, base) = setup(|b| {
        b.rules(RulesDocument::parse(BRUTE_FORCE).unwrap())
            .notifier(SlowNotifier(notified.clone()))
    })
    .await;
    let started = std::time::Instant::now();
    for status in [401, 401, 401, 403] {
        assert_eq!(login_as(&base, "198.51.100.20").await, status);
    }
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the firing request waited for the notifier: {:?}",
        started.elapsed()
    );
    assert!(
        common::eventually(Duration::from_secs(5), || notified.lock().unwrap().len()
            == 1)
        .await
    );
    let seen = notified.lock().unwrap().clone();
    assert_eq!(seen[0].0, "login-brute-force");
    assert_eq!(seen[0].1.as_deref(), Some("sqreen-notify"));
}

/// A panic injected into the agent's work on a request (the application's event sink panics
/// on every event) leaves nothing half done: every failure is still counted, the playbook fires
/// once at its threshold, its block is in force and its notification goes out; the panics are
/// counted as internal failures and the application keeps being served.
#[tokio::test]
async fn a_panicking_event_sink_leaves_no_state_half_updated() {
    let notified: Notified = Arc::default();
    let (agent, base) = setup(|b| {
        b.rules(RulesDocument::parse(BRUTE_FORCE).unwrap())
            .event_sink(|_: &Event| panic!("injected: the event sink fails"))
            .notifier(SlowNotifier(notified.clone()))
    })
    .await;
    for status in [401, 401, 401, 403] {
        assert_eq!(login_as(&base, "198.51.100.30").await, status);
    }
    assert_eq!(
        get_as(&base, "198.51.100.30").await,
        403,
        "the block is in force"
    );
    assert_eq!(get_as(&base, "198.51.100.31").await, 200);
    let stats = agent.stats();
    assert_eq!(stats.playbooks_fired, 1);
    assert_eq!(agent.actions().len(), 1);
    assert!(stats.internal_failures >= 4, "{stats:?}");
    assert!(
        common::eventually(Duration::from_secs(5), || notified.lock().unwrap().len()
            == 1)
        .await
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

async fn post_encoded(base: &str, encoding: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let res = client()
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .header("content-encoding", encoding)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

/// A compressed body once went past the WAF unread (it inspected the compressed bytes); an
/// app that decompresses inside the layer then saw the attack. Bodies are now decoded
/// (bounded) for inspection and handed on as they came; a decompression bomb (413) and an
/// encoding the WAF cannot read (415) are refused in block mode.
#[tokio::test]
async fn compressed_bodies_are_inspected_decoded_and_bombs_refused() {
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    let (agent, base) = setup(move |b| {
        b.waf_mode(WafMode::Block)
            .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
    })
    .await;
    let attack = json!({ "q": ATTACK }).to_string();
    for encoding in ["gzip", "x-gzip"] {
        let (status, _) = post_encoded(&base, encoding, gzip(attack.as_bytes())).await;
        assert_eq!(status, 403, "{encoding}");
    }
    // a clean compressed body reaches the handler byte for byte as sent
    let clean = gzip(br#"{"q": "hello"}"#);
    assert_eq!(
        post_encoded(&base, "gzip", clean.clone()).await,
        (200, clean)
    );
    // 1 MiB of zeros in about 1 KiB
    let bomb = gzip(&vec![0u8; 1 << 20]);
    assert_eq!(post_encoded(&base, "gzip", bomb).await.0, 413);
    assert_eq!(
        post_encoded(&base, "zstd", attack.into_bytes()).await.0,
        415
    );
    let refused: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name == "app.sqreen.waf.body_refused")
        .map(|e| e.properties["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(refused, ["decompression_bomb", "unsupported_encoding"]);
    assert_eq!(agent.stats().internal_failures, 0);
}

/// A JSON body past `SQREEN_MAX_BODY_BYTES` whose attack comes after the limit: by default its
/// first bytes are inspected and it goes through, recorded and counted (the documented trade);
/// with `waf.on_body_over_limit: "refuse"` in block mode it is refused (413) before the handler.
#[tokio::test]
async fn a_body_over_the_limit_is_recorded_and_refused_when_the_rules_say_so() {
    let padded = |attack_first: bool| {
        let pad = "lorem ipsum dolor sit amet ".repeat(3_000); // ~81 KB
        let attack = "1' UNION SELECT password FROM users --";
        // (keys in the order written: `json!` would sort them)
        if attack_first {
            format!(r#"{{"q": "{attack}", "pad": "{pad}"}}"#)
        } else {
            format!(r#"{{"pad": "{pad}", "q": "{attack}"}}"#)
        }
    };
    let post = |base: String, body: String| async move {
        client()
            .post(format!("{base}/echo"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let (agent, base) = setup(|b| {
        b.waf_mode(WafMode::Block)
            .event_sink(move |e: &Event| sink.lock().unwrap().push(e.name.clone()))
    })
    .await;
    assert_eq!(post(base.clone(), padded(true)).await, 403, "in the prefix");
    assert_eq!(
        post(base.clone(), padded(false)).await,
        200,
        "past the limit"
    );
    assert_eq!(agent.stats().waf.bodies_over_limit, 2);
    let over = events
        .lock()
        .unwrap()
        .iter()
        .filter(|n| *n == "app.sqreen.waf.body_over_limit")
        .count();
    assert_eq!(over, 2);

    let rules = r#"{"waf": {"mode": "block", "on_body_over_limit": "refuse"}}"#;
    let (_agent, base) = setup(|b| b.rules_json(rules)).await;
    assert_eq!(post(base.clone(), padded(false)).await, 413);
    assert_eq!(
        post(base.clone(), json!({"q": "hello"}).to_string()).await,
        200
    );
    // monitor mode never refuses
    let rules = r#"{"waf": {"mode": "monitor", "on_body_over_limit": "refuse"}}"#;
    let (_agent, base) = setup(|b| b.rules_json(rules)).await;
    assert_eq!(post(base, padded(false)).await, 200);
    assert!(
        RulesDocument::parse(r#"{"waf": {"on_body_over_limit": "drop"}}"#)
            .unwrap_err()
            .to_string()
            .contains("waf.on_body_over_limit")
    );
}
