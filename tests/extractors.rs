//! `RequestContext` as an axum extractor, over real HTTP: a handler taking it always runs, with
//! a detached context when the agent did not look at the request (disabled by
//! `SQREEN_DISABLE=true` or the builder, or failed open), and `Option<RequestContext>` tells
//! the two cases apart.

mod common;

use axum::routing::get;
use axum::Router;
use common::{client, serve_router};
use sqreen::{identify, Agent, AgentBuilder, Config, RequestContext, UserKeys};

/// The rules every agent here starts with: the caller's network and user are denied.
const DENY: &str = r#"{"ip_denylist": ["192.0.2.0/24"], "user_denylist": ["mallory@example.com"]}"#;

/// Says what the handler got, then names a denied user through the SDK.
async fn with_context(ctx: RequestContext) -> String {
    let verdict = identify(UserKeys::new().with("email", "mallory@example.com"));
    format!(
        "detached={} ip={:?} user={:?} path={} verdict={verdict:?}",
        ctx.is_detached(),
        ctx.client_ip(),
        ctx.user().map(|u| u.id()),
        ctx.path(),
    )
}

async fn with_optional_context(ctx: Option<RequestContext>) -> String {
    match ctx {
        Some(ctx) => format!(
            "some detached={} ip={:?}",
            ctx.is_detached(),
            ctx.client_ip()
        ),
        None => "none".to_owned(),
    }
}

fn routes() -> Router {
    Router::new()
        .route("/ctx", get(with_context))
        .route("/maybe", get(with_optional_context))
}

/// GETs `path` from 192.0.2.7 (as forwarded by the loopback proxy) and returns status and body.
async fn fetch(base: &str, path: &str) -> (u16, String) {
    let res = client()
        .get(format!("{base}{path}"))
        .header("x-forwarded-for", "192.0.2.7")
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn disabled_by_env() -> Agent {
    let config =
        Config::from_lookup(|k| Ok((k == "SQREEN_DISABLE").then(|| "true".to_owned()))).unwrap();
    AgentBuilder::from_config(config)
        .trusted_proxies(["127.0.0.1/32"])
        .rules_json(DENY)
        .build()
        .unwrap()
}

const DETACHED: &str = "detached=true ip=None user=None path=/ctx verdict=Proceed";

#[tokio::test]
async fn sqreen_disable_gives_handlers_a_detached_context_not_a_500() {
    let agent = disabled_by_env();
    // both layers: the generic tower one and the axum one
    for app in [
        routes().layer(agent.layer()),
        routes().layer(agent.layer().axum()),
    ] {
        let base = serve_router(app).await;
        assert_eq!(fetch(&base, "/ctx").await, (200, DETACHED.to_owned()));
        assert_eq!(fetch(&base, "/maybe").await, (200, "none".to_owned()));
    }
}

#[tokio::test]
async fn the_builders_disabled_gives_a_detached_context_too() {
    let agent = Agent::builder()
        .disabled(true)
        .rules_json(DENY)
        .build()
        .unwrap();
    let base = serve_router(routes().layer(agent.layer().axum())).await;
    assert_eq!(fetch(&base, "/ctx").await, (200, DETACHED.to_owned()));
}

#[tokio::test]
async fn a_request_that_failed_open_gives_a_detached_context() {
    let agent = Agent::builder()
        .trusted_proxies(["127.0.0.1/32"])
        .rules_json(r#"{"user_denylist": ["mallory@example.com"]}"#)
        // the user resolver runs inside the agent's check: a panic there fails the request open
        .user_resolver(|_| panic!("user resolver bug"))
        .build()
        .unwrap();
    let base = serve_router(routes().layer(agent.layer().axum())).await;
    assert_eq!(fetch(&base, "/ctx").await, (200, DETACHED.to_owned()));
    assert_eq!(fetch(&base, "/maybe").await, (200, "none".to_owned()));
    assert_eq!(agent.stats().internal_failures, 2);
}

#[tokio::test]
async fn an_enabled_agent_hands_its_own_context_to_both_extractors() {
    let agent = Agent::builder()
        .trusted_proxies(["127.0.0.1/32"])
        .rules_json(r#"{"user_denylist": ["mallory@example.com"]}"#)
        .build()
        .unwrap();
    let base = serve_router(routes().layer(agent.layer().axum())).await;
    assert_eq!(
        fetch(&base, "/maybe").await,
        (200, "some detached=false ip=Some(192.0.2.7)".to_owned())
    );
    // the SDK call is live: the denied user gets the block page instead of the handler's answer
    let (status, _) = fetch(&base, "/ctx").await;
    assert_eq!(status, 403);
}
