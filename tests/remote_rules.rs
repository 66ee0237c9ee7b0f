//! The rules URL (`SQREEN_RULES_URL`) against a real rules server on 127.0.0.1 that the tests
//! drive: changed documents are enforced by a real layer, `ETag`s and 304s are used, broken and
//! badly signed documents never replace the rules in force, the disk cache serves a cold start
//! while the URL is down (and is refused when tampered with and a secret is set), and a failing
//! server is not hammered.
//!
//! The rules server runs on a Tokio runtime of its own, so a test can take it down for good
//! (every socket closed) while the app under test keeps running.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{eventually, get_with, serve};
use hmac::{Hmac, Mac};
use sqreen::notify::RetryPolicy;
use sqreen::rules::remote::SIGNATURE_HEADER;
use sqreen::rules::RulesSource;
use sqreen::{Agent, AgentBuilder};

/// How often the agents poll in these tests.
const PERIOD: Duration = Duration::from_millis(20);
/// How long a test waits for something that should take a few polls.
const WAIT: Duration = Duration::from_secs(5);
const SECRET: &str = "rules-secret-for-tests-0123456789abcdef";

/// A rules document denying one address, issued `N` minutes into 2026 for version `vN`: the
/// same version gives the same document, a later one a later `issued_at`.
fn doc(version: &str, denied: &str) -> String {
    let n: u32 = version.trim_start_matches('v').parse().unwrap();
    format!(
        r#"{{"version": "{version}", "issued_at": "2026-01-01T00:{n:02}:00Z", "ip_denylist": ["{denied}"]}}"#
    )
}

/// `sha256=<hex HMAC-SHA256>`, computed here independently of the crate.
fn signature(body: &str, secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Serve,
    Status(u16),
}

/// One request the rules server got.
#[derive(Clone, Debug)]
struct Seen {
    if_none_match: Option<String>,
    status: u16,
}

#[derive(Default)]
struct Served {
    body: String,
    etag: Option<String>,
    /// The signature header; `None`: the body signed with [`SECRET`], as a server does.
    signature: Option<String>,
    /// Send no signature header at all.
    unsigned: bool,
    mode: Option<Mode>,
    /// Requests to leave unanswered (until the server stops) before serving again.
    hang: usize,
    seen: Vec<Seen>,
}

