//! Playbooks over real HTTP: an axum app shaped like the quickstart, the layer, a real client.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use common::{client, eventually, get_with, serve_router};
use serde_json::{json, Value};
use sqreen::event::Event;
use sqreen::notify::PlaybookNotification;
use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
use sqreen::{auth_track, identify, track, Agent, AgentBuilder, ManualClock, UserKeys, Verdict};

const RULES: &str = r#"{
  "redirect_passlist": ["/blocked"],
  "playbooks": [
    { "id": "invite-flood", "trigger": { "event": "user.invited", "threshold": 3, "period": "5m", "actor": "user" },
      "response": { "action": "block", "duration": "1h" } },
    { "id": "login-brute-force", "trigger": { "event": "app.sqreen.auth.login_failure", "threshold": 3, "period": "10m", "actor": "ip" },
      "response": { "action": "redirect", "url": "/blocked", "duration": "24h" } }
  ]
}"#;

#[derive(serde::Deserialize)]
struct Login {
    user: String,
    password: String,
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/blocked", get(|| async { "blocked page" }))
        .route(
            "/invite",
            post(|headers: HeaderMap| async move {
                let user = headers["x-user"].to_str().unwrap().to_owned();
                if identify(UserKeys::new().with("email", &user)).is_blocked() {
                    return (StatusCode::OK, "identify said blocked".to_owned());
                }
                let verdict = track("user.invited", json!({ "plan": "free" }));
                (StatusCode::OK, format!("{user} invited ({verdict:?})"))
            }),
        )
        .route(
            "/login",
            post(|Form(form): Form<Login>| async move {
                let ok = form.password == "secret";
                auth_track(ok, UserKeys::new().with("username", &form.user));
                if ok {
                    (StatusCode::OK, "welcome")
                } else {
                    (StatusCode::UNAUTHORIZED, "wrong password")
                }
            }),
        )
        .route(
            "/track",
            post(|body: String| async move {
                let verdict = track(&body, Value::Null);
                format!("{verdict:?}")
            }),
        )
}

