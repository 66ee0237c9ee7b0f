//! Playbook notifications: what a fired playbook tells people, and the [`Notifier`] it goes to.
//!
//! The agent hands a [`PlaybookNotification`] to its notifier each time a playbook fires. Like
//! event sinks, a notifier runs on the request path and must return at once. The default
//! [`LogNotifier`] writes a log line. Delivery to people and machines happens on the event
//! pipeline's background threads, through [`webhook`] (signed, retried), [`slack`] and
//! [`email`] (SMTP, retried).

pub(crate) mod delivery;
pub mod email;
pub(crate) mod queue;
pub mod slack;
pub mod webhook;

use std::time::Duration;

use serde::Serialize;

use crate::clock::Millis;
use crate::playbook::{Frequency, Severity};

pub use delivery::{validate_url, Outcome, RetryPolicy, RetryReason};

/// What people are told when a playbook fires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlaybookNotification {
    /// The playbook's id.
    pub playbook_id: String,
    /// The playbook's name.
    pub playbook_name: String,
    /// Its notification severity.
    pub severity: Severity,
    /// Its notification frequency.
    pub frequency: Frequency,
    /// Whether the webhook is to be called.
    pub webhook: bool,
    /// Whether Slack is to be told.
    pub slack: bool,
    /// Whether the email recipients are to be told.
    pub email: bool,
    /// The actor, e.g. `ip 192.0.2.7` or `user alice@example.com`.
    pub actor: String,
    /// The trigger's event pattern.
    pub event: String,
    /// Events counted when it fired.
    pub count: u64,
    /// The trigger's threshold.
    pub threshold: u32,
    /// The trigger's period.
    #[serde(serialize_with = "crate::duration::serialize_short")]
    pub period: Duration,
    /// The response applied, e.g. `block for 24h`, `redirect to /blocked for 1h`, `none`.
    pub action: String,
    /// When it fired (milliseconds since the Unix epoch).
    pub at: Millis,
}

/// Where playbook notifications go. Called on the request path: must return at once.
pub trait Notifier: Send + Sync + 'static {
    /// Takes one notification.
    fn notify(&self, notification: &PlaybookNotification);
}

/// The default notifier: one `info` log line per notification (target `sqreen::notify`).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn notify(&self, n: &PlaybookNotification) {
        tracing::info!(
            target: "sqreen::notify",
            playbook = %n.playbook_id,
            severity = %n.severity,
            actor = %n.actor,
            count = n.count,
            action = %n.action,
            "playbook {:?} fired: {} did {} {} times within {}",
            n.playbook_name,
            n.actor,
            n.event,
            n.count,
            crate::duration::format_duration(n.period),
        );
    }
}

impl<F: Fn(&PlaybookNotification) + Send + Sync + 'static> Notifier for F {
    fn notify(&self, notification: &PlaybookNotification) {
        self(notification)
    }
}
