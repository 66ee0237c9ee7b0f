//! The admin API away from the application's listener, over real HTTP: on the agent's own
//! listener (`SQREEN_ADMIN_ADDR=ip:port`), or mounted by the application (`admin_router`). The
//! application's listener then passes the admin path to the application, inspected like any
//! other path; the admin listener bounds its connections and stops with the agent.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use common::{client, serve_router};
use serde_json::{json, Value};
use sqreen::{AdminListener, Agent, AgentBuilder, Error};

const TOKEN: &str = "admin-listener-token-0123456789";

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        // the application's own route under the admin path
        .route("/_sqreen/health", get(|| async { "the app's route" }))
}

fn own_listener() -> AgentBuilder {
    Agent::builder()
        .admin_token(TOKEN)
        .admin_listener(AdminListener::Addr("127.0.0.1:0".parse().unwrap()))
}

async fn get_status(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_agent_serves_the_admin_api_on_its_own_address_and_the_app_gets_the_path() {
    let agent = own_listener()
        .waf_mode(sqreen::rules::WafMode::Block)
        .build()
        .unwrap();
    let addr = agent.admin_addr().expect("an admin listener");
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let admin = format!("http://{addr}");
    let base = serve_router(app().layer(agent.layer())).await;

    // the admin listener answers, with the token, and only with the token
    let (status, body) = get_status(&format!("{admin}/_sqreen/health"), Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "ok"
    );
    assert_eq!(
        get_status(&format!("{admin}/_sqreen/health"), None).await.0,
        401
    );
    assert_eq!(
        get_status(&format!("{admin}/_sqreen/health?token={TOKEN}"), None)
            .await
            .0,
        401
    );
    let (status, body) = get_status(&format!("{admin}/elsewhere"), Some(TOKEN)).await;
    assert_eq!(status, 404);
    assert!(body.contains("not an admin path"), "{body}");
    let (status, body) = get_status(&format!("{admin}/_sqreen/explorer"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("Events Explorer"));
    assert_eq!(agent.stats().admin_unauthorized, 2);

    // the application's listener passes the admin path to the application...
    let (status, body) = get_status(&format!("{base}/_sqreen/health"), Some(TOKEN)).await;
    assert_eq!((status, body.as_str()), (200, "the app's route"));
    let (status, _) = get_status(&format!("{base}/_sqreen/events"), Some(TOKEN)).await;
    assert_eq!(status, 404);
    // ...inspected like any other path: an attack under it is blocked
    let (status, _) = get_status(
        &format!("{base}/_sqreen/health?q=1%27%20OR%20%271%27%3D%271"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // an action pushed on the admin listener (a body read there) holds on the app's listener
    let res = client()
        .post(format!("{admin}/_sqreen/actions"))
        .bearer_auth(TOKEN)
        .json(&json!({ "actor": { "ip": "127.0.0.1" }, "action": "block", "duration": "1m" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(get_status(&format!("{base}/"), None).await.0, 403);
    // and the admin listener is not subject to it (nor to the layer at all)
    let (status, body) = get_status(&format!("{admin}/_sqreen/actions"), Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    // a body over the limit is refused there as on the app's listener
    let res = client()
        .post(format!("{admin}/_sqreen/actions"))
        .bearer_auth(TOKEN)
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    // shutdown frees the address
    let stopper = agent.clone();
    tokio::task::spawn_blocking(move || stopper.shutdown(Duration::from_secs(2)))
        .await
        .unwrap();
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}

#[tokio::test]
async fn mounted_the_admin_api_answers_where_the_app_mounts_it_only() {
    let agent = Agent::builder()
        .admin_token(TOKEN)
        .admin_listener(AdminListener::Mounted)
        .build()
        .unwrap();
    assert_eq!(agent.admin_addr(), None);
    let base = serve_router(app().layer(agent.layer())).await;
    let internal = serve_router(agent.admin_router()).await;

    let (status, body) = get_status(&format!("{internal}/_sqreen/actions"), Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        get_status(&format!("{internal}/_sqreen/actions"), None)
            .await
            .0,
        401
    );
    let (status, body) = get_status(&format!("{base}/_sqreen/health"), Some(TOKEN)).await;
    assert_eq!((status, body.as_str()), (200, "the app's route"));

    // without a token configured, the mounted service has nothing to serve
    let off = Agent::builder()
        .admin_listener(AdminListener::Mounted)
        .build()
        .unwrap();
    let internal = serve_router(off.admin_router()).await;
    let (status, body) = get_status(&format!("{internal}/_sqreen/health"), Some(TOKEN)).await;
    assert_eq!(status, 404);
    assert!(body.contains("SQREEN_ADMIN_TOKEN"), "{body}");
}

#[tokio::test]
async fn the_app_listener_keeps_serving_the_admin_api_by_default() {
    let agent = Agent::builder().admin_token(TOKEN).build().unwrap();
    assert_eq!(agent.admin_addr(), None);
    let base = serve_router(app().layer(agent.layer())).await;
    let (status, body) = get_status(&format!("{base}/_sqreen/health"), Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "ok"
    );
}

#[test]
fn a_taken_address_is_a_start_up_error_naming_the_variable() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err: Error = Agent::builder()
        .admin_token(TOKEN)
        .admin_listener(AdminListener::Addr(addr))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("SQREEN_ADMIN_ADDR"), "{err}");
    // a disabled agent serves nothing, so binds nothing
    let disabled = Agent::builder()
        .admin_token(TOKEN)
        .admin_listener(AdminListener::Addr(addr))
        .disabled(true)
        .build()
        .unwrap();
    assert_eq!(disabled.admin_addr(), None);
}

#[test]
fn dropping_the_agent_stops_its_listener() {
    let agent = own_listener().build().unwrap();
    let addr = agent.admin_addr().unwrap();
    assert!(TcpStream::connect(addr).is_ok());
    drop(agent);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "still listening after the drop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET of the health endpoint on a new connection: the status, or `None` when the server
/// closed the connection without an answer.
fn raw_health(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = format!(
        "GET /_sqreen/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.get(9..12)?.parse().ok()
}

#[test]
fn idle_connections_cannot_take_the_admin_listener_for_good() {
    let agent = own_listener().build().unwrap();
    let addr = agent.admin_addr().unwrap();
    assert_eq!(raw_health(addr), Some(200));
    // an attacker holds every connection slot open without ever sending a request
    let idle: Vec<TcpStream> = (0..64).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw_health(addr).is_some() {
        assert!(Instant::now() < deadline, "more than 64 connections served");
        std::thread::sleep(Duration::from_millis(20));
    }
    // the slots come back: when the idle clients go, or when their header timeout ends them
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw_health(addr) != Some(200) {
        assert!(Instant::now() < deadline, "the slots did not come back");
        std::thread::sleep(Duration::from_millis(20));
    }
}
