//! RASP demo: a small axum app with **deliberately vulnerable** routes, written the way careless
//! code is (SQL built by concatenation, file names and URLs taken from the query, a shell
//! command built from a parameter), each going through a RASP-checked sink. Never deploy it.
//!
//! ```text
//! cargo run --example rasp_demo            # SQREEN_RASP_MODE=off makes every route exploitable
//! ```
//!
//! It listens on `SQREEN_DEMO_ADDR` (default 127.0.0.1:8081), prints `listening on
//! http://ADDR`, honours every `SQREEN_*` variable, and serves:
//! - `GET /products?category=` — an in-memory SQLite table queried with string concatenation,
//!   through the checked adapter; the rows as JSON (the SQLite error as a 500 on a bad query);
//! - `GET /products-safe?category=` — the same query with a bound parameter;
//! - `GET /file?name=` — reads `examples/rasp-files/<name>` through the checked read;
//! - `GET /fetch?url=` — fetches the URL server-side through the checked client;
//!   `GET /fetch-path?path=` fetches `http://<own address><path>`;
//! - `GET /internal/secret`, `GET /internal/status` — the app's own internal routes;
//! - `GET /ping?host=` — runs `sh -c "echo pinging <host>"` through the checked command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;
use sqreen::rasp::sqlite::CheckedConnection;
use sqreen::RequestContext;

const DEFAULT_ADDR: &str = "127.0.0.1:8081";

#[derive(Clone)]
struct App {
    db: Arc<Mutex<Connection>>,
    files: PathBuf,
    addr: SocketAddr,
}

#[derive(Deserialize)]
struct Params {
    category: Option<String>,
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    host: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rasp_demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let agent = sqreen::AgentBuilder::from_env()?.build()?;
    let addr: SocketAddr = std::env::var("SQREEN_DEMO_ADDR")
        .unwrap_or_else(|_| DEFAULT_ADDR.to_owned())
        .parse()
        .map_err(|e| format!("invalid SQREEN_DEMO_ADDR: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let db = Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE products (name TEXT, category TEXT, price REAL);
         INSERT INTO products VALUES ('Dune', 'books', 9.5), ('Emma', 'books', 7.0),
           ('Ulysses', 'books', 12.0), ('Kettle', 'kitchen', 25.0);
         CREATE TABLE users (name TEXT, password TEXT);
         INSERT INTO users VALUES ('admin', 'hunter2');",
    )?;
    let state = App {
        db: Arc::new(Mutex::new(db)),
        files: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rasp-files"),
        addr,
    };
    let app = Router::new()
        .route("/products", get(products))
        .route("/products-safe", get(products_safe))
        .route("/file", get(file))
        .route("/fetch", get(fetch))
        .route("/fetch-path", get(fetch_path))
        .route(
            "/internal/secret",
            get(|| async { "internal secret: the launch code is 0000" }),
        )
        .route(
            "/internal/status",
            get(|| async { "internal status: all systems nominal" }),
        )
        .route("/ping", get(ping))
        .with_state(state)
        .layer(agent.layer().axum());
    println!("listening on http://{addr}");
    println!(
        "RASP mode: {} (SQREEN_RASP_MODE=off makes every route exploitable)",
        std::env::var("SQREEN_RASP_MODE").unwrap_or_else(|_| "block".to_owned())
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// VULNERABLE on purpose: the category is concatenated into the query.
async fn products(State(app): State<App>, Query(p): Query<Params>) -> Response {
    let category = p.category.unwrap_or_default();
    let sql =
        format!("SELECT name, price FROM products WHERE category = '{category}' ORDER BY name");
    let db = app.db.lock().unwrap();
    let rows = db.prepare_checked(&sql).and_then(|mut stmt| {
        stmt.query_map([], row)?
            .collect::<rusqlite::Result<Vec<_>>>()
    });
    answer(rows)
}

/// The same query, safe: the category is a bound parameter.
async fn products_safe(State(app): State<App>, Query(p): Query<Params>) -> Response {
    let category = p.category.unwrap_or_default();
    let db = app.db.lock().unwrap();
    let rows = db
        .prepare_checked("SELECT name, price FROM products WHERE category = ?1 ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([&category], row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        });
    answer(rows)
}

/// A row as JSON, whatever its columns hold (an exploited query returns other tables' columns).
fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    use rusqlite::types::Value;
    let cell = |i| -> rusqlite::Result<serde_json::Value> {
        Ok(match r.get::<_, Value>(i)? {
            Value::Integer(n) => json!(n),
            Value::Real(x) => json!(x),
            Value::Text(t) => json!(t),
            Value::Null | Value::Blob(_) => json!(null),
        })
    };
    Ok(json!({ "name": cell(0)?, "price": cell(1)? }))
}

fn answer(rows: rusqlite::Result<Vec<serde_json::Value>>) -> Response {
    match rows {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// VULNERABLE on purpose: the name is joined to the directory as given.
async fn file(State(app): State<App>, Query(p): Query<Params>) -> Response {
    let path = app.files.join(p.name.unwrap_or_default());
    match sqreen::rasp::fs::read_to_string_async(&path).await {
        Ok(text) => text.into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    }
}

/// VULNERABLE on purpose: fetches whatever URL it is given.
async fn fetch(ctx: RequestContext, Query(p): Query<Params>) -> Response {
    let url = p.url.unwrap_or_default();
    fetch_url(ctx, url).await
}

/// Fetches a path of this app's own (the host is the app's: any path is fine).
async fn fetch_path(
    State(app): State<App>,
    ctx: RequestContext,
    Query(p): Query<Params>,
) -> Response {
    let url = format!("http://{}{}", app.addr, p.path.unwrap_or_default());
    fetch_url(ctx, url).await
}

async fn fetch_url(ctx: RequestContext, url: String) -> Response {
    let fetched = tokio::task::spawn_blocking(move || {
        let mut response = sqreen::rasp::http::get_in(&ctx, &url)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Ok::<_, sqreen::rasp::http::FetchError>((status, body))
    })
    .await;
    match fetched {
        Ok(Ok((status, body))) => format!("{status}\n{body}").into_response(),
        Ok(Err(e)) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// VULNERABLE on purpose: the host is pasted into a shell command.
async fn ping(Query(p): Query<Params>) -> Response {
    let host = p.host.unwrap_or_default();
    match sqreen::rasp::shell::sh(&format!("echo pinging {host}")) {
        Ok(mut cmd) => match cmd.output() {
            Ok(out) => String::from_utf8_lossy(&out.stdout)
                .into_owned()
                .into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        Err(e) => e.into_response(),
    }
}
