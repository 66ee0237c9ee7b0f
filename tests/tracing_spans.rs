//! The `sqreen.request` span and W3C trace ids, through real HTTP: a capturing `tracing` layer
//! records every span's fields and parent; an event sink records the events.

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::get;
use common::{client, serve_router};
use serde_json::Value;
use sqreen::event::Event;
use sqreen::{Agent, UserKeys};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// One span as the capturing layer saw it.
#[derive(Clone, Debug, Default)]
struct Captured {
    name: String,
    target: String,
    level: String,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<BTreeMap<u64, Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        let mut span = Captured {
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: meta.level().to_string(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| p.id().into_u64()),
            ..Captured::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        self.0.lock().unwrap().insert(id.into_u64(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

/// The capture, installed once as the global subscriber (requests run on the runtime's workers).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

impl Capture {
    /// The `sqreen.request` span of the request `rid`, with its id.
    fn request(&self, rid: &str) -> (u64, Captured) {
        let spans = self.0.lock().unwrap();
        let found = spans.iter().find(|(_, s)| {
            s.name == "sqreen.request" && s.fields.get("rid").map(String::as_str) == Some(rid)
        });
        let (id, span) = found.unwrap_or_else(|| panic!("no span for {rid}: {spans:?}"));
        (*id, span.clone())
    }

    /// The spans named `name` whose parent is `parent`.
    fn children(&self, parent: u64, name: &str) -> usize {
        let spans = self.0.lock().unwrap();
        spans
            .values()
            .filter(|s| s.name == name && s.parent == Some(parent))
            .count()
    }
}

/// An agent that denies 203.0.113.0/24 and mallory, and keeps its events.
fn agent() -> (Agent, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let agent = Agent::builder()
        .rules_json(
            r#"{"ip_denylist": ["203.0.113.0/24"], "user_denylist": ["mallory@example.com"]}"#,
        )
        .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    (agent, events)
}

/// `/me?user=...`: identifies the user, tracks an event, opens the app's own span, answers the
/// request id.
fn router(agent: &Agent) -> axum::Router {
    axum::Router::new()
        .route(
            "/me",
            get(
                |q: axum::extract::Query<BTreeMap<String, String>>| async move {
                    let _app = tracing::info_span!("app.handler").entered();
                    let user = q.get("user").cloned().unwrap_or_default();
                    sqreen::identify(UserKeys::new().with("email", user));
                    sqreen::track("app.viewed", serde_json::json!({}));
                    sqreen::RequestContext::current().unwrap().rid().to_string()
                },
            ),
        )
        .layer(agent.layer().axum())
}

async fn get_json(url: &str, ip: &str, traceparent: Option<&str>) -> (u16, String) {
    let mut req = client()
        .get(url)
        .header("x-forwarded-for", ip)
        .header("accept", "application/json");
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passed_request_has_its_span_with_rid_client_ip_user_and_verdict() {
    let capture = capture();
    let (agent, _) = agent();
    let base = serve_router(router(&agent)).await;
    let (status, rid) = get_json(
        &format!("{base}/me?user=alice@example.com"),
        "192.0.2.90",
        None,
    )
    .await;
    assert_eq!(status, 200, "{rid}");
    let (id, span) = capture.request(&rid);
    assert_eq!(
        (span.target.as_str(), span.level.as_str()),
        ("sqreen", "INFO")
    );
    assert_eq!(span.fields["client_ip"], "192.0.2.90");
    assert_eq!(span.fields["user"], "alice@example.com");
    assert_eq!(span.fields["verdict"], "pass");
    assert!(!span.fields.contains_key("trace_id"), "{span:?}");
    // the handler ran inside it
    assert_eq!(capture.children(id, "app.handler"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_requests_have_their_verdict_and_trace_id_in_span_events_and_json_page() {
    let capture = capture();
    let (agent, events) = agent();
    let base = serve_router(router(&agent)).await;

    // a denied IP, answered before the handler
    let (status, body) = get_json(&format!("{base}/me"), "203.0.113.5", Some(TRACEPARENT)).await;
    assert_eq!(status, 403);
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["trace_id"], TRACE_ID, "{page}");
    let rid = page["security_response_id"].as_str().unwrap();
    let (_, span) = capture.request(rid);
    assert_eq!(span.fields["verdict"], "blocked_ip");
    assert_eq!(span.fields["trace_id"], TRACE_ID);
    assert_eq!(span.fields["client_ip"], "203.0.113.5");

    // a denied user, named by the handler: the page replaces its response
    let url = format!("{base}/me?user=mallory@example.com");
    let (status, body) = get_json(&url, "192.0.2.91", Some(TRACEPARENT)).await;
    assert_eq!(status, 403);
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["trace_id"], TRACE_ID, "{page}");
    let (_, span) = capture.request(page["security_response_id"].as_str().unwrap());
    assert_eq!(span.fields["verdict"], "blocked_user");
    assert_eq!(span.fields["user"], "mallory@example.com");

    // every event of both requests has the trace id: the two denials and the handler's track
    let events = events.lock().unwrap();
    let names: Vec<_> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "app.sqreen.ip.denied",
            "app.sqreen.user.denied",
            "app.viewed"
        ]
    );
    for event in events.iter() {
        assert_eq!(event.trace_id.as_deref(), Some(TRACE_ID), "{event:?}");
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["trace_id"], TRACE_ID);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_traceparents_are_ignored() {
    let capture = capture();
    let (agent, events) = agent();
    let base = serve_router(router(&agent)).await;
    let invalid = [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ];
    for tp in invalid {
        let (status, body) = get_json(&format!("{base}/me"), "203.0.113.6", Some(tp)).await;
        assert_eq!(status, 403);
        let page: Value = serde_json::from_str(&body).unwrap();
        assert!(page.get("trace_id").is_none(), "{tp}: {page}");
        let (_, span) = capture.request(page["security_response_id"].as_str().unwrap());
        assert!(!span.fields.contains_key("trace_id"), "{tp}: {span:?}");
    }
    let events = events.lock().unwrap();
    assert_eq!(events.len(), invalid.len());
    assert!(events.iter().all(|e| e.trace_id.is_none()), "{events:?}");
    assert!(events
        .iter()
        .all(|e| serde_json::to_value(e).unwrap().get("trace_id").is_none()));
}