/// A rules server on 127.0.0.1 with its own runtime.
struct RulesServer {
    state: Arc<Mutex<Served>>,
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RulesServer {
    fn start(body: &str) -> RulesServer {
        let state = Arc::new(Mutex::new(Served {
            body: body.to_owned(),
            ..Served::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/rules.json", get(handle))
            .with_state(state.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        RulesServer {
            state,
            url: format!("http://{addr}/rules.json"),
            runtime: Some(runtime),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Served) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Serves `body` from now on, with this ETag and signature header (`None`: signed with
    /// [`SECRET`]).
    fn set(&self, body: &str, etag: Option<&str>, signature: Option<String>) {
        self.with(|s| {
            s.body = body.to_owned();
            s.etag = etag.map(str::to_owned);
            s.signature = signature;
            s.unsigned = false;
            s.mode = None;
        });
    }

    /// Serves `body` from now on, without a signature header.
    fn set_unsigned(&self, body: &str) {
        self.set(body, None, None);
        self.with(|s| s.unsigned = true);
    }

    fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    /// Takes the server down: every socket closed, the port refuses connections.
    fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RulesServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn handle(State(state): State<Arc<Mutex<Served>>>, headers: HeaderMap) -> Response {
    let if_none_match = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (response, hang) = {
        let mut s = state.lock().unwrap();
        let hang = s.hang > 0;
        let (status, response) = if hang {
            s.hang -= 1;
            (0, StatusCode::OK.into_response())
        } else {
            match s.mode.unwrap_or(Mode::Serve) {
                Mode::Status(code) => {
                    let status = StatusCode::from_u16(code).unwrap();
                    (code, status.into_response())
                }
                Mode::Serve if s.etag.is_some() && s.etag == if_none_match => {
                    let mut r = StatusCode::NOT_MODIFIED.into_response();
                    let etag = HeaderValue::from_str(s.etag.as_deref().unwrap()).unwrap();
                    r.headers_mut().insert("etag", etag);
                    (304, r)
                }
                Mode::Serve => {
                    let mut r = s.body.clone().into_response();
                    if let Some(etag) = &s.etag {
                        r.headers_mut()
                            .insert("etag", HeaderValue::from_str(etag).unwrap());
                    }
                    let sig = match &s.signature {
                        _ if s.unsigned => None,
                        Some(sig) => Some(sig.clone()),
                        None => Some(signature(&s.body, SECRET)),
                    };
                    if let Some(sig) = sig {
                        r.headers_mut()
                            .insert(SIGNATURE_HEADER, HeaderValue::from_str(&sig).unwrap());
                    }
                    (200, r)
                }
            }
        };
        s.seen.push(Seen {
            if_none_match,
            status,
        });
        (response, hang)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    response
}

/// Timeouts and backoff short enough for tests.
fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(160),
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(500),
    }
}

/// An agent polling `url`, with the secret its server signs with.
fn builder(url: &str) -> AgentBuilder {
    Agent::builder()
        .rules_url(url)
        .rules_secret(SECRET)
        .rules_refresh(PERIOD)
        .rules_url_policy(fast_policy())
}

async fn version_becomes(agent: &Agent, version: &str) -> bool {
    eventually(WAIT, || agent.rules_version().as_deref() == Some(version)).await
}

/// The status a request from `ip` (forwarded by 127.0.0.1, a trusted proxy) gets.
async fn status_for(base: &str, ip: &str) -> u16 {
    get_with(base, &[("x-forwarded-for", ip)]).await.0
}

#[tokio::test]
async fn a_changed_document_is_picked_up_and_enforced_by_the_layer() {
    let server = RulesServer::start(&doc("v1", "192.0.2.1"));
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);
    assert_eq!(
        agent.rules_source(),
        RulesSource::Url(server.url.clone()),
        "health can tell where the rules came from"
    );
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);
    assert_eq!(status_for(&base, "192.0.2.2").await, 200);

    server.set(&doc("v2", "192.0.2.2"), None, None);
    assert!(version_becomes(&agent, "v2").await);
    assert_eq!(status_for(&base, "192.0.2.1").await, 200);
    assert_eq!(status_for(&base, "192.0.2.2").await, 403);

    // without ETags the same document is fetched again, but not put in force again
    let loaded = agent.stats().rules_loaded;
    let polls = agent.stats().rules_remote.polls;
    assert!(eventually(WAIT, || agent.stats().rules_remote.polls >= polls + 3).await);
    let stats = agent.stats();
    assert_eq!(stats.rules_loaded, loaded);
    assert_eq!(stats.rules_remote.updates, 2);
    assert_eq!(stats.rules_remote.failures, 0);
}

#[tokio::test]
async fn the_etag_is_sent_back_and_a_304_keeps_the_rules() {
    let server = RulesServer::start("");
    server.set(&doc("v1", "192.0.2.1"), Some("\"e1\""), None);
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);
    assert!(
        eventually(WAIT, || server
            .seen()
            .iter()
            .filter(|s| s.status == 304)
            .count()
            >= 3)
        .await
    );
    let seen = server.seen();
    assert_eq!(
        seen[0].if_none_match, None,
        "nothing to send the first time"
    );
    assert_eq!(seen[0].status, 200);
    for s in &seen[1..] {
        assert_eq!(s.if_none_match.as_deref(), Some("\"e1\""));
    }
    // the server logs a 304 before the agent has counted it
    assert!(eventually(WAIT, || agent.stats().rules_remote.not_modified >= 3).await);
    let stats = agent.stats();
    assert_eq!(stats.rules_remote.updates, 1);
    assert_eq!(
        stats.rules_loaded, 2,
        "the start, then v1: a 304 installs nothing"
    );
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);

    // a new document, with a new ETag
    server.set(&doc("v2", "192.0.2.2"), Some("\"e2\""), None);
    assert!(version_becomes(&agent, "v2").await);
    assert!(
        eventually(WAIT, || server
            .seen()
            .last()
            .is_some_and(|s| s.if_none_match.as_deref() == Some("\"e2\"")))
        .await
    );

    // shutdown stops the poller: no request after the one that may be in flight
    agent.shutdown(Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after_shutdown = server.seen().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.seen().len(), after_shutdown);
    assert_eq!(status_for(&base, "192.0.2.2").await, 403, "rules stay");
}

#[tokio::test]
async fn broken_documents_and_errors_never_replace_the_rules_in_force() {
    let server = RulesServer::start(&doc("v1", "192.0.2.1"));
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);

    // not JSON
    server.set("{ not json", None, None);
    assert!(eventually(WAIT, || agent.stats().rules_remote.invalid >= 2).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);

    // JSON, but an invalid document (a threshold of 0)
    let invalid = r#"{"version": "v2", "ip_denylist": ["192.0.2.2"], "playbooks": [{"id": "x",
        "trigger": {"event": "e", "threshold": 0, "period": "5m", "actor": "ip"}}]}"#;
    server.set(invalid, None, None);
    let before = agent.stats().rules_remote.invalid;
    assert!(eventually(WAIT, || agent.stats().rules_remote.invalid >= before + 2).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(status_for(&base, "192.0.2.2").await, 200);
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);

    // server errors
    server.with(|s| s.mode = Some(Mode::Status(500)));
    assert!(eventually(WAIT, || agent.stats().rules_remote.failures >= 2).await);
    server.with(|s| s.mode = Some(Mode::Status(404)));
    let before = agent.stats().rules_remote.failures;
    assert!(eventually(WAIT, || agent.stats().rules_remote.failures > before).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);

    // a good document again
    server.set(&doc("v3", "192.0.2.3"), None, None);
    assert!(version_becomes(&agent, "v3").await);
    assert_eq!(status_for(&base, "192.0.2.1").await, 200);
    assert_eq!(status_for(&base, "192.0.2.3").await, 403);
    let stats = agent.stats();
    assert_eq!(stats.rules_remote.updates, 2);
    assert!(
        stats.rules_rejected >= 4,
        "invalid documents are rejections"
    );
}

