//! Delivery: one HTTP `POST` (or, through [`Target::with_retries`], one email) carried through
//! to an answer, with retries, shared by the webhook, Slack and email sinks.
//!
//! This file owns the retry rules ([`RetryPolicy`]: exponential backoff with full jitter, capped,
//! and the timeouts), what a delivery came to ([`Outcome`], [`RetryReason`]), and the loop that
//! retries connection errors, timeouts, 429 and 5xx until the caller's `stop` condition says
//! stop. It does not build bodies or sign them (the sinks do, once per attempt, because
//! `retry_count` is in the body), and it never logs a body, a secret or a whole URL: only the
//! scheme and host are shown, since Slack webhook URLs carry their secret in the path.
//!
//! The loop blocks the calling thread (the notifier's background thread, never a request), and
//! while sleeping between attempts it checks `stop` every [`STOP_POLL`], so a shutdown is obeyed
//! within about that long. A request in flight is not interrupted: it ends at its own timeout.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

/// How often `stop` is checked while sleeping between attempts.
pub(crate) const STOP_POLL: Duration = Duration::from_millis(20);

/// The `User-Agent` of every delivery request.
pub(crate) const USER_AGENT: &str = concat!("sqreen-rs/", env!("CARGO_PKG_VERSION"));

/// Response bytes read (and thrown away) so the connection can be reused.
const MAX_DRAINED: u64 = 64 * 1024;

/// How deliveries are retried and how long one request may take.
///
/// Between attempts the wait is drawn at random between zero and `first_backoff × 2^retry`
/// ("full jitter"), the latter capped at `max_backoff`; a `Retry-After` header in seconds on a 429
/// or 5xx makes the wait at least that long (still capped at `max_backoff`). Retries go on until
/// the caller's `stop` condition says stop: a receiver down for minutes loses nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The cap of the first wait. Default 100 ms.
    pub first_backoff: Duration,
    /// The largest cap, reached by doubling. Default 30 s.
    pub max_backoff: Duration,
    /// How long connecting may take. Default 2 s.
    pub connect_timeout: Duration,
    /// How long one whole request may take, from resolving the host to reading the answer.
    /// Default 10 s.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The largest wait before retry number `retry + 1` (the first retry is `retry == 0`):
    /// `first_backoff × 2^retry`, capped at `max_backoff`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.first_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// A wait drawn at random between zero and [`backoff_cap`](Self::backoff_cap)`(retry)`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = u64::try_from(self.backoff_cap(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=cap))
    }

    /// An HTTP client with these timeouts, no redirects followed, and 4xx and 5xx answers
    /// returned as answers (not errors). Proxies are taken from the usual environment variables.
    pub(crate) fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .build()
            .new_agent()
    }
}

/// What a delivery came to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The receiver answered 2xx, after this many attempts (1 when the first one did).
    Delivered {
        /// Requests made, the successful one included.
        attempts: u32,
    },
    /// The receiver answered a status that is not retried (3xx, or 4xx other than 429): the
    /// delivery was given up at once.
    Rejected {
        /// The status.
        status: u16,
    },
    /// The request can never succeed as configured (an invalid URL, or an `https` URL while this
    /// build has no TLS): given up without retrying.
    Failed {
        /// Why, without the URL's path or query.
        reason: String,
    },
    /// The caller's `stop` condition said stop before the receiver took the delivery.
    Abandoned {
        /// Requests made (0 when `stop` was already true).
        attempts: u32,
        /// Why the last attempt failed.
        last_error: String,
    },
}

impl Outcome {
    /// Whether the receiver took the delivery.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }
}

/// Why an attempt is to be retried; given to the sink's retry observer, e.g. to count webhook
/// failures by status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// Connecting, sending or reading failed (refused, reset, host not found, bad HTTP...).
    Connection(String),
    /// The request took longer than the policy's `connect_timeout` or `timeout`.
    Timeout,
    /// The receiver answered HTTP 429 or 5xx, or an SMTP server a 4xx (transient) reply.
    Status(u16),
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryReason::Connection(e) => write!(f, "connection error: {e}"),
            RetryReason::Timeout => f.write_str("timed out"),
            RetryReason::Status(s) => write!(f, "status {s}"),
        }
    }
}

/// Called once per failed attempt that will be retried (if `stop` allows).
pub(crate) type RetryObserver = Arc<dyn Fn(&RetryReason) + Send + Sync>;

