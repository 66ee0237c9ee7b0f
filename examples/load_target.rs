//! The service `benches/load/run.sh` puts under load: three routes, with or without the layer.
//!
//! `LOAD_MODE` picks the configuration: `none` (no layer), `disabled` (the layer with
//! `SQREEN_DISABLE=true`), `rules` (the quickstart rules: lists, playbooks, WAF in monitor
//! mode), `cluster` (the same in cluster mode, on the Redis of `SQREEN_REDIS_URL`), `block100k`
//! (the quickstart rules plus a 100,000-CIDR deny list, WAF mode `block`),
//! `identity` (a layer that does nothing, `tower::layer::util::Identity`: what axum's wrapping
//! of any layer costs). The layer is `agent.layer().axum()`, as the README shows for axum;
//! `LOAD_LAYER=tower` puts the generic `agent.layer()` in its place (to compare). It listens on
//! `SQREEN_DEMO_ADDR` (default 127.0.0.1:8090) and prints `listening on http://ADDR`.
//! Routes: `GET /` · `GET /search?...` (counts its parameters) · `POST /api/echo` (JSON echo).
//!
//! With `LOAD_INPROCESS=N` it does not listen: it sends N requests of `LOAD_ENDPOINT` (`root`,
//! `search` or `echo`, as `run.sh` sends them) through the router in process and exits, for
//! instruction counts under `valgrind --tool=callgrind`, which the machine's noise does not
//! touch (see `benches/README.md`, "load").

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

#[path = "../benches/support/typical.rs"]
mod typical;

const RULES: &str = include_str!("quickstart-rules.json");

fn agent(mode: &str) -> Result<Option<sqreen::Agent>, Box<dyn std::error::Error>> {
    let builder = sqreen::Agent::builder();
    let agent = match mode {
        "none" | "identity" => return Ok(None),
        "disabled" => builder.disabled(true).build()?,
        "rules" | "cluster" => {
            // the quickstart's lists and playbooks, with the WAF in monitor mode
            let mut doc: Value = serde_json::from_str(RULES)?;
            doc["waf"]["mode"] = Value::String("monitor".into());
            let builder = builder.rules_json(&doc.to_string());
            if mode == "cluster" {
                // the same, sharing actions and counts through the Redis of `SQREEN_REDIS_URL`
                let url = std::env::var("SQREEN_REDIS_URL")
                    .map_err(|_| "LOAD_MODE=cluster needs SQREEN_REDIS_URL")?;
                builder.redis(&url).build()?
            } else {
                builder.build()?
            }
        }
        "block100k" => {
            let mut doc: Value = serde_json::from_str(RULES)?;
            let nets: Vec<Value> = (0..100_000u32)
                .map(|i| Value::String(format!("{}/32", std::net::Ipv4Addr::from(0x2D00_0000 + i))))
                .collect();
            doc["ip_denylist"] = Value::Array(nets);
            doc["waf"]["mode"] = Value::String("block".into());
            builder.rules_json(&doc.to_string()).build()?
        }
        other => return Err(format!("unknown LOAD_MODE {other:?}").into()),
    };
    Ok(Some(agent))
}

/// The 10-parameter search `run.sh` sends.
const SEARCH: &str =
    "/search?q=shoes&page=2&sort=price&size=42&color=red&brand=acme&lang=en&ref=home&min=10&max=90";

/// Sends `n` requests of `endpoint` through `app` in process, as wrk would (from 127.0.0.1,
/// with `X-Forwarded-For: 192.0.2.77`).
async fn drive(app: Router, endpoint: &str, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use tower::ServiceExt;

    // as `axum::serve` does (`into_make_service*` call it): the routes are made, layers
    // included, once, not at every request
    let app = app.with_state(());
    let body = typical::echo_body();
    let peer: SocketAddr = "127.0.0.1:40000".parse()?;
    for _ in 0..n {
        let req = match endpoint {
            "root" => Request::get("/").body(Body::empty()),
            "search" => Request::get(SEARCH).body(Body::empty()),
            "echo" => Request::post("/api/echo")
                .header("content-type", "application/json")
                .body(Body::from(body.clone())),
            other => return Err(format!("unknown LOAD_ENDPOINT {other:?}").into()),
        };
        let mut req = req?;
        let headers = req.headers_mut();
        headers.insert("host", "127.0.0.1:18090".parse()?);
        headers.insert("x-forwarded-for", "192.0.2.77".parse()?);
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = app.clone().oneshot(req).await?;
        let status = res.status();
        axum::body::to_bytes(res.into_body(), usize::MAX).await?;
        if !status.is_success() {
            return Err(format!("{endpoint} answered {status}").into());
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::var("LOAD_MODE").unwrap_or_else(|_| "rules".to_owned());
    let addr: SocketAddr = std::env::var("SQREEN_DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8090".to_owned())
        .parse()?;
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/search",
            get(|uri: axum::http::Uri| async move {
                let n = uri.query().map_or(0, |q| q.split('&').count());
                format!("{n} parameters")
            }),
        )
        .route(
            "/api/echo",
            post(|Json(v): Json<Value>| async move { Json(v) }),
        );
    let app = match agent(&mode)? {
        Some(agent) if std::env::var("LOAD_LAYER").as_deref() == Ok("tower") => {
            app.layer(agent.layer())
        }
        Some(agent) => app.layer(agent.layer().axum()),
        None if mode == "identity" => app.layer(tower::layer::util::Identity::new()),
        None => app,
    };
    if let Ok(n) = std::env::var("LOAD_INPROCESS") {
        let endpoint = std::env::var("LOAD_ENDPOINT").unwrap_or_else(|_| "root".to_owned());
        return drive(app, &endpoint, n.parse()?).await;
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
