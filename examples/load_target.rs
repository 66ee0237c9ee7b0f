//! The service `benches/load/run.sh` puts under load: three routes, with or without the layer.
//!
//! `LOAD_MODE` picks the configuration: `none` (no layer), `disabled` (the layer with
//! `SQREEN_DISABLE=true`), `rules` (the quickstart rules: lists, playbooks, WAF in monitor mode), `block100k`
//! (the quickstart rules plus a 100,000-CIDR deny list, WAF mode `block`). It listens on
//! `SQREEN_DEMO_ADDR` (default 127.0.0.1:8090) and prints `listening on http://ADDR`.
//! Routes: `GET /` · `GET /search?...` (counts its parameters) · `POST /api/echo` (JSON echo).

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

const RULES: &str = include_str!("quickstart-rules.json");

fn agent(mode: &str) -> Result<Option<sqreen::Agent>, Box<dyn std::error::Error>> {
    let builder = sqreen::Agent::builder();
    let agent = match mode {
        "none" => return Ok(None),
        "disabled" => builder.disabled(true).build()?,
        "rules" => {
            // the quickstart's lists and playbooks, with the WAF in monitor mode
            let mut doc: Value = serde_json::from_str(RULES)?;
            doc["waf"]["mode"] = Value::String("monitor".into());
            builder.rules_json(&doc.to_string()).build()?
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
        Some(agent) => app.layer(agent.layer()),
        None => app,
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