#[tokio::test]
async fn with_a_secret_only_correctly_signed_documents_are_taken() {
    let v1 = doc("v1", "192.0.2.1");
    let server = RulesServer::start("");
    server.set(&v1, None, Some(signature(&v1, SECRET)));
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);

    // signed with another secret
    let v2 = doc("v2", "192.0.2.2");
    server.set(&v2, None, Some(signature(&v2, "not-the-secret")));
    assert!(eventually(WAIT, || agent.stats().rules_remote.bad_signature >= 2).await);
    // signed, but for another body
    server.set(&v2, None, Some(signature(&v1, SECRET)));
    let before = agent.stats().rules_remote.bad_signature;
    assert!(
        eventually(WAIT, || agent.stats().rules_remote.bad_signature
            >= before + 2)
        .await
    );
    // unsigned
    server.set_unsigned(&v2);
    let before = agent.stats().rules_remote.bad_signature;
    assert!(
        eventually(WAIT, || agent.stats().rules_remote.bad_signature
            >= before + 2)
        .await
    );
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);
    assert_eq!(status_for(&base, "192.0.2.2").await, 200);

    // correctly signed (a bare hex digest is accepted too)
    let bare = signature(&v2, SECRET).replace("sha256=", "");
    server.set(&v2, None, Some(bare));
    assert!(version_becomes(&agent, "v2").await);
    assert_eq!(status_for(&base, "192.0.2.2").await, 403);
    assert_eq!(agent.stats().rules_remote.updates, 2);
}

/// Runs an agent on `server` until its document `version` is in force and cached at `cache`.
async fn fetch_and_cache(builder: AgentBuilder, cache: &Path, version: &str) {
    let agent = builder.rules_cache_path(cache).build().unwrap();
    assert!(version_becomes(&agent, version).await);
    assert!(
        eventually(WAIT, || std::fs::read_to_string(cache)
            .is_ok_and(|c| c.contains(&format!("\\\"{version}\\\""))))
        .await
    );
    agent.shutdown(Duration::from_secs(1));
    // let a request in flight at shutdown land before the test goes on
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn cache_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.cache.json");
    (dir, path)
}

#[tokio::test]
async fn a_cold_start_while_the_url_is_down_uses_the_cached_document() {
    let (_dir, cache) = cache_path();
    let mut server = RulesServer::start(&doc("v1", "192.0.2.1"));
    fetch_and_cache(builder(&server.url), &cache, "v1").await;
    server.stop();

    let agent = builder(&server.url)
        .rules_cache_path(&cache)
        .build()
        .unwrap();
    // in force from the first request on, without waiting for the URL
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(agent.rules_source(), RulesSource::UrlCache(cache.clone()));
    let base = serve(&agent).await;
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);
    assert!(eventually(WAIT, || agent.stats().rules_remote.failures >= 2).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(status_for(&base, "192.0.2.1").await, 403);
    assert_eq!(agent.stats().rules_remote.cache_errors, 0);
}

