//! [`RulesPoller`]: the thread that polls the rules URL, and what it does with each answer.
//!
//! The behaviour is described in [`super::remote`] (the public side: the source, its settings,
//! the signature); this file is its mechanics: one `GET` per poll, the checks a `200` must pass
//! before [`AgentInner::install_rules`] puts it in force, the cache write after a good answer,
//! the wait before the next poll (the period, or the backoff after a failure), and the
//! bookkeeping that logs each kind of failure once per outage. It owns no lock that the request
//! path takes: the rules reach requests through the agent's atomic swap.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use rand::Rng;
use sha2::{Digest, Sha256};

use super::cache::{self, CacheEntry};
use super::remote::{verify, RemoteSource, SIGNATURE_HEADER};
use super::{RulesDocument, RulesSource, MAX_DOCUMENT_BYTES};
use crate::agent::AgentInner;
use crate::notify::{RetryPolicy, RetryReason};

/// The longest `ETag` remembered; a longer one is not sent back.
const MAX_ETAG_LEN: usize = 1024;

/// At most this many distinct failures are logged between two good answers.
const MAX_LOGGED: usize = 64;

/// A running poller; stopping (or dropping) it ends the thread after its current request.
#[derive(Debug)]
pub(crate) struct RulesPoller {
    control: Arc<Control>,
}

#[derive(Debug, Default)]
struct Control {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl RulesPoller {
    /// Starts polling `source` for `agent`; `cached` is the cache's document if it is in force.
    pub(crate) fn start(
        agent: Weak<AgentInner>,
        source: RemoteSource,
        cached: Option<CacheEntry>,
    ) -> std::io::Result<RulesPoller> {
        let control = Arc::new(Control::default());
        let mut poll = PollState::new(agent, source, cached);
        let flag = control.clone();
        std::thread::Builder::new()
            .name("sqreen-rules-url".to_owned())
            .spawn(move || loop {
                let Some(wait) = poll.poll(&flag) else { return };
                let mut stopped = flag.stopped.lock();
                if !*stopped {
                    flag.wake.wait_for(&mut stopped, wait);
                }
                if *stopped {
                    return;
                }
            })?;
        Ok(RulesPoller { control })
    }

    /// Tells the thread to stop; it does not wait for a request in flight.
    pub(crate) fn stop(&self) {
        *self.control.stopped.lock() = true;
        self.control.wake.notify_all();
    }
}

impl Drop for RulesPoller {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The URL's document in force: what `If-None-Match` and the cache are made of.
struct Known {
    body: String,
    digest: [u8; 32],
    etag: Option<String>,
    signature: Option<String>,
    fetched_at: String,
}

/// What one request brought back.
enum Answer {
    NotModified,
    Document {
        body: Vec<u8>,
        etag: Option<String>,
        signature: Option<String>,
    },
    /// A 200 whose body could not be taken (too large, or cut off).
    Unreadable(String),
    Failed {
        reason: RetryReason,
        retry_after: Option<Duration>,
    },
}

/// What a poll came to, for the wait that follows.
enum Outcome {
    /// The document in force is the URL's current one (new or confirmed).
    Good,
    /// The URL answered with a document that was refused.
    Refused,
    /// No document.
    Failed(Option<Duration>),
}

/// A failure already logged since the last good answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LogKey {
    Connection,
    Timeout,
    Status(u16),
    Invalid([u8; 32]),
    Signature([u8; 32]),
    Stale([u8; 32]),
}

/// The poller thread's state.
struct PollState {
    agent: Weak<AgentInner>,
    source: RemoteSource,
    http: ureq::Agent,
    in_force: Option<Known>,
    /// The cache does not hold `in_force` yet.
    cache_dirty: bool,
    cache_logged: bool,
    /// Polls in a row that got no document (for the backoff).
    failures: u32,
    /// Polls since the last good answer (for the recovery log line).
    since_good: u64,
    logged: HashSet<LogKey>,
}

impl PollState {
    fn new(agent: Weak<AgentInner>, source: RemoteSource, cached: Option<CacheEntry>) -> Self {
        let in_force = cached.map(|c| Known {
            digest: Sha256::digest(c.document.as_bytes()).into(),
            body: c.document,
            etag: c.etag,
            signature: c.signature,
            fetched_at: c.fetched_at,
        });
        PollState {
            agent,
            http: source.policy.agent(),
            source,
            in_force,
            cache_dirty: false,
            cache_logged: false,
            failures: 0,
            since_good: 0,
            logged: HashSet::new(),
        }
    }