async fn invite(base: &str, user: &str, ip: &str) -> (u16, String) {
    let res = client()
        .post(format!("{base}/invite"))
        .header("x-user", user)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn login_fail(base: &str, ip: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .form(&[("user", "bob"), ("password", "nope")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn third_invite_is_blocked_on_that_very_response_and_other_users_are_not() {
    let notes = Arc::new(Mutex::new(Vec::<PlaybookNotification>::new()));
    let sink = notes.clone();
    let agent = Agent::builder()
        .rules_json(RULES)
        .notifier(move |n: &PlaybookNotification| sink.lock().unwrap().push(n.clone()))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let ip = "192.0.2.10";
    assert_eq!(invite(&base, "alice@example.com", ip).await.0, 200);
    assert_eq!(invite(&base, "alice@example.com", ip).await.0, 200);
    let (status, body) = invite(&base, "alice@example.com", ip).await;
    assert_eq!(status, 403, "the third invite is blocked on this response");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["errors"][0]["title"], "You've been blocked");
    // later requests of the user are blocked through identify
    assert_eq!(invite(&base, "alice@example.com", ip).await.0, 403);
    // another user from the same IP is not
    let (status, body) = invite(&base, "carol@example.com", ip).await;
    assert_eq!((status, body.contains("Proceed")), (200, true), "{body}");

    assert_eq!(agent.stats().playbooks_fired, 1);
    // the notifier runs on its own thread
    assert!(eventually(Duration::from_secs(5), || !notes.lock().unwrap().is_empty()).await);
    let notes = notes.lock().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].playbook_id, "invite-flood");
    assert_eq!(notes[0].actor, "user alice@example.com");
    assert_eq!(notes[0].action, "block for 1h");
    let action = &agent.actions()[0];
    assert_eq!(
        action.source,
        sqreen::action::ActionSource::Playbook("invite-flood".into())
    );
}

#[tokio::test]
async fn login_failures_from_one_ip_redirect_and_the_target_is_served() {
    let agent = Agent::builder().rules_json(RULES).build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let ip = "192.0.2.20";
    assert_eq!(login_fail(&base, ip).await.status(), 401);
    assert_eq!(login_fail(&base, ip).await.status(), 401);
    let third = login_fail(&base, ip).await;
    assert_eq!(
        third.status(),
        303,
        "redirected on the very response that fired"
    );
    assert_eq!(third.headers()["location"], "/blocked");
    // every later request from the IP is redirected before the handler...
    let res = client()
        .get(&base)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // ...but the target itself is served
    let (status, body) = get_with(&format!("{base}/blocked"), &[("x-forwarded-for", ip)]).await;
    assert_eq!((status, body.as_str()), (200, "blocked page"));
    // another IP is untouched
    assert_eq!(login_fail(&base, "192.0.2.21").await.status(), 401);
    assert_eq!(agent.stats().playbooks_fired, 1);
    assert_eq!(agent.stats().redirected, 2);
}

#[tokio::test]
async fn a_critical_ip_is_never_acted_on_unless_configured() {
    for (block_critical, expect_fired) in [(false, 0), (true, 1)] {
        let config = sqreen::Config::from_lookup(|k| {
            Ok((k == "SQREEN_PLAYBOOKS_BLOCK_CRITICAL_IPS").then(|| block_critical.to_string()))
        })
        .unwrap();
        let agent = AgentBuilder::from_config(config)
            .rules_json(RULES)
            .build()
            .unwrap();
        let base = serve_router(app().layer(agent.layer())).await;
        for _ in 0..5 {
            let _ = login_fail(&base, "10.1.2.3").await; // private: critical
        }
        assert_eq!(
            agent.stats().playbooks_fired,
            expect_fired,
            "block_critical={block_critical}"
        );
        let (status, _) = get_with(&base, &[("x-forwarded-for", "10.1.2.3")]).await;
        assert_eq!(status, if block_critical { 303 } else { 200 });
    }
}

#[tokio::test]
async fn a_timed_playbook_block_ends_on_the_manual_clock() {
    let clock = ManualClock::new(1_800_000_000_000);
    let agent = Agent::builder()
        .clock(clock.clone())
        .playbook(
            Playbook::on("csrf_request")
                .id("csrf")
                .threshold(2)
                .within(Duration::from_secs(600))
                .by(ActorKind::Ip)
                .respond(ResponseAction::block_for(Duration::from_secs(3600))),
        )
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let ip = [("x-forwarded-for", "192.0.2.30")];
    let track_csrf = || async {
        client()
            .post(format!("{base}/track"))
            .header("x-forwarded-for", "192.0.2.30")
            .body("csrf_request")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(track_csrf().await, 200);
    assert_eq!(track_csrf().await, 403);
    assert_eq!(get_with(&base, &ip).await.0, 403);
    clock.advance(Duration::from_secs(3599));
    assert_eq!(get_with(&base, &ip).await.0, 403);
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        get_with(&base, &ip).await.0,
        200,
        "the block ended after 1 h"
    );
    // the window counts afresh: two new events fire again
    assert_eq!(track_csrf().await, 200);
    assert_eq!(track_csrf().await, 403);
    assert_eq!(agent.stats().playbooks_fired, 2);
}

#[tokio::test]
async fn playbooks_on_one_event_share_a_window_and_each_fires_at_its_own_threshold() {
    let notes = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = notes.clone();
    let on_search = |id: &str, threshold: u32, response: ResponseAction| {
        Playbook::on("api.search")
            .id(id)
            .threshold(threshold)
            .within(Duration::from_secs(600))
            .by(ActorKind::Ip)
            .respond(response)
    };
    let agent = Agent::builder()
        .playbook(on_search("notice", 2, ResponseAction::None))
        .playbook(on_search("watch", 4, ResponseAction::None))
        .playbook(on_search(
            "stop",
            5,
            ResponseAction::block_for(Duration::from_secs(3600)),
        ))
        .notifier(move |n: &PlaybookNotification| sink.lock().unwrap().push(n.playbook_id.clone()))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let search = |ip: &'static str| {
        let url = format!("{base}/track");
        async move {
            let res = client()
                .post(url)
                .header("x-forwarded-for", ip)
                .body("api.search")
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let ip = "192.0.2.40";
    let mut fired = Vec::new();
    for _ in 0..4 {
        assert_eq!(search(ip).await, (200, "Proceed".to_owned()));
        fired.push(agent.stats().playbooks_fired);
    }
    // notice (no response, no quiet time) fires at 2 events and again at 2 fresh ones; watch at 4
    assert_eq!(fired, [0, 1, 1, 3]);
    // the notifier runs on its own thread: its notes come a little later, in firing order
    let wait = Duration::from_secs(5);
    assert!(eventually(wait, || notes.lock().unwrap().len() >= 3).await);
    assert_eq!(
        std::mem::take(&mut *notes.lock().unwrap()),
        ["notice", "notice", "watch"]
    );
    // one window for the three playbooks of this actor
    assert_eq!(agent.stats().windows, 1);
    assert_eq!(search(ip).await.0, 403, "stop blocks on its fifth event");
    assert!(eventually(wait, || !notes.lock().unwrap().is_empty()).await);
    assert_eq!(*notes.lock().unwrap(), ["stop"]);
    assert_eq!(get_with(&base, &[("x-forwarded-for", ip)]).await.0, 403);
    assert_eq!(agent.stats().playbooks_fired, 4);
    // another actor has a window of its own and starts from zero
    assert_eq!(search("192.0.2.41").await.0, 200);
    assert_eq!(agent.stats().windows, 2);
    assert_eq!(agent.stats().playbooks_fired, 4);
}

#[tokio::test]
async fn reserved_and_malformed_events_are_refused_not_recorded() {
    let recorded = Arc::new(AtomicU64::new(0));
    let seen = recorded.clone();
    let agent = Agent::builder()
        .event_sink(move |_: &Event| {
            seen.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    for (name, expect) in [
        ("app.sqreen.auth.login_success", "reserved"),
        ("has space", "event name"),
        ("user.invited", "Proceed"),
    ] {
        let body = client()
            .post(format!("{base}/track"))
            .header("x-forwarded-for", "192.0.2.40")
            .body(name)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains(expect), "{name}: {body}");
    }
    assert_eq!(recorded.load(Ordering::Relaxed), 1, "only the valid event");
}

#[test]
fn concurrent_track_counts_exactly_and_fires_once() {
    let events = Arc::new(AtomicU64::new(0));
    let fired = Arc::new(AtomicU64::new(0));
    let (e, f) = (events.clone(), fired.clone());
    let agent = Agent::builder()
        .playbook(
            Playbook::on("api.call")
                .id("hot")
                .threshold(1_000)
                .within(Duration::from_secs(3600))
                .by(ActorKind::User)
                .respond(ResponseAction::block_for(Duration::from_secs(3600))),
        )
        .event_sink(move |ev: &Event| {
            if ev.name == "api.call" {
                e.fetch_add(1, Ordering::Relaxed);
            } else {
                f.fetch_add(1, Ordering::Relaxed);
            }
        })
        .build()
        .unwrap();
    let actor = sqreen::Actor::User("hot-user".into());
    let blocked = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (agent, actor, blocked) = (&agent, &actor, &blocked);
            s.spawn(move || {
                for _ in 0..25_000 {
                    if agent.track_for(actor, "api.call", Value::Null) == Verdict::Block {
                        blocked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(
        events.load(Ordering::Relaxed),
        100_000,
        "every event recorded"
    );
    assert_eq!(agent.stats().playbooks_fired, 1, "fired exactly once");
    assert_eq!(
        fired.load(Ordering::Relaxed),
        1,
        "one playbook.triggered event"
    );
    assert_eq!(
        blocked.load(Ordering::Relaxed),
        1,
        "one caller saw the firing"
    );
    assert_eq!(agent.actions().len(), 1);
}