#[tokio::test]
async fn a_cold_start_sends_the_cached_etag_and_a_304_confirms_the_cache() {
    let (_dir, cache) = cache_path();
    let server = RulesServer::start("");
    server.set(&doc("v1", "192.0.2.1"), Some("\"e1\""), None);
    fetch_and_cache(builder(&server.url), &cache, "v1").await;

    // the next agent's first request hangs until it times out: the cache is in force meanwhile
    server.with(|s| s.hang = 1);
    let seen_before = server.seen().len();
    let agent = builder(&server.url)
        .rules_cache_path(&cache)
        .build()
        .unwrap();
    assert_eq!(agent.rules_source(), RulesSource::UrlCache(cache.clone()));
    assert!(
        eventually(WAIT, || agent.rules_source()
            == RulesSource::Url(server.url.clone()))
        .await
    );
    let seen = server.seen();
    let answered = &seen[seen_before + 1];
    assert_eq!(answered.if_none_match.as_deref(), Some("\"e1\""));
    assert_eq!(answered.status, 304);
    let stats = agent.stats();
    assert_eq!(stats.rules_remote.failures, 1, "the timeout");
    assert_eq!(stats.rules_remote.updates, 0);
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
}

#[tokio::test]
async fn with_a_secret_the_cache_is_verified_and_a_tampered_one_refused() {
    let (_dir, cache) = cache_path();
    let v1 = doc("v1", "192.0.2.1");
    let mut server = RulesServer::start("");
    server.set(&v1, None, Some(signature(&v1, SECRET)));
    fetch_and_cache(builder(&server.url), &cache, "v1").await;
    server.stop();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(stored["signature"], signature(&v1, SECRET));
    assert_eq!(stored["document"], v1.as_str());

    let cold_start = || {
        builder(&server.url)
            .rules_cache_path(&cache)
            .build()
            .unwrap()
    };
    let agent = cold_start();
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(agent.stats().rules_remote.cache_errors, 0);
    agent.shutdown(Duration::from_secs(1));

    // someone edits the cached document: the signature no longer matches
    let tampered = std::fs::read_to_string(&cache)
        .unwrap()
        .replace("192.0.2.1", "192.0.2.9");
    std::fs::write(&cache, tampered).unwrap();
    let agent = cold_start();
    assert_eq!(agent.rules_version(), None);
    assert_eq!(agent.rules_source(), RulesSource::None);
    assert_eq!(agent.stats().rules_remote.cache_errors, 1);
    let base = serve(&agent).await;
    assert_eq!(status_for(&base, "192.0.2.9").await, 200);

    // and a cache written without a secret is refused once a secret is set
    let unsigned = serde_json::json!({"format": 1, "url": server.url, "fetched_at": "",
        "etag": null, "signature": null, "document": v1});
    std::fs::write(&cache, unsigned.to_string()).unwrap();
    assert_eq!(cold_start().rules_version(), None);
}

#[tokio::test]
async fn a_failing_server_is_not_hammered_and_is_used_again_once_it_recovers() {
    let server = RulesServer::start(&doc("v1", "192.0.2.1"));
    server.with(|s| s.mode = Some(Mode::Status(503)));
    // polled every 10 ms when all is well: ~100 requests a second without backoff
    let agent = builder(&server.url)
        .rules_refresh(Duration::from_millis(10))
        .build()
        .unwrap();
    let window = Duration::from_millis(1200);
    tokio::time::sleep(window).await;
    let requests = server.seen().len();
    // the waits are at least 10, 20, 40, then 80 ms (half of the 160 ms cap)
    assert!(
        (3..=20).contains(&requests),
        "{requests} requests in {window:?}"
    );
    let failures = agent.stats().rules_remote.failures as usize;
    assert!(failures.abs_diff(requests) <= 1, "{failures} vs {requests}");
    assert_eq!(agent.rules_version(), None);

    let recovered = Instant::now();
    server.with(|s| s.mode = None);
    assert!(version_becomes(&agent, "v1").await);
    assert!(
        recovered.elapsed() < Duration::from_millis(1000),
        "the wait is capped: {:?}",
        recovered.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_url_is_retried_with_backoff_too() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let agent = builder(&format!("http://{closed}/rules.json"))
        .rules_refresh(Duration::from_millis(10))
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let stats = agent.stats().rules_remote;
    assert!((3..=20).contains(&stats.polls), "{stats:?}");
    assert!(stats.polls - stats.failures <= 1, "{stats:?}");
}

#[test]
fn a_rules_url_and_a_rules_file_together_are_a_configuration_error() {
    let err = Agent::builder()
        .rules_path("/etc/sqreen/rules.json")
        .rules_url("http://127.0.0.1:9/rules.json")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_RULES_URL"));
    assert!(err.to_string().contains("SQREEN_RULES_PATH"), "{err}");
    let err = Agent::builder()
        .rules_url("ftp://rules.example.com/")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("rules_url"));
}

