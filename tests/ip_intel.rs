//! IP intelligence from local files on real requests: an axum app with the layer on 127.0.0.1,
//! clients named by `X-Forwarded-For` (the peer is a trusted loopback proxy), and the events the
//! agent builds for them.

mod common;
#[path = "support/mmdb.rs"]
mod mmdb;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use common::{client, eventually, serve_router};
use serde_json::Value;
use sqreen::event::Event;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{Agent, AgentBuilder};

const TOR: &str = "192.0.2.66";
const NOT_TOR: &str = "192.0.2.67";

#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Event>>>);

impl Events {
    /// The `ip_meta` of the events named `name` from `ip`, as JSON.
    fn ip_meta(&self, name: &str, ip: &str) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == name && e.client_ip.is_some_and(|c| c.to_string() == ip))
            .map(|e| serde_json::to_value(e).unwrap()["ip_meta"].clone())
            .collect()
    }
}

fn builder(events: &Events) -> AgentBuilder {
    let sink = events.clone();
    Agent::builder()
        .rules_poll_interval(Duration::from_millis(20))
        .event_sink(move |e: &Event| sink.0.lock().unwrap().push(e.clone()))
        .playbook(
            Playbook::on("user.signup")
                .id("signups")
                .threshold(1)
                .within(Duration::from_secs(60))
                .by(ActorKind::Ip)
                .respond(ResponseAction::none()),
        )
}

fn app() -> Router {
    Router::new().route("/", get(|| async { "hello" })).route(
        "/signup",
        post(|| async {
            sqreen::track("user.signup", Value::Null);
            "welcome"
        }),
    )
}

async fn requests(base: &str, ip: &str) {
    let c = client();
    let attack = c
        .get(format!("{base}/?q=<script>alert(1)</script>"))
        .header("x-forwarded-for", ip);
    assert_eq!(attack.send().await.unwrap().status(), 200, "monitor mode");
    let signup = c
        .post(format!("{base}/signup"))
        .header("x-forwarded-for", ip);
    assert_eq!(signup.send().await.unwrap().status(), 200);
}

fn write(path: &Path, text: &str) {
    // replaced as deployment tools do: a new file renamed over the old one
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

const ATTACK: &str = "app.sqreen.attack.xss";
const PLAYBOOK: &str = "app.sqreen.playbook.triggered";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tor_exits_are_marked_on_attack_and_playbook_events() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tor-exits.txt");
    write(&list, &format!("# Tor exits\n{TOR}\n2001:db8::66 # v6\n"));
    let events = Events::default();
    let agent = builder(&events).tor_exit_list(&list).build().unwrap();
    assert_eq!(agent.stats().ip_lists.tor_exits, 2);
    let base = serve_router(app().layer(agent.layer())).await;
    requests(&base, TOR).await;
    requests(&base, NOT_TOR).await;
    for name in [ATTACK, "user.signup", PLAYBOOK] {
        let tor = events.ip_meta(name, TOR);
        let not_tor = events.ip_meta(name, NOT_TOR);
        assert_eq!(tor.len(), 1, "{name}: {tor:?}");
        assert_eq!(tor[0]["is_tor"], true, "{name}: {tor:?}");
        assert_eq!(not_tor.len(), 1, "{name}: {not_tor:?}");
        assert_eq!(not_tor[0]["is_tor"], false, "{name}: {not_tor:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_list_the_field_is_absent() {
    let events = Events::default();
    let agent = builder(&events).build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    requests(&base, TOR).await;
    for name in [ATTACK, PLAYBOOK] {
        let meta = events.ip_meta(name, TOR);
        assert_eq!(meta.len(), 1, "{name}");
        assert_eq!(meta[0]["address"], TOR);
        for field in ["is_tor", "datacenter", "provider"] {
            assert!(meta[0].get(field).is_none(), "{field}: {meta:?}");
        }
    }
    assert_eq!(agent.stats().ip_lists, Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_replaced_while_running_is_picked_up_and_a_bad_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tor-exits.txt");
    write(&list, &format!("{NOT_TOR}\n"));
    let events = Events::default();
    let agent = builder(&events).tor_exit_list(&list).build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    requests(&base, TOR).await;
    assert_eq!(events.ip_meta(ATTACK, TOR)[0]["is_tor"], false);

    write(&list, &format!("# updated\n{TOR}\n{NOT_TOR}\n"));
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.reloads
            == 1)
        .await
    );
    assert_eq!(agent.stats().ip_lists.tor_exits, 2);
    requests(&base, TOR).await;
    assert_eq!(events.ip_meta(ATTACK, TOR)[1]["is_tor"], true);

    // a bad version is refused: the list in force stays
    write(&list, &format!("{TOR}\nthis is not an address\n"));
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.rejected
            == 1)
        .await
    );
    let stats = agent.stats().ip_lists;
    assert_eq!((stats.tor_exits, stats.reloads), (2, 1));
    requests(&base, NOT_TOR).await;
    assert_eq!(events.ip_meta(ATTACK, NOT_TOR)[0]["is_tor"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datacenter_ranges_mark_events_with_their_provider() {
    let dir = tempfile::tempdir().unwrap();
    let ranges = dir.path().join("datacenters.txt");
    write(
        &ranges,
        "# clouds\n192.0.2.0/25 aws\n192.0.2.64/28\n2001:db8::/32 Google Cloud\n",
    );
    let events = Events::default();
    let agent = builder(&events).datacenter_ranges(&ranges).build().unwrap();
    assert_eq!(agent.stats().ip_lists.datacenter_ranges, 3);
    let base = serve_router(app().layer(agent.layer())).await;
    for (ip, datacenter, provider) in [
        ("192.0.2.10", true, Some("aws")),
        // the longest prefix wins: the /28 names no provider
        (TOR, true, None),
        ("2001:db8::5", true, Some("Google Cloud")),
        ("198.51.100.1", false, None),
    ] {
        requests(&base, ip).await;
        for name in [ATTACK, PLAYBOOK] {
            let meta = &events.ip_meta(name, ip)[0];
            assert_eq!(meta["datacenter"], datacenter, "{ip} {name}: {meta}");
            assert_eq!(meta["provider"].as_str(), provider, "{ip} {name}: {meta}");
            assert!(meta.get("is_tor").is_none(), "no Tor list: {meta}");
        }
    }

    // replaced: picked up; a bad version: refused, the ranges in force stay
    write(&ranges, "198.51.100.0/24 azure\n");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.reloads
            == 1)
        .await
    );
    write(&ranges, "198.51.100.0/24 azure\n198.51.100.0/40 broken\n");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.rejected
            == 1)
        .await
    );
    requests(&base, "198.51.100.1").await;
    let meta = &events.ip_meta(ATTACK, "198.51.100.1")[1];
    assert_eq!(
        (&meta["datacenter"], &meta["provider"]),
        (&Value::from(true), &Value::from("azure"))
    );
    assert_eq!(agent.stats().ip_lists.datacenter_ranges, 1);
}