/// One attempt's request: the body and the headers that depend on it (a signature).
pub(crate) struct Attempt {
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// A URL, a client and a policy: what a sink needs to deliver.
pub(crate) struct Poster {
    /// `"webhook"` or `"slack"`, for logs.
    sink: &'static str,
    /// The parsed URL, or why it is unusable.
    uri: Result<http::Uri, String>,
    /// The URL without its path and query, safe to log.
    shown: String,
    agent: ureq::Agent,
    policy: RetryPolicy,
    observer: Option<RetryObserver>,
}

impl fmt::Debug for Poster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poster")
            .field("sink", &self.sink)
            .field("url", &self.shown)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Poster {
    /// Takes the URL as given; an unusable one makes every delivery [`Outcome::Failed`].
    pub(crate) fn new(sink: &'static str, url: &str, policy: RetryPolicy) -> Self {
        let uri = parse_url(url);
        let shown = match &uri {
            Ok(uri) => shown_url(uri),
            Err(reason) => {
                tracing::error!(
                    target: "sqreen::notify",
                    sink, %reason,
                    "every delivery will fail: the URL is unusable",
                );
                "(invalid URL)".to_string()
            }
        };
        Poster {
            sink,
            uri,
            shown,
            agent: policy.agent(),
            policy,
            observer: None,
        }
    }

    pub(crate) fn set_observer(&mut self, observer: RetryObserver) {
        self.observer = Some(observer);
    }

    /// The URL without path or query, safe to log.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown
    }

    pub(crate) fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// POSTs `make_attempt(n)` (JSON) for attempt `n` = 0, 1, 2... until the receiver answers 2xx,
    /// answers a status that is not retried, the request cannot succeed, or `stop()` is true
    /// (checked before each attempt and while sleeping between attempts).
    pub(crate) fn post_with_retries(
        &self,
        make_attempt: &mut dyn FnMut(u32) -> Attempt,
        stop: &dyn Fn() -> bool,
    ) -> Outcome {
        let uri = match &self.uri {
            Ok(uri) => uri,
            Err(reason) => {
                return Outcome::Failed {
                    reason: reason.clone(),
                }
            }
        };
        let target = Target {
            sink: self.sink,
            shown: &self.shown,
            policy: &self.policy,
            observer: self.observer.as_ref(),
        };
        target.with_retries(
            &mut |n| match self.post_once(uri, make_attempt(n)) {
                Answer::Status(status, _) if (200..300).contains(&status) => Step::Done,
                Answer::Status(status, retry_after) if status == 429 || status >= 500 => {
                    Step::Retry(RetryReason::Status(status), retry_after)
                }
                Answer::Status(status, _) => Step::Rejected(status),
                Answer::Unusable(reason) => Step::Unusable(reason),
                Answer::Retry(reason) => Step::Retry(reason, None),
            },
            stop,
        )
    }

    fn post_once(&self, uri: &http::Uri, attempt: Attempt) -> Answer {
        let mut request = self
            .agent
            .post(uri.clone())
            .header("Content-Type", "application/json");
        for (name, value) in &attempt.headers {
            request = request.header(*name, value.as_str());
        }
        match request.send(&attempt.body[..]) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                // Read what little the receiver says so the connection can be reused; a failure
                // here does not change the status it already gave.
                let _ = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_DRAINED)
                    .read_to_vec();
                Answer::Status(status, retry_after)
            }
            Err(e) => classify(e),
        }
    }
}

/// What one delivery attempt came to, for [`Target::with_retries`]: the same for an HTTP `POST`
/// and an SMTP transaction.
pub(crate) enum Step {
    /// The receiver took it.
    Done,
    /// The receiver refused it for good (an HTTP status other than 429 and 5xx that is not
    /// 2xx, an SMTP 5xx reply): not retried.
    Rejected(u16),
    /// It can never succeed as configured: not retried.
    Unusable(String),
    /// Worth another attempt, waiting at least this long if the receiver said so.
    Retry(RetryReason, Option<Duration>),
}

/// Where a delivery goes, as the retry loop and its log lines see it.
pub(crate) struct Target<'a> {
    /// `"webhook"`, `"slack"` or `"email"`, for logs.
    pub(crate) sink: &'static str,
    /// The receiver without any secret (scheme and host), for logs.
    pub(crate) shown: &'a str,
    pub(crate) policy: &'a RetryPolicy,
    pub(crate) observer: Option<&'a RetryObserver>,
}