/// Log output captured by the global subscriber (set by the one test that reads it).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Lines about `url` containing `text`.
    fn count(&self, url: &str, text: &str) -> usize {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.contains(url) && l.contains(text))
            .count()
    }
}

#[tokio::test]
async fn failures_are_logged_once_per_kind_until_the_url_answers_well() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();
    let server = RulesServer::start(&doc("v1", "192.0.2.1"));
    let url = server.url.clone();
    server.with(|s| s.mode = Some(Mode::Status(503)));
    let agent = builder(&url).build().unwrap();
    let failures = |n: u64| {
        let agent = agent.clone();
        move || agent.stats().rules_remote.failures >= n
    };
    assert!(eventually(WAIT, failures(4)).await);
    assert_eq!(
        logs.count(&url, "rules URL failed"),
        1,
        "one line for the outage"
    );

    server.set("{ not json", None, None);
    assert!(eventually(WAIT, || agent.stats().rules_remote.invalid >= 3).await);
    assert_eq!(
        logs.count(&url, "rejected"),
        1,
        "one line per refused document"
    );

    server.set(&doc("v1", "192.0.2.1"), None, None);
    assert!(version_becomes(&agent, "v1").await);
    // logged by the poller just after it installs the document
    assert!(eventually(WAIT, || logs.count(&url, "answering well again") >= 1).await);
    assert_eq!(logs.count(&url, "answering well again"), 1);

    // a new outage is news again
    server.with(|s| s.mode = Some(Mode::Status(503)));
    let now = agent.stats().rules_remote.failures;
    assert!(eventually(WAIT, failures(now + 3)).await);
    assert_eq!(logs.count(&url, "rules URL failed"), 2);
}