fn geo_database(moscow: &str) -> Vec<u8> {
    use mmdb::{city, map, s, Value};
    mmdb::database(
        "sqreen-test-City",
        &[
            ("192.0.2.0/25", city("RU", moscow, 55.75, 37.62)),
            // IPinfo's shape: codes and AS as strings at the top level
            (
                "2001:db8::/32",
                map(&[("country_code", s("DE")), ("asn", s("AS3320"))]),
            ),
            (
                "203.0.113.0/24",
                map(&[("autonomous_system_number", Value::U32(64_501))]),
            ),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maxmind_database_fills_geo_and_asn_and_a_corrupt_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.mmdb");
    std::fs::write(&db, geo_database("Moscow")).unwrap();
    let events = Events::default();
    let agent = builder(&events).geoip_db(&db).build().unwrap();
    assert!(agent.stats().ip_lists.geoip_nodes > 0);
    let base = serve_router(app().layer(agent.layer())).await;
    requests(&base, TOR).await;
    requests(&base, "2001:db8::5").await;
    requests(&base, "203.0.113.7").await;
    requests(&base, "198.51.100.1").await;
    for name in [ATTACK, PLAYBOOK] {
        let moscow = &events.ip_meta(name, TOR)[0];
        assert_eq!(
            moscow["geo"],
            serde_json::json!({"code": "RU", "city": "Moscow", "point": [37.62, 55.75]}),
            "{name}: {moscow}"
        );
        assert_eq!(moscow["asn"], 64_500);
        let v6 = &events.ip_meta(name, "2001:db8::5")[0];
        assert_eq!(v6["geo"], serde_json::json!({"code": "DE"}), "{v6}");
        assert_eq!(v6["asn"], 3320);
        let asn_only = &events.ip_meta(name, "203.0.113.7")[0];
        assert!(asn_only.get("geo").is_none(), "{asn_only}");
        assert_eq!(asn_only["asn"], 64_501);
        let unknown = &events.ip_meta(name, "198.51.100.1")[0];
        assert!(
            unknown.get("geo").is_none() && unknown.get("asn").is_none(),
            "{unknown}"
        );
        assert!(unknown.get("is_tor").is_none() && unknown.get("datacenter").is_none());
    }

    // a corrupt version is refused and the database in force stays; a good one is picked up
    let mut corrupt = geo_database("Moskva");
    corrupt.truncate(corrupt.len() / 2);
    write_bytes(&db, &corrupt);
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.rejected
            == 1)
        .await
    );
    requests(&base, TOR).await;
    assert_eq!(events.ip_meta(ATTACK, TOR)[1]["geo"]["city"], "Moscow");
    write_bytes(&db, &geo_database("Moskva"));
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().ip_lists.reloads
            == 1)
        .await
    );
    requests(&base, TOR).await;
    assert_eq!(events.ip_meta(ATTACK, TOR)[2]["geo"]["city"], "Moskva");

    // and at start-up, a corrupt database is an error naming the variable: here its metadata
    // is sound but the root of its search tree points past the data section
    let mut corrupt = geo_database("Moscow");
    corrupt[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    write_bytes(&db, &corrupt);
    let err = Agent::builder().geoip_db(&db).build().unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_GEOIP_DB"));
    assert!(err.to_string().contains("MaxMind DB"), "{err}");
}

fn write_bytes(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_bad_or_missing_list_is_a_start_up_error_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "185.220.101.1\n185.220.101.0/24\n").unwrap();
    let missing = dir.path().join("missing.txt");
    for (path, reason) in [(&bad, "line 2: "), (&missing, "cannot open")] {
        let err = Agent::builder().tor_exit_list(path).build().unwrap_err();
        assert_eq!(err.variable(), Some("SQREEN_TOR_EXIT_LIST"));
        let shown = err.to_string();
        assert!(shown.contains(reason), "{shown}");
        assert!(shown.contains(&path.display().to_string()), "{shown}");
    }
    std::fs::write(&bad, "3.5.140.0/22 aws\nnot a range\n").unwrap();
    let err = Agent::builder()
        .datacenter_ranges(&bad)
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_DATACENTER_RANGES"));
    assert!(err.to_string().contains("line 2: "), "{err}");
}