impl Target<'_> {
    /// Runs `attempt(n)` for `n` = 0, 1, 2... until it is done, rejected or unusable, or
    /// `stop()` is true (checked before each attempt and while sleeping between attempts), with
    /// the policy's backoff between attempts.
    pub(crate) fn with_retries(
        &self,
        attempt: &mut dyn FnMut(u32) -> Step,
        stop: &dyn Fn() -> bool,
    ) -> Outcome {
        let mut attempts: u32 = 0;
        let mut last_error = String::from("stopped before the first attempt");
        loop {
            if stop() {
                return self.abandon(attempts, last_error);
            }
            let step = attempt(attempts);
            attempts = attempts.saturating_add(1);
            let (reason, retry_after) = match step {
                Step::Done => {
                    if attempts > 1 {
                        tracing::info!(
                            target: "sqreen::notify",
                            sink = self.sink, url = %self.shown, attempts,
                            "delivered after retrying",
                        );
                    }
                    return Outcome::Delivered { attempts };
                }
                Step::Rejected(status) => {
                    tracing::warn!(
                        target: "sqreen::notify",
                        sink = self.sink, url = %self.shown, status,
                        "delivery rejected, not retried",
                    );
                    return Outcome::Rejected { status };
                }
                Step::Unusable(reason) => {
                    tracing::error!(
                        target: "sqreen::notify",
                        sink = self.sink, url = %self.shown, %reason,
                        "delivery cannot succeed, not retried",
                    );
                    return Outcome::Failed { reason };
                }
                Step::Retry(reason, retry_after) => (reason, retry_after),
            };
            if let Some(observer) = self.observer {
                observer(&reason);
            }
            // Every failure is worth a debug line; a receiver down for long gets warn lines at
            // attempts 1, 2, 4, 8... only.
            if attempts.is_power_of_two() {
                tracing::warn!(
                    target: "sqreen::notify",
                    sink = self.sink, url = %self.shown, attempts, %reason,
                    "delivery failed, retrying",
                );
            } else {
                tracing::debug!(
                    target: "sqreen::notify",
                    sink = self.sink, url = %self.shown, attempts, %reason,
                    "delivery failed, retrying",
                );
            }
            last_error = reason.to_string();
            let mut wait = self.policy.backoff(attempts - 1);
            if let Some(after) = retry_after {
                wait = wait.max(after.min(self.policy.max_backoff));
            }
            if !sleep_unless_stopped(wait, stop) {
                return self.abandon(attempts, last_error);
            }
        }
    }

    fn abandon(&self, attempts: u32, last_error: String) -> Outcome {
        tracing::warn!(
            target: "sqreen::notify",
            sink = self.sink, url = %self.shown, attempts, %last_error,
            "delivery abandoned: stopping",
        );
        Outcome::Abandoned {
            attempts,
            last_error,
        }
    }
}

/// One attempt's result.
enum Answer {
    Status(u16, Option<Duration>),
    Retry(RetryReason),
    Unusable(String),
}

/// Sorts a client error into "retry" or "can never succeed". Unknown errors are retried: losing
/// nothing matters more than a few wasted requests.
fn classify(e: ureq::Error) -> Answer {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => Answer::Retry(RetryReason::Timeout),
        E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Answer::Retry(RetryReason::Timeout)
        }
        E::TlsRequired => Answer::Unusable(
            "the URL is https, but this build of sqreen has no TLS support".to_string(),
        ),
        E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) => {
            Answer::Unusable("invalid URL or header".to_string())
        }
        E::InvalidProxyUrl => Answer::Unusable("invalid proxy URL in the environment".to_string()),
        other => Answer::Retry(RetryReason::Connection(other.to_string())),
    }
}

/// Parses a delivery URL: `http` or `https`, with a host. The error does not repeat the URL.
pub(crate) fn parse_url(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url
        .trim()
        .parse()
        .map_err(|_| "invalid URL (expected http://host/path or https://host/path)".to_string())?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("invalid URL: the scheme must be http or https".to_string()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("invalid URL: no host".to_string());
    }
    Ok(uri)
}

/// Checks a delivery URL (`SQREEN_WEBHOOK_URL`, `SQREEN_SLACK_WEBHOOK_URL`) at set-up, so a typo
/// is reported at start-up rather than at the first delivery. The error never repeats the URL,
/// whose path may be a secret.
pub fn validate_url(url: &str) -> Result<(), String> {
    parse_url(url).map(|_| ())
}

/// `scheme://host[:port]`: a URL without the path and query, which may hold a secret.
fn shown_url(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// Sleeps `wait` in steps of [`STOP_POLL`]; false when `stop()` became true first.
pub(crate) fn sleep_unless_stopped(wait: Duration, stop: &dyn Fn() -> bool) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        if stop() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(STOP_POLL));
    }
}

#[cfg(test)]
#[path = "test_receiver.rs"]
pub(crate) mod test_receiver;

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
