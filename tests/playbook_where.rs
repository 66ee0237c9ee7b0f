//! Playbook triggers filtered on IP intelligence (`"where"`), over real HTTP: "3 signups from
//! Tor in 10 minutes" fires for a Tor exit only, a country filter for addresses the database
//! places there only, and a playbook without a filter on the same event still counts everyone
//! (filtered and unfiltered playbooks do not share counts).

mod common;
#[path = "support/mmdb.rs"]
mod mmdb;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use common::{client, eventually, serve_router};
use serde_json::Value;
use sqreen::event::Event;
use sqreen::Agent;

const TOR: &str = "198.51.100.66";
const RUSSIA: &str = "192.0.2.10";
const ELSEWHERE: &str = "203.0.113.9";
const TRIGGERED: &str = "app.sqreen.playbook.triggered";

const RULES: &str = r#"{
  "version": "where",
  "playbooks": [
    { "id": "signups-from-tor",
      "trigger": { "event": "user.signup", "threshold": 3, "period": "10m", "actor": "ip",
                   "where": { "is_tor": true } },
      "response": { "action": "none" } },
    { "id": "signups-from-watched-countries",
      "trigger": { "event": "user.signup", "threshold": 2, "period": "10m", "actor": "ip",
                   "where": { "country": ["ru", "KP"] } },
      "response": { "action": "none" } },
    { "id": "signups-not-from-datacenters",
      "trigger": { "event": "user.signup", "threshold": 3, "period": "10m", "actor": "ip",
                   "where": { "datacenter": false } },
      "response": { "action": "none" } },
    { "id": "all-signups",
      "trigger": { "event": "user.signup", "threshold": 3, "period": "10m", "actor": "ip" },
      "response": { "action": "none" } }
  ]
}"#;

fn signup_app() -> Router {
    Router::new().route(
        "/signup",
        post(|| async {
            sqreen::track("user.signup", Value::Null);
            "welcome"
        }),
    )
}

fn geo_database() -> Vec<u8> {
    use mmdb::city;
    mmdb::database(
        "sqreen-test-City",
        &[("192.0.2.0/25", city("RU", "Moscow", 55.75, 37.62))],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_where_filter_counts_only_the_events_of_matching_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let tor = dir.path().join("tor-exits.txt");
    std::fs::write(&tor, format!("# exits\n{TOR}\n")).unwrap();
    let geo = dir.path().join("city.mmdb");
    std::fs::write(&geo, geo_database()).unwrap();
    let datacenters = dir.path().join("datacenters.txt");
    std::fs::write(&datacenters, "203.0.113.0/24 example-cloud\n").unwrap();
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let sink = events.clone();
    let agent = Agent::builder()
        .rules_json(RULES)
        .tor_exit_list(&tor)
        .geoip_db(&geo)
        .datacenter_ranges(&datacenters)
        .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let app = signup_app();
    let base = serve_router(app.layer(agent.layer())).await;
    for ip in [TOR, RUSSIA, ELSEWHERE] {
        for _ in 0..3 {
            let res = client()
                .post(format!("{base}/signup"))
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    let fired = |ip: &str| -> Vec<String> {
        let mut ids: Vec<String> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == TRIGGERED && e.client_ip.is_some_and(|c| c.to_string() == ip))
            .map(|e| e.properties["playbook"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert!(
        eventually(Duration::from_secs(5), || fired(ELSEWHERE).len() == 1).await,
        "{:?}",
        fired(ELSEWHERE)
    );
    // the Tor exit: its own playbook, the unfiltered one, and not-from-datacenters (it is in
    // no range); the database does not place it, so not the country one
    assert_eq!(
        fired(TOR),
        [
            "all-signups",
            "signups-from-tor",
            "signups-not-from-datacenters"
        ]
    );
    // Moscow: the country playbook (at 2), the unfiltered one, not-from-datacenters
    assert_eq!(
        fired(RUSSIA),
        [
            "all-signups",
            "signups-from-watched-countries",
            "signups-not-from-datacenters"
        ]
    );
    // a datacenter address outside Tor and the watched countries: only the unfiltered one
    assert_eq!(fired(ELSEWHERE), ["all-signups"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_files_a_filtered_playbook_counts_nothing() {
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let sink = events.clone();
    let agent = Agent::builder()
        .rules_json(RULES)
        .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let app = signup_app();
    let base = serve_router(app.layer(agent.layer())).await;
    for _ in 0..3 {
        client()
            .post(format!("{base}/signup"))
            .header("x-forwarded-for", TOR)
            .send()
            .await
            .unwrap();
    }
    let triggered = || {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == TRIGGERED)
            .map(|e| e.properties["playbook"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(eventually(Duration::from_secs(5), || !triggered().is_empty()).await);
    // an unknown fact holds no condition, `false` included
    assert_eq!(triggered(), ["all-signups"]);
}

#[test]
fn bad_where_clauses_are_refused_with_their_place() {
    for (clause, place) in [
        (r#"{}"#, "playbooks[0].trigger.where"),
        (r#"{"country": []}"#, "playbooks[0].trigger.where.country"),
        (
            r#"{"country": ["RU", "RUS"]}"#,
            "playbooks[0].trigger.where.country[1]",
        ),
        (r#"{"is_tor": "yes"}"#, "playbooks[0].trigger.where.is_tor"),
        (r#"{"asn": 64500}"#, "playbooks[0].trigger.where"),
    ] {
        let doc = format!(
            r#"{{"playbooks": [{{"id": "p", "trigger": {{"event": "user.signup", "threshold": 3,
               "period": "10m", "actor": "ip", "where": {clause}}}, "response": {{"action": "none"}}}}]}}"#
        );
        let err = Agent::builder().rules_json(&doc).build().unwrap_err();
        assert_eq!(err.place(), Some(place), "{clause}: {err}");
    }
}
