//! `agent.layer().axum()`: the layer for axum routers keeps axum's own body type on both sides,
//! so axum does not box the bodies a second time. Heap allocations are counted process-wide,
//! so this file holds one test.

mod common;

use std::alloc::System;

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use http::Request;
use sqreen::Agent;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::ServiceExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const REQUESTS: usize = 500;

fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
}

/// Allocations per request of `GET /` through `app`, in process, on this thread.
async fn allocations_per_request(app: &Router) -> f64 {
    // the routes made once, as `axum::serve` makes them
    let app = &app.clone().with_state(());
    let send = || async {
        let req = Request::get("/")
            .header("x-forwarded-for", "192.0.2.7")
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        axum::body::to_bytes(res.into_body(), 1 << 10)
            .await
            .unwrap()
    };
    send().await; // first request: lazy set-up
    let region = Region::new(GLOBAL);
    for _ in 0..REQUESTS {
        send().await;
    }
    region.change().allocations as f64 / REQUESTS as f64
}

#[tokio::test(flavor = "current_thread")]
async fn the_axum_layer_spares_two_allocations_a_request_and_behaves_the_same() {
    for disabled in [false, true] {
        let agent = Agent::builder().disabled(disabled).build().unwrap();
        let tower = router().layer(agent.layer());
        let axum = router().layer(agent.layer().axum());
        let none = allocations_per_request(&router()).await;
        let identity =
            allocations_per_request(&router().layer(tower::layer::util::Identity::new())).await;
        let with_tower = allocations_per_request(&tower).await;
        let with_axum = allocations_per_request(&axum).await;
        eprintln!(
            "disabled={disabled}: allocations per GET /: no layer {none}, a do-nothing \
             layer {identity}, layer() {with_tower}, layer().axum() {with_axum}"
        );
        assert!(
            with_axum <= with_tower - 1.9,
            "disabled={disabled}: layer().axum() {with_axum} vs layer() {with_tower}"
        );
    }

    // over real HTTP: bodies the agent read are handed on byte for byte, responses the agent
    // writes reach the client, the handler's own pass untouched
    let agent = Agent::builder()
        .configure(|c| c.max_body_bytes = 64)
        .rules_json(r#"{"ip_denylist": ["198.51.100.0/24"], "waf": {"mode": "block"}}"#)
        .build()
        .unwrap();
    let base = common::serve_router(router().layer(agent.layer().axum())).await;
    let client = common::client();
    for (content_type, body) in [
        ("application/json", r#"{"q": "shoes"}"#.to_owned()),
        (
            "application/json",
            format!(r#"{{"q": "{}"}}"#, "long ".repeat(100)),
        ),
        (
            "text/plain",
            "a note of plain text, read and handed on".to_owned(),
        ),
    ] {
        let res = client
            .post(format!("{base}/echo"))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{content_type}");
        assert_eq!(res.text().await.unwrap(), body, "{content_type}");
    }
    let denied = client
        .get(format!("{base}/"))
        .header("x-forwarded-for", "198.51.100.9")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    assert!(denied.text().await.unwrap().contains("\"status\":403"));
    let attack = client
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body(r#"{"q": "1' OR '1'='1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(attack.status(), 403, "WAF block mode on a JSON body");
}