#[tokio::test]
async fn health_and_metrics_report_the_rules_url() {
    const TOKEN: &str = "0123456789abcdef-token";
    let server = RulesServer::start(&doc("v1", "192.0.2.1"));
    let agent = builder(&server.url).admin_token(TOKEN).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);
    server.set("{ not json", None, None);
    assert!(eventually(WAIT, || agent.stats().rules_remote.invalid >= 1).await);
    let auth = format!("Bearer {TOKEN}");

    let (status, health) = get_with(
        &format!("{base}/_sqreen/health"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["rules_source"], format!("url {}", server.url));
    assert_eq!(health["rules_version"], "v1");

    let (status, metrics) = get_with(
        &format!("{base}/_sqreen/metrics"),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 200);
    let sample = |line: &str| -> Option<u64> {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
    };
    assert_eq!(
        sample(r#"sqreen_rules_remote_polls_total{result="updated"}"#),
        Some(1)
    );
    assert!(sample(r#"sqreen_rules_remote_polls_total{result="invalid"}"#).unwrap() >= 1);
    assert_eq!(sample("sqreen_rules_remote_cache_errors_total"), Some(0));
}

/// A signed document binds its time (`issued_at`): an older signed document served again, a
/// different one of the same time, or one stating no time, is refused and counted as stale;
/// the rules cannot be rolled back by replaying what the server once signed.
#[tokio::test]
async fn a_replayed_older_signed_document_is_refused() {
    let (v1, v2, v3) = (
        doc("v1", "192.0.2.1"),
        doc("v2", "192.0.2.2"),
        doc("v3", "192.0.2.3"),
    );
    let server = RulesServer::start(&v2);
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v2").await);

    // the older v1, correctly signed: refused
    server.set(&v1, None, None);
    assert!(eventually(WAIT, || agent.stats().rules_remote.stale >= 2).await);
    // another document stating v2's time: refused too
    let twin = doc("v2", "192.0.2.9").replace("\"v2\"", "\"v2-twin\"");
    server.set(&twin, None, None);
    let before = agent.stats().rules_remote.stale;
    assert!(eventually(WAIT, || agent.stats().rules_remote.stale >= before + 2).await);
    // signed, but with no time at all
    server.set(r#"{"version": "v9", "ip_denylist": []}"#, None, None);
    let before = agent.stats().rules_remote.stale;
    assert!(eventually(WAIT, || agent.stats().rules_remote.stale >= before + 2).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v2"));
    assert_eq!(status_for(&base, "192.0.2.2").await, 403);
    assert_eq!(status_for(&base, "192.0.2.1").await, 200);
    assert_eq!(agent.stats().rules_remote.updates, 1);

    // a newer one is taken
    server.set(&v3, None, None);
    assert!(version_becomes(&agent, "v3").await);
    assert_eq!(status_for(&base, "192.0.2.3").await, 403);
}

/// After a restart from the disk cache, the cached document's time is the one to beat.
#[tokio::test]
async fn after_a_cold_start_an_older_document_is_still_refused() {
    let (_dir, cache) = cache_path();
    let server = RulesServer::start(&doc("v2", "192.0.2.2"));
    fetch_and_cache(builder(&server.url), &cache, "v2").await;
    server.set(&doc("v1", "192.0.2.1"), None, None);
    let agent = builder(&server.url)
        .rules_cache_path(&cache)
        .build()
        .unwrap();
    assert_eq!(agent.rules_version().as_deref(), Some("v2"));
    assert!(eventually(WAIT, || agent.stats().rules_remote.stale >= 2).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v2"));
}

/// Plain `http://` needs the signing secret, and the secret must be a full-strength key.
#[test]
fn plain_http_needs_a_secret_of_at_least_32_bytes() {
    let err = Agent::builder()
        .rules_url("http://127.0.0.1:9/rules.json")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_RULES_URL"), "{err}");
    assert!(err.to_string().contains("SQREEN_RULES_SECRET"), "{err}");
    let err = Agent::builder()
        .rules_url("http://127.0.0.1:9/rules.json")
        .rules_secret("short-secret")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_RULES_SECRET"), "{err}");
    assert!(
        !err.to_string().contains("short-secret"),
        "the secret is not echoed: {err}"
    );
    let agent = Agent::builder()
        .rules_url("http://127.0.0.1:9/rules.json")
        .rules_secret(SECRET)
        .rules_url_policy(fast_policy())
        .build()
        .unwrap();
    agent.shutdown(Duration::from_millis(100));
}

#[tokio::test]
async fn a_new_document_from_the_url_swaps_the_waf_exclusions_whole() {
    let excluding = |version: &str, path: &str| {
        let n: u32 = version.trim_start_matches('v').parse().unwrap();
        format!(
            r#"{{"version": "{version}", "issued_at": "2026-01-01T00:{n:02}:00Z",
                "waf": {{"mode": "block", "exclusions": [{{"path": "{path}", "categories": ["xss"]}}]}}}}"#
        )
    };
    let server = RulesServer::start(&excluding("v1", "/"));
    let agent = builder(&server.url).build().unwrap();
    let base = serve(&agent).await;
    assert!(version_becomes(&agent, "v1").await);
    let xss = format!("{base}/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(get_with(&xss, &[]).await.0, 200, "excluded on /");
    server.set(&excluding("v2", "/elsewhere/*"), None, None);
    assert!(version_becomes(&agent, "v2").await);
    assert_eq!(get_with(&xss, &[]).await.0, 403, "the exclusion moved away");
    // an invalid exclusion keeps the one in force
    server.set(&excluding("v3", "/**x"), None, None);
    let invalid = agent.stats().rules_remote.invalid;
    assert!(eventually(WAIT, || agent.stats().rules_remote.invalid > invalid).await);
    assert_eq!(agent.rules_version().as_deref(), Some("v2"));
    assert_eq!(get_with(&xss, &[]).await.0, 403);
}