    /// One poll; returns how long to wait before the next, or `None` when the agent is gone or
    /// the poller was stopped.
    fn poll(&mut self, control: &Control) -> Option<Duration> {
        let answer = self.fetch();
        let agent = self.agent.upgrade()?;
        if *control.stopped.lock() {
            return None;
        }
        let counters = &agent.counters.rules_remote;
        bump(&counters.polls);
        let outcome = match answer {
            Answer::NotModified => {
                bump(&counters.not_modified);
                self.confirm(&agent);
                Outcome::Good
            }
            Answer::Document {
                body,
                etag,
                signature,
            } => self.take(&agent, body, etag, signature),
            Answer::Unreadable(reason) => {
                self.refuse_invalid(&agent, [0; 32], &reason);
                Outcome::Refused
            }
            Answer::Failed {
                reason,
                retry_after,
            } => {
                bump(&counters.failures);
                self.log_failure(&agent, &reason);
                Outcome::Failed(retry_after)
            }
        };
        Some(match outcome {
            Outcome::Good => {
                if self.since_good > 0 && !self.logged.is_empty() {
                    tracing::info!(
                        target: "sqreen", url = %self.source.shown, polls = self.since_good,
                        "rules URL answering well again",
                    );
                }
                self.failures = 0;
                self.since_good = 0;
                self.logged.clear();
                self.write_cache(&agent);
                self.source.period
            }
            Outcome::Refused => {
                self.failures = 0;
                self.since_good += 1;
                self.source.period
            }
            Outcome::Failed(retry_after) => {
                self.failures = self.failures.saturating_add(1);
                self.since_good += 1;
                failure_wait(&self.source.policy, self.failures, retry_after)
            }
        })
    }

