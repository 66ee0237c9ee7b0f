//! Security events: what happened, to whom, when, in which request; and where they go.
//!
//! Every `track` call, built-in event (logins, signups) and playbook firing becomes an [`Event`]
//! shaped like a Sqreen event (DESIGN section 8): name, RFC 3339 timestamp, a bounded request
//! summary, properties, client IP, user and IP metadata. Events are redacted as they are built
//! ([`redact`]), on the request path, so no sink ever sees a secret. They then go to the agent's
//! [`EventSink`] (a user hook; by default debug log lines) and, when a file, webhook or Slack is
//! configured, or the admin API (which keeps the recent ones in a `ring`), to the background
//! pipeline (`pipeline`). Nothing here blocks the request.

mod digests;
mod email_delivery;
mod log_file;
pub mod names;
pub(crate) mod pipeline;
pub mod redact;
pub(crate) mod ring;
mod summary;
pub mod time;

use std::net::IpAddr;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::ip::IpMetadata;

pub use pipeline::{DeliveryError, PipelineStats};

/// One security event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// The event's name, e.g. `user.invited` or `app.sqreen.auth.login_failure`.
    pub name: String,
    /// When it happened (milliseconds since the Unix epoch; RFC 3339 in JSON).
    #[serde(serialize_with = "serialize_time")]
    pub timestamp: Millis,
    /// The request it happened in, if any.
    pub request: Option<RequestSummary>,
    /// What the caller said about it (a JSON object of at most 16 keys), redacted.
    pub properties: Map<String, Value>,
    /// The client IP, if known.
    pub client_ip: Option<IpAddr>,
    /// The user's keys (`{"email": ...}`; `{"id": ...}` for `track_for`), redacted.
    pub user: Option<Map<String, Value>>,
    /// What the client IP is.
    pub ip_meta: Option<IpMeta>,
    /// The W3C trace id (32 lowercase hex digits) of the request's `traceparent` header, to
    /// join the event to the app's traces; absent from the JSON when the request had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

pub use summary::RequestSummary;

/// What the client IP is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IpMeta {
    /// The address.
    pub address: IpAddr,
    /// Critical for this agent (private, load balancer, ...): never acted on by playbooks.
    pub critical: bool,
    /// Address classes.
    pub metadata: IpMetadata,
    /// In the Tor exit list (`SQREEN_TOR_EXIT_LIST`); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tor: Option<bool>,
    /// In the datacenter ranges (`SQREEN_DATACENTER_RANGES`); absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<bool>,
    /// The provider the datacenter ranges name for the address; absent when they name none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Where the address is, from the MaxMind DB (`SQREEN_GEOIP_DB`): `code`, `city`, `point`
    /// `[longitude, latitude]`, each when the database has it; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<crate::intel::Geo>,
    /// The address's autonomous system number, when the MaxMind DB has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
}

fn serialize_time<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time::rfc3339(*ms))
}

impl Serialize for crate::context::keys::Rid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Event {
    /// True for the events the webhook gets by default (`SQREEN_WEBHOOK_EVENTS=security`):
    /// attacks and scanner hits.
    pub fn is_security(&self) -> bool {
        self.name.starts_with("app.sqreen.attack.") || self.name == names::HTTP_SCANNER
    }
}

/// Where events go besides the pipeline. Called on the request path: implementations must
/// return at once (queue the event; never do I/O or wait on a lock held across I/O).
pub trait EventSink: Send + Sync + 'static {
    /// Takes one event.
    fn record(&self, event: &Event);

    /// False when the sink drops every event, so the agent need not build them.
    fn wants_events(&self) -> bool {
        true
    }
}

/// The default sink: events are logged at debug level (target `sqreen::event`), redacted.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl EventSink for LogSink {
    fn record(&self, event: &Event) {
        let properties = serde_json::to_string(&event.properties).unwrap_or_default();
        tracing::debug!(
            target: "sqreen::event",
            name = %event.name,
            client_ip = ?event.client_ip,
            user = ?event.user,
            properties = %properties,
            "event"
        );
    }

    fn wants_events(&self) -> bool {
        tracing::enabled!(target: "sqreen::event", tracing::Level::DEBUG)
    }
}

impl<F: Fn(&Event) + Send + Sync + 'static> EventSink for F {
    fn record(&self, event: &Event) {
        self(event)
    }
}
