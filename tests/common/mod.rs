//! Shared helpers for the integration tests: a real axum server on 127.0.0.1:0 and a real client.
#![allow(dead_code)]

pub mod postgres;
pub mod receiver;
pub mod redis;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use sqreen::{identify, Agent, RequestContext, UserKeys, Verdict};

/// The routes the tests use, shaped like the quickstart's.
pub fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/whoami", get(whoami))
        .route("/invite", post(invite))
        .route("/blocked", get(|| async { "blocked page" }))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
}

async fn whoami(ctx: Option<axum::Extension<RequestContext>>) -> String {
    match ctx {
        Some(axum::Extension(ctx)) => {
            // the task-local names the same request as the extension
            let current = RequestContext::current().expect("task-local context");
            assert_eq!(current.rid(), ctx.rid());
            format!(
                "{} {}",
                ctx.client_ip()
                    .map_or("unknown".to_owned(), |ip| ip.to_string()),
                ctx.rid()
            )
        }
        None => "no context".to_owned(),
    }
}

async fn invite(headers: HeaderMap) -> (axum::http::StatusCode, String) {
    let user = headers
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match identify(UserKeys::new().with("email", user)) {
        Verdict::Proceed => (axum::http::StatusCode::OK, format!("{user} invited")),
        other => (axum::http::StatusCode::OK, format!("handler saw {other:?}")),
    }
}

/// Serves `app` with `agent`'s layer for axum (`layer().axum()`, as the README shows) on
/// 127.0.0.1 and returns its base URL. Tests that build their router with `agent.layer()`
/// cover the generic tower layer.
pub async fn serve(agent: &Agent) -> String {
    serve_router(app().layer(agent.layer().axum())).await
}

/// Serves a router (with connect info) on 127.0.0.1 and returns its base URL.
pub async fn serve_router(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// A client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET `url` with the given headers; returns status and body.
pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
pub async fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}
