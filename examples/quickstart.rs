//! The quickstart: a small axum app protected by the sqreen layer.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It listens on `SQREEN_DEMO_ADDR` (default 127.0.0.1:8080), uses
//! `examples/quickstart-rules.json` unless `SQREEN_RULES_PATH` or `SQREEN_RULES_URL` is set,
//! honours every `SQREEN_*` variable, and prints how to try it. Ctrl-C (or SIGTERM) stops it cleanly.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::extract::{Form, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqreen::{auth_track, identify, track, UserKeys, Verdict};

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/quickstart-rules.json"
);

#[tokio::main]
async fn main() -> ExitCode {
    let log_level = std::env::var("SQREEN_LOG").unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(format!("sqreen={log_level},quickstart=info"))
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = match std::env::var("SQREEN_DEMO_ADDR") {
        Ok(v) => v.parse().map_err(|_| {
            format!("invalid SQREEN_DEMO_ADDR={v:?}: expected an address such as {DEFAULT_ADDR}")
        })?,
        Err(_) => DEFAULT_ADDR.parse()?,
    };
    let mut builder = sqreen::AgentBuilder::from_env()?;
    if std::env::var_os("SQREEN_RULES_PATH").is_none()
        && std::env::var_os("SQREEN_RULES_URL").is_none()
    {
        builder = builder.rules_path(RULES);
    }
    let agent = builder.build()?;
    sqreen::init(agent.clone());

    let app = app().layer(agent.layer().axum());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    print_help(addr);
    println!("listening on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let left = agent
        .shutdown_async(std::time::Duration::from_secs(5))
        .await;
    if left > 0 {
        eprintln!("quickstart: {left} events or notifications could not be delivered in time");
    }
    println!("stopped");
    Ok(())
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello from the sqreen quickstart!\n" }))
        .route("/search", get(search))
        .route("/api/echo", post(echo))
        .route("/login", post(login))
        .route("/invite", post(invite))
        .route("/blocked", get(blocked))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(Query(query): Query<SearchQuery>) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><title>Search</title><p>You searched for: {}</p>\n",
        html_escape(&query.q)
    ))
}

async fn echo(headers: HeaderMap, body: String) -> Response {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(value) => Json(value).into_response(),
            Err(e) => (StatusCode::BAD_REQUEST, format!("invalid JSON: {e}\n")).into_response(),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = form_urlencoded(&body);
        Json(serde_json::Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        ))
        .into_response()
    } else {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/json or application/x-www-form-urlencoded\n",
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
}

async fn login(Form(form): Form<LoginForm>) -> Response {
    let user = UserKeys::new().with("username", &form.user);
    let success = form.password == "secret";
    // Counts login failures per IP and per user (the login-brute-force playbook redirects an IP
    // to /blocked after 5 failures in 10 minutes); a success also identifies the user.
    if auth_track(success, user).is_blocked() {
        return StatusCode::FORBIDDEN.into_response(); // replaced by the agent's response
    }
    if success {
        (StatusCode::OK, format!("welcome, {}\n", form.user)).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, "wrong user or password\n").into_response()
    }
}

async fn invite(headers: HeaderMap) -> Response {
    let Some(user) = headers.get("x-user").and_then(|v| v.to_str().ok()) else {
        return (StatusCode::BAD_REQUEST, "send the X-User header\n").into_response();
    };
    if identify(UserKeys::new().with("email", user)).is_blocked() {
        // a deny-listed or blocked user: the layer answers with the block page
        return StatusCode::FORBIDDEN.into_response();
    }
    // The invite-flood playbook blocks a user's third invite within 5 minutes, on this response.
    match track("user.invited", json!({ "plan": "free" })) {
        Verdict::Proceed => (StatusCode::OK, format!("{user} invited a friend\n")).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn blocked() -> Html<&'static str> {
    Html("<!DOCTYPE html><title>Blocked</title><h1>Your access is restricted</h1><p>Too many attempts. Please try again later.</p>\n")
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn form_urlencoded(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap_or_default()
}

fn print_help(addr: SocketAddr) {
    println!(
        "sqreen quickstart: rules from {}\n\
         try it (from another terminal):\n  \
         curl -i http://{addr}/                                             # 200 hello\n  \
         curl -i -H 'X-Forwarded-For: 203.0.113.9' http://{addr}/           # 403 JSON: deny-listed network\n  \
         curl -i -H 'Accept: text/html' -H 'X-Forwarded-For: 203.0.113.9' http://{addr}/   # 403 HTML page\n  \
         curl -i -H 'X-Forwarded-For: 198.51.100.7' http://{addr}/          # 200: pass-listed\n  \
         curl -i -X POST -H 'X-User: mallory@example.com' http://{addr}/invite   # 403: deny-listed user\n  \
         curl -i -X POST -H 'X-User: alice@example.com' http://{addr}/invite     # 200, 200, then 403: invite flood\n  \
         for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{{http_code}} ' -H 'X-Forwarded-For: 192.0.2.10' -d 'user=bob&password=x' http://{addr}/login; done   # 401 x4, then 303 to /blocked\n  \
         curl -i 'http://{addr}/search?q=hello'                            # 200\n  \
         curl -i \"http://{addr}/search?q=1'%20OR%20'1'='1\"                 # 403: SQL injection (WAF in block mode)\n  \
         curl -i \"http://{addr}/search?q=O'Brien\"                           # 200: a name, not an attack\n  \
         curl -i -H 'Content-Type: application/json' -d '{{\"comment\":\"<script>alert(1)</script>\"}}' http://{addr}/api/echo   # 403: XSS in a JSON body",
        std::env::var("SQREEN_RULES_PATH")
            .or_else(|_| std::env::var("SQREEN_RULES_URL"))
            .unwrap_or_else(|_| RULES.to_owned())
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    println!("shutting down");
}
