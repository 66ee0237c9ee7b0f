//! An attacker who reads the source and adapts, over real HTTP: each test is a way around the
//! agent that once worked (durations that wrap, a panic placed beside an attack, ...), and shows
//! it no longer does.

mod common;

use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use common::{client, serve_router};
use serde_json::{json, Value};
use sqreen::rules::{Paranoia, WafMode};
use sqreen::{Agent, AgentBuilder};

const TOKEN: &str = "admin-token-for-tests-0123456789";

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
}

async fn setup(configure: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String) {
    let agent = configure(Agent::builder().admin_token(TOKEN))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    (agent, base)
}

/// GET `/` as the client `ip` (the test client is a trusted proxy: loopback).
async fn get_as(base: &str, ip: &str) -> u16 {
    client()
        .get(format!("{base}/"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
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
