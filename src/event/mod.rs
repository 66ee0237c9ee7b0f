//! Security events: what happened, to whom, when; and the sink they are handed to.
//!
//! Every `track` call, built-in event (logins, signups) and playbook firing becomes an [`Event`]
//! handed to the agent's [`EventSink`]. The sink must not block: it runs on the request path.
//! The default sink logs events at debug level; the delivery pipeline (JSON-lines file,
//! webhooks, Slack) plugs in here. Built-in event names live in [`names`].

pub mod names;

use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::context::Rid;

/// One security event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// The event's name, e.g. `user.invited` or `app.sqreen.auth.login_failure`.
    pub name: String,
    /// When it happened (milliseconds since the Unix epoch, from the agent's clock).
    pub timestamp: Millis,
    /// The request it happened in, if any.
    pub rid: Option<Rid>,
    /// The client IP, if known.
    pub client_ip: Option<IpAddr>,
    /// The user's canonical id, if known.
    pub user: Option<String>,
    /// What the caller said about it (a JSON object of at most 16 keys).
    pub properties: Map<String, Value>,
}

impl Serialize for Rid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where events go. Called on the request path: implementations must return at once (queue the
/// event; never do I/O or wait on a lock held across I/O).
pub trait EventSink: Send + Sync + 'static {
    /// Takes one event.
    fn record(&self, event: &Event);

    /// False when the sink drops every event, so the agent need not build them.
    fn wants_events(&self) -> bool {
        true
    }
}

/// The default sink: events are logged at debug level (target `sqreen::event`) and go nowhere else.
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
