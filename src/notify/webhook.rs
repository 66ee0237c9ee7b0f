//! The webhook sink: batches of [`Message`]s `POST`ed as a JSON array to `SQREEN_WEBHOOK_URL`,
//! signed with `SQREEN_WEBHOOK_SECRET`, in the envelope Sqreen webhook receivers understand.
//!
//! This file owns the envelope ([`Message`], [`MessageType`], [`rfc3339_millis`]), the signature
//! ([`sign`], [`verify`]: lowercase hex HMAC-SHA256 of the raw body, header
//! `X-Sqreen-Integrity`) and [`WebhookSink`], which splits a batch into requests of at most
//! [`MAX_MESSAGES_PER_REQUEST`] and rebuilds and re-signs each request's body on every retry,
//! since `retry_count` is in it. Retries and timeouts are `delivery`'s. It never logs a body or
//! the secret, and it never runs on the request path: [`WebhookSink::send`] blocks its caller.
//!
//! A receiver checks a request like this:
//!
//! ```
//! use sqreen::notify::webhook::{sign, verify};
//!
//! let body = br#"[{"message_type":"test"}]"#;
//! let header = sign(body, b"secret"); // what `X-Sqreen-Integrity` carries
//! assert!(verify(body, b"secret", &header));
//! assert!(!verify(body, b"other secret", &header));
//! ```

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::delivery::{Attempt, Outcome, Poster, RetryPolicy, RetryReason};
use super::PlaybookNotification;

/// The header that carries the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Sqreen-Integrity";

/// The envelope's `api_version`.
pub const API_VERSION: &str = "2";

/// The most messages one request carries; [`WebhookSink::send`] splits larger batches.
pub const MAX_MESSAGES_PER_REQUEST: usize = 1_000;

/// What a webhook message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// An attack or a scanner hit (every event with `SQREEN_WEBHOOK_EVENTS=all`).
    SecurityEvent,
    /// A playbook fired (its notification has `webhook: true`).
    SecurityResponse,
    /// A daily or weekly digest.
    Digest,
    /// A test message, sent on demand.
    Test,
}

/// One webhook message in the Sqreen envelope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// Random 128-bit id, 32 lowercase hex digits; the same on every retry, so a receiver can
    /// drop duplicates.
    pub message_id: String,
    /// Always [`API_VERSION`] (`"2"`).
    pub api_version: &'static str,
    /// When the message was made, RFC 3339 UTC with milliseconds (`2026-11-23T16:00:00.123Z`).
    pub date_created: String,
    /// What the message is about.
    pub message_type: MessageType,
    /// How many times the message was sent before this request; [`WebhookSink::send`] raises
    /// it by one for each retry.
    pub retry_count: u32,
    /// The payload.
    pub message: serde_json::Value,
}

impl Message {
    /// A message made at `now_ms` (milliseconds since the Unix epoch) with a fresh random id and
    /// `retry_count` 0.
    pub fn new(message_type: MessageType, message: serde_json::Value, now_ms: u64) -> Self {
        Message {
            message_id: format!("{:032x}", rand::random::<u128>()),
            api_version: API_VERSION,
            date_created: rfc3339_millis(now_ms),
            message_type,
            retry_count: 0,
            message,
        }
    }

    /// A `security_response` message whose payload is the notification as JSON.
    pub fn security_response(notification: &PlaybookNotification, now_ms: u64) -> Self {
        let message = serde_json::to_value(notification).unwrap_or(serde_json::Value::Null);
        Message::new(MessageType::SecurityResponse, message, now_ms)
    }

