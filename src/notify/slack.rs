//! The Slack sink: playbook notifications and digests as Slack incoming-webhook messages
//! (`{"text": ..., "blocks": [...]}`) `POST`ed to `SQREEN_SLACK_WEBHOOK_URL`.
//!
//! This file owns what the messages say ([`notification_message`], [`digest_message`],
//! [`DigestEntry`]) and [`SlackSink`], which delivers them with the same retry rules as the
//! webhook (see [`RetryPolicy`]) and no signature. Messages are link-free: any URL in the text,
//! a redirect target included, is cut to its path, actors and events are shown as inline code
//! (never linked, never mentions), and Slack's control characters are escaped, since actors and
//! event names may come from attackers. It never logs a message or the URL's path (the path of a
//! Slack webhook URL is its secret), and it never runs on the request path.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use super::delivery::{Attempt, Outcome, Poster, RetryPolicy, RetryReason};
use super::webhook::rfc3339_millis;
use super::PlaybookNotification;
use crate::duration::format_duration;
use crate::playbook::{Frequency, Severity};

/// The most characters shown of any one name, actor, event or action.
const MAX_FIELD_CHARS: usize = 200;

/// The most actors listed in a digest.
const MAX_TOP_ACTORS: usize = 10;

/// One playbook's activity over one digest period (a day or a week).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DigestEntry {
    /// The playbook's id.
    pub playbook_id: String,
    /// The playbook's name.
    pub playbook_name: String,
    /// Its notification frequency (daily or weekly for a digest).
    pub frequency: Frequency,
    /// Times the playbook fired within the period.
    pub count: u64,
    /// The actors that made it fire most, with their counts, most first.
    pub top_actors: Vec<(String, u64)>,
    /// When it first fired within the period (milliseconds since the Unix epoch).
    pub first_ms: u64,
    /// When it last fired within the period.
    pub last_ms: u64,
    /// The period's start (inclusive).
    pub period_start_ms: u64,
    /// The period's end (exclusive).
    pub period_end_ms: u64,
}

/// The Slack message for a playbook that fired: its name, the actor, the count within the window
/// (the period), the response applied and the severity. Pure; link-free.
pub fn notification_message(n: &PlaybookNotification) -> Value {
    let emoji = severity_emoji(n.severity);
    let name = plain(&n.playbook_name);
    let actor = code(&n.actor);
    let event = code(&n.event);
    let action = code(&n.action);
    let period = format_duration(n.period);
    let severity = capitalized(n.severity.as_str());
    let text = format!(
        "{emoji} Sqreen playbook \"{}\" fired: {actor} did {event} {} times within {period}. \
         Response: {action}. Severity: {severity}.",
        mrkdwn(&n.playbook_name),
        n.count,
    );
    json!({
        "text": text,
        "unfurl_links": false,
        "unfurl_media": false,
        "blocks": [
            header(&format!("Playbook fired: {name}")),
            section(&format!(
                "{emoji} {actor} did {event} *{}* times within *{period}*.",
                n.count
            )),
            {
                "type": "section",
                "fields": [
                    field(&format!("*Response*\n{action}")),
                    field(&format!("*Severity*\n{emoji} {severity}")),
                    field(&format!("*Count*\n{} (threshold {})", n.count, n.threshold)),
                    field(&format!("*Window*\n{period}")),
                ],
            },
            context(&format!(
                "Playbook {} · {} notification · fired {}",
                code(&n.playbook_id),
                n.frequency,
                human_utc(n.at),
            )),
        ],
    })
}

/// The Slack message for one playbook's digest: how often it fired in the period, first and last
/// time, and the top actors. Pure; link-free.
pub fn digest_message(d: &DigestEntry) -> Value {
    let title = match d.frequency {
        Frequency::Daily => "Daily digest",
        Frequency::Weekly => "Weekly digest",
        Frequency::Immediately => "Digest",
    };
    let (start, end) = (human_utc(d.period_start_ms), human_utc(d.period_end_ms));
    let times = if d.count == 1 { "time" } else { "times" };
    let mut actors: Vec<String> = d
        .top_actors
        .iter()
        .take(MAX_TOP_ACTORS)
        .map(|(actor, count)| format!("• {}: {count}", code(actor)))
        .collect();
    if actors.is_empty() {
        actors.push("_none recorded_".to_string());
    }
    let top = d
        .top_actors
        .first()
        .map_or(String::new(), |(actor, count)| {
            format!(" Top actor: {} ({count}).", code(actor))
        });
    let text = format!(
        ":bar_chart: Sqreen {}: playbook \"{}\" fired {} {times} from {start} to {end}.{top}",
        title.to_lowercase(),
        mrkdwn(&d.playbook_name),
        d.count,
    );
    json!({
        "text": text,
        "unfurl_links": false,
        "unfurl_media": false,
        "blocks": [
            header(&format!("{title}: {}", plain(&d.playbook_name))),
            section(&format!(
                ":bar_chart: Fired *{}* {times} from {start} to {end}.",
                d.count
            )),
            {
                "type": "section",
                "fields": [
                    field(&format!("*First*\n{}", human_utc(d.first_ms))),
                    field(&format!("*Last*\n{}", human_utc(d.last_ms))),
                ],
            },
            section(&format!("*Top actors*\n{}", actors.join("\n"))),
            context(&format!(
                "Playbook {} · {} digest",
                code(&d.playbook_id),
                d.frequency
            )),
        ],
    })
}