    /// One `GET`, with `If-None-Match` when the document in force has an `ETag`.
    fn fetch(&self) -> Answer {
        let mut request = self
            .http
            .get(self.source.uri.clone())
            .header("Accept", "application/json");
        if let Some(etag) = self.in_force.as_ref().and_then(|k| k.etag.as_deref()) {
            request = request.header("If-None-Match", etag);
        }
        let mut response = match request.call() {
            Ok(r) => r,
            Err(e) => {
                return Answer::Failed {
                    reason: classify(e),
                    retry_after: None,
                }
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        match status {
            304 => Answer::NotModified,
            200 => {
                let etag = header("etag").filter(|e| !e.is_empty() && e.len() <= MAX_ETAG_LEN);
                let signature = header(SIGNATURE_HEADER);
                match response
                    .body_mut()
                    .with_config()
                    .limit(MAX_DOCUMENT_BYTES as u64)
                    .read_to_vec()
                {
                    Ok(body) => Answer::Document {
                        body,
                        etag,
                        signature,
                    },
                    Err(ureq::Error::BodyExceedsLimit(_)) => Answer::Unreadable(format!(
                        "the document is larger than 64 MiB ({MAX_DOCUMENT_BYTES} bytes)"
                    )),
                    Err(e) => Answer::Failed {
                        reason: classify(e),
                        retry_after: None,
                    },
                }
            }
            _ => {
                let retry_after = header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let _ = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec();
                Answer::Failed {
                    reason: RetryReason::Status(status),
                    retry_after,
                }
            }
        }
    }

    /// Checks a `200`'s document and puts it in force if it is good and new.
    fn take(
        &mut self,
        agent: &AgentInner,
        body: Vec<u8>,
        etag: Option<String>,
        signature: Option<String>,
    ) -> Outcome {
        let counters = &agent.counters.rules_remote;
        let digest: [u8; 32] = Sha256::digest(&body).into();
        if let Some(secret) = &self.source.secret {
            if !signature
                .as_deref()
                .is_some_and(|s| verify(&body, secret, s))
            {
                bump(&counters.bad_signature);
                if self.first(LogKey::Signature(digest)) {
                    let problem = if signature.is_some() {
                        "wrong"
                    } else {
                        "missing"
                    };
                    tracing::warn!(
                        target: "sqreen", url = %self.source.shown, header = SIGNATURE_HEADER,
                        problem, in_force = ?agent.rules.load().version,
                        "rules document from the URL refused: its signature is {problem} \
                         (SQREEN_RULES_SECRET is set); the previous rules stay in force",
                    );
                }
                return Outcome::Refused;
            }
        }
        if let Some(known) = &mut self.in_force {
            if known.digest == digest {
                // The same document again (a server without ETags, or a new ETag).
                self.cache_dirty |= known.etag != etag || known.signature != signature;
                known.etag = etag;
                known.signature = signature;
                bump(&counters.not_modified);
                self.confirm(agent);
                return Outcome::Good;
            }
        }
        let parsed = std::str::from_utf8(&body)
            .map_err(|_| "the document is not UTF-8 text".to_owned())
            .and_then(|text| RulesDocument::parse(text).map_err(|e| e.to_string()));
        let doc = match parsed {
            Ok(doc) => doc,
            Err(reason) => {
                self.refuse_invalid(agent, digest, &reason);
                return Outcome::Refused;
            }
        };
        if let Some(reason) = self.stale(agent, &doc) {
            bump(&counters.stale);
            if self.first(LogKey::Stale(digest)) {
                tracing::warn!(
                    target: "sqreen", url = %self.source.shown, error = %reason,
                    version = ?doc.version, in_force = ?agent.rules.load().version,
                    "rules document from the URL refused as a replay; the rules in force stay",
                );
            }
            return Outcome::Refused;
        }
        // counted first: whoever sees the new rules in force sees them counted too
        bump(&counters.updates);
        agent.install_rules(doc, self.source.source());
        self.in_force = Some(Known {
            // from_utf8 succeeded above
            body: String::from_utf8(body).unwrap_or_default(),
            digest,
            etag,
            signature,
            fetched_at: crate::event::time::rfc3339(agent.now()),
        });
        self.cache_dirty = self.source.cache_path.is_some();
        Outcome::Good
    }

    /// Why `doc` must not replace the rules in force from this URL, if it must not: with a
    /// secret, it states no `issued_at`; it was issued before (or at the same time as, being
    /// another document) the rules in force. Replaying an older signed document is how one
    /// would roll the rules back.
    fn stale(&self, agent: &AgentInner, doc: &RulesDocument) -> Option<String> {
        if self.source.secret.is_some() && doc.issued_at.is_none() {
            return Some(
                "a signed document must state issued_at (RFC 3339), which binds it to its time"
                    .to_owned(),
            );
        }
        let rules = agent.rules.load();
        let from_url = matches!(rules.source, RulesSource::Url(_) | RulesSource::UrlCache(_));
        match (doc.issued_at, rules.issued_at.filter(|_| from_url)) {
            (Some(new), Some(current)) if new <= current => Some(format!(
                "issued at {}, not after the rules in force ({})",
                crate::event::time::rfc3339(new),
                crate::event::time::rfc3339(current)
            )),
            _ => None,
        }
    }

    fn refuse_invalid(&mut self, agent: &AgentInner, digest: [u8; 32], reason: &str) {
        bump(&agent.counters.rules_remote.invalid);
        bump(&agent.counters.rules_rejected);
        if self.first(LogKey::Invalid(digest)) {
            tracing::warn!(
                target: "sqreen", url = %self.source.shown, error = %reason,
                in_force = ?agent.rules.load().version,
                "rules document from the URL rejected; the previous rules stay in force",
            );
        }
    }

    /// The URL confirmed the document in force: if it was in force from the cache, it now is
    /// from the URL (health reports the source).
    fn confirm(&self, agent: &AgentInner) {
        if !matches!(agent.rules.load().source, RulesSource::UrlCache(_)) {
            return;
        }
        if let Some(Ok(doc)) = self
            .in_force
            .as_ref()
            .map(|k| RulesDocument::parse(&k.body))
        {
            agent.install_rules(doc, self.source.source());
        }
    }

    fn log_failure(&mut self, agent: &AgentInner, reason: &RetryReason) {
        let key = match reason {
            RetryReason::Timeout => LogKey::Timeout,
            RetryReason::Status(s) => LogKey::Status(*s),
            _ => LogKey::Connection,
        };
        if self.first(key) {
            tracing::warn!(
                target: "sqreen", url = %self.source.shown, %reason,
                in_force = ?agent.rules.load().version,
                "rules URL failed; the rules in force stay, retrying with backoff \
                 (further failures of this kind are counted, not logged)",
            );
        } else {
            tracing::debug!(target: "sqreen", url = %self.source.shown, %reason, "rules URL failed");
        }
    }

    /// True the first time `key` is seen since the last good answer.
    fn first(&mut self, key: LogKey) -> bool {
        self.logged.len() < MAX_LOGGED && self.logged.insert(key)
    }

    /// Writes the document in force to the cache if it does not hold it yet.
    fn write_cache(&mut self, agent: &AgentInner) {
        let (Some(path), Some(known), true) =
            (&self.source.cache_path, &self.in_force, self.cache_dirty)
        else {
            return;
        };
        let entry = CacheEntry {
            url: self.source.shown.clone(),
            fetched_at: known.fetched_at.clone(),
            etag: known.etag.clone(),
            signature: known.signature.clone(),
            document: known.body.clone(),
        };
        match cache::write(path, &entry) {
            Ok(()) => {
                self.cache_dirty = false;
                self.cache_logged = false;
            }
            Err(e) => {
                bump(&agent.counters.rules_remote.cache_errors);
                if !self.cache_logged {
                    self.cache_logged = true;
                    tracing::warn!(
                        target: "sqreen", cache = %path.display(), error = %e,
                        "rules cache not written (retried after each good answer); \
                         a cold start while the URL is down would start without these rules",
                    );
                }
            }
        }
    }
}

fn bump(counter: &std::sync::atomic::AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The wait after the `failures`-th failure in a row: between half and all of the policy's
/// backoff cap, at least `Retry-After` (itself capped).
pub(crate) fn failure_wait(
    policy: &RetryPolicy,
    failures: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let cap = policy.backoff_cap(failures.saturating_sub(1));
    let half = cap / 2;
    let spread = u64::try_from((cap - half).as_nanos()).unwrap_or(u64::MAX);
    let wait = half + Duration::from_nanos(rand::rng().random_range(0..=spread));
    match retry_after {
        Some(after) => wait.max(after.min(policy.max_backoff)),
        None => wait,
    }
}

/// Sorts a client error: a timeout, or any other failure to get an answer.
fn classify(e: ureq::Error) -> RetryReason {
    match e {
        ureq::Error::Timeout(_) => RetryReason::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => RetryReason::Timeout,
        other => RetryReason::Connection(other.to_string()),
    }
}