    /// A `test` message, for checking a receiver.
    pub fn test(now_ms: u64) -> Self {
        let message = serde_json::json!({
            "text": "Test message from the sqreen-rs agent: the webhook works."
        });
        Message::new(MessageType::Test, message, now_ms)
    }
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds, e.g.
/// `2026-11-23T16:00:00.123Z`.
pub fn rfc3339_millis(ms_since_epoch: u64) -> String {
    crate::event::time::rfc3339(ms_since_epoch)
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length (longer ones are hashed), so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// The lowercase hex HMAC-SHA256 of `body` keyed with `secret`: the `X-Sqreen-Integrity` header.
pub fn sign(body: &[u8], secret: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature_hex` (either case) is [`sign`]`(body, secret)`; compared in constant time.
pub fn verify(body: &[u8], secret: &[u8], signature_hex: &str) -> bool {
    let Ok(expected) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Delivers message batches to one webhook URL.
///
/// ```no_run
/// use sqreen::notify::webhook::{Message, WebhookSink};
/// use sqreen::notify::RetryPolicy;
///
/// let url = "https://hooks.example.com/sqreen";
/// let sink = WebhookSink::new(url, Some("secret"), RetryPolicy::default());
/// let mut batch = vec![Message::test(1_795_449_600_123)];
/// let outcome = sink.send(&mut batch, &|| false); // blocks until delivered or given up
/// assert!(outcome.is_delivered());
/// ```
pub struct WebhookSink {
    poster: Poster,
    secret: Option<Vec<u8>>,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.poster.shown_url())
            .field("signed", &self.secret.is_some())
            .field("policy", self.poster.policy())
            .finish()
    }
}

impl WebhookSink {
    /// A sink for `url`, signing with `secret` (`None` or empty: no `X-Sqreen-Integrity` header).
    ///
    /// An unusable URL is not an error here: every [`send`](Self::send) then returns
    /// [`Outcome::Failed`]. Check it at set-up with [`validate_url`](super::validate_url).
    pub fn new(url: &str, secret: Option<&str>, policy: RetryPolicy) -> Self {
        WebhookSink {
            poster: Poster::new("webhook", url, policy),
            secret: secret
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec()),
        }
    }

    /// Calls `observer` for every failed attempt that will be retried (e.g. to count failures
    /// by status). It runs on the sending thread and must return quickly.
    pub fn with_retry_observer(
        mut self,
        observer: impl Fn(&RetryReason) + Send + Sync + 'static,
    ) -> Self {
        self.poster.set_observer(Arc::new(observer));
        self
    }

    /// Sends `batch`, in requests of at most [`MAX_MESSAGES_PER_REQUEST`] messages, one after
    /// the other. Blocks until each is delivered or given up; retries (see [`RetryPolicy`])
    /// until `stop()` is true, obeying it within about 20 ms while waiting between attempts.
    ///
    /// Each retry raises `retry_count` by one in every message of its request (in `batch`
    /// itself), and the body is signed anew. On return, each message's `retry_count` is the one
    /// its last request carried: the number of retries it took (unchanged if never sent).
    ///
    /// The outcome: [`Outcome::Delivered`] when every request was (`attempts` summed over them);
    /// otherwise the first request's outcome that was not. A request that is rejected (3xx, 4xx
    /// other than 429) does not stop the others; a request abandoned (`stop`) or failed (bad
    /// URL) does, and the messages after it are not sent. An empty batch sends nothing and is
    /// `Delivered { attempts: 0 }`.
    pub fn send(&self, batch: &mut [Message], stop: &dyn Fn() -> bool) -> Outcome {
        let mut attempts: u32 = 0;
        let mut first_rejection = None;
        for chunk in batch.chunks_mut(MAX_MESSAGES_PER_REQUEST) {
            match self.send_request(chunk, stop) {
                Outcome::Delivered { attempts: n } => attempts = attempts.saturating_add(n),
                rejected @ Outcome::Rejected { .. } => {
                    tracing::warn!(
                        target: "sqreen::notify",
                        url = %self.poster.shown_url(), messages = chunk.len(),
                        "webhook messages dropped: the receiver rejected them",
                    );
                    first_rejection.get_or_insert(rejected);
                }
                other => return first_rejection.unwrap_or(other),
            }
        }
        first_rejection.unwrap_or(Outcome::Delivered { attempts })
    }

    /// One request: `chunk` as a JSON array, retried with `retry_count` raised each time.
    fn send_request(&self, chunk: &mut [Message], stop: &dyn Fn() -> bool) -> Outcome {
        let base: Vec<u32> = chunk.iter().map(|m| m.retry_count).collect();
        let secret = self.secret.as_deref();
        let mut make_attempt = |attempt: u32| {
            for (message, base) in chunk.iter_mut().zip(&base) {
                message.retry_count = base.saturating_add(attempt);
            }
            let body = serde_json::to_vec(&*chunk).expect("messages serialize to JSON");
            let headers = match secret {
                Some(secret) => vec![(SIGNATURE_HEADER, sign(&body, secret))],
                None => Vec::new(),
            };
            Attempt { body, headers }
        };
        self.poster.post_with_retries(&mut make_attempt, stop)
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