/// Delivers Slack messages to one incoming-webhook URL.
///
/// ```no_run
/// use serde_json::json;
/// use sqreen::notify::slack::SlackSink;
/// use sqreen::notify::RetryPolicy;
///
/// let url = "https://hooks.slack.com/services/T000/B000/XXXX";
/// let sink = SlackSink::new(url, RetryPolicy::default());
/// let outcome = sink.send_text(&json!({ "text": "hello from sqreen" }), &|| false);
/// ```
pub struct SlackSink {
    poster: Poster,
}

impl fmt::Debug for SlackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackSink")
            .field("url", &self.poster.shown_url())
            .field("policy", self.poster.policy())
            .finish()
    }
}

impl SlackSink {
    /// A sink for `url`. An unusable URL is not an error here: every send then returns
    /// [`Outcome::Failed`]. Check it at set-up with [`validate_url`](super::validate_url).
    pub fn new(url: &str, policy: RetryPolicy) -> Self {
        SlackSink {
            poster: Poster::new("slack", url, policy),
        }
    }

    /// Calls `observer` for every failed attempt that will be retried. It runs on the sending
    /// thread and must return quickly.
    pub fn with_retry_observer(
        mut self,
        observer: impl Fn(&RetryReason) + Send + Sync + 'static,
    ) -> Self {
        self.poster.set_observer(Arc::new(observer));
        self
    }

    /// Sends [`notification_message`]`(n)`; see [`send_text`](Self::send_text).
    pub fn send_notification(&self, n: &PlaybookNotification, stop: &dyn Fn() -> bool) -> Outcome {
        self.send_text(&notification_message(n), stop)
    }

    /// Sends [`digest_message`]`(d)`; see [`send_text`](Self::send_text).
    pub fn send_digest(&self, d: &DigestEntry, stop: &dyn Fn() -> bool) -> Outcome {
        self.send_text(&digest_message(d), stop)
    }

    /// Sends any Slack message payload. Blocks until delivered or given up; retries connection
    /// errors, timeouts, 429 and 5xx (see [`RetryPolicy`]) until `stop()` is true.
    pub fn send_text(&self, payload: &Value, stop: &dyn Fn() -> bool) -> Outcome {
        let body = serde_json::to_vec(payload).expect("a JSON value serializes");
        self.poster.post_with_retries(
            &mut |_| Attempt {
                body: body.clone(),
                headers: Vec::new(),
            },
            stop,
        )
    }
}

fn header(text: &str) -> Value {
    // Slack cuts header blocks at 150 characters.
    json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate(text, 150), "emoji": true },
    })
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

fn field(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": text }] })
}

fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::High => ":red_circle:",
        Severity::Medium => ":large_orange_circle:",
        Severity::Low => ":large_blue_circle:",
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `2026-11-23 16:00:00 UTC`.
pub(crate) fn human_utc(ms: u64) -> String {
    let iso = rfc3339_millis(ms);
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

/// Untrusted text for a `plain_text` object: URLs cut to their path, controls made spaces, cut
/// to [`MAX_FIELD_CHARS`].
fn plain(s: &str) -> String {
    truncate(&strip_urls(&without_controls(s)), MAX_FIELD_CHARS)
}

/// Untrusted text for `mrkdwn`: as [`plain`], with `&`, `<` and `>` escaped (so no `<!channel>`,
/// `<@user>` or `<url|label>` can be written).
fn mrkdwn(s: &str) -> String {
    plain(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Untrusted text as `mrkdwn` inline code, which Slack neither links nor formats.
fn code(s: &str) -> String {
    let inner = mrkdwn(s).replace('`', "'");
    if inner.trim().is_empty() {
        "`-`".to_string()
    } else {
        format!("`{inner}`")
    }
}

fn without_controls(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Cuts every URL (`scheme://host/path?query#fragment`) in `s` down to its path (`/path`, or
/// `/`), so no link, host or query string reaches Slack.
pub(crate) fn strip_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for piece in s.split_inclusive(char::is_whitespace) {
        let token = piece.trim_end_matches(char::is_whitespace);
        out.push_str(&strip_url_token(token));
        out.push_str(&piece[token.len()..]);
    }
    out
}

fn strip_url_token(token: &str) -> String {
    let mut t = token.to_string();
    // Each round removes a `://` and the host, and adds at most one `/`: it ends.
    while let Some(sep) = t.find("://") {
        let scheme_start = t[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let rest = &t[sep + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let after = &rest[authority_end..];
        let path = if after.starts_with('/') {
            &after[..after.find(['?', '#']).unwrap_or(after.len())]
        } else {
            "/"
        };
        t = format!("{}{path}", &t[..scheme_start]);
    }
    t
}

#[cfg(test)]
#[path = "slack_tests.rs"]
mod tests;
