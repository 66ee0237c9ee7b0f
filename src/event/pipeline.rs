//! The event pipeline: a bounded queue from the request path to two background threads.
//!
//! The request path only calls [`Pipeline::send_event`] / [`Pipeline::send_notification`]: a
//! non-blocking `try_send` into a bounded queue (`SQREEN_EVENT_QUEUE`). A full queue drops the
//! newest item, counts it, and logs at most once a minute. Nothing on the request path waits.
//!
//! - `sqreen-events` drains the queue in batches: every event goes to the JSON-lines file
//!   (`SQREEN_EVENTS_PATH`, appended, flushed after each batch, so within about 20 ms, and
//!   reopened when log rotation moved it: `log_file`); webhook-worthy events and `immediately`
//!   notifications are handed on to the
//!   delivery thread; `daily` / `weekly` notifications are gathered into digests, one per
//!   playbook and period, sent when the agent's clock enters the next period.
//! - `sqreen-delivery` sends webhook messages in batches of up to 1,000 (signed, retried with
//!   backoff while the receiver is down) and Slack messages. Its own queue is bounded too.
//!
//! [`Pipeline::shutdown`] drains both within a deadline and says how many items were left.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

use super::log_file::EventsFile;
use super::ring::EventRing;
use super::Event;
use crate::clock::{Clock, Millis};
use crate::config::{Config, WebhookEvents};
use crate::error::{Error, Result};
use crate::notify::delivery::{Outcome, RetryPolicy, RetryReason};
use crate::notify::slack::{digest_message, DigestEntry, SlackSink};
use crate::notify::webhook::{Message, MessageType, WebhookSink, MAX_MESSAGES_PER_REQUEST};
use crate::notify::PlaybookNotification;
use crate::playbook::Frequency;

const DAY_MS: u64 = 86_400_000;
/// Most actors a digest keeps counts for (the top ones are reported).
const DIGEST_ACTORS: usize = 1_000;
/// Actors a digest reports.
const DIGEST_TOP: usize = 10;
/// How long the threads sleep when their queue is empty (events wait at most this long).
const TICK: Duration = Duration::from_millis(20);

/// What the pipeline did, for `agent.stats()`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PipelineStats {
    /// Events and notifications accepted into the queue.
    pub queued: u64,
    /// Items dropped because the queue was full (or the pipeline was shut down).
    pub dropped: u64,
    /// Webhook or Slack messages dropped because the delivery queue was full (the receiver is
    /// slower than the events, or down).
    pub delivery_dropped: u64,
    /// Events written to the JSON-lines file.
    pub written: u64,
    /// Webhook messages delivered.
    pub webhook_sent: u64,
    /// Webhook retries (one per message per extra attempt).
    pub webhook_retries: u64,
    /// Failed webhook requests by HTTP status, retried or not (0: connection failure or
    /// timeout; also messages abandoned at shutdown or impossible to send).
    pub webhook_failures: std::collections::BTreeMap<u16, u64>,
    /// Slack messages delivered.
    pub slack_sent: u64,
    /// Digests sent (webhook or Slack).
    pub digests: u64,
    /// File write errors.
    pub file_errors: u64,
    /// Events and notifications in the queue now, not yet taken by the background thread.
    pub queue_depth: u64,
    /// The last failed webhook or Slack delivery attempt, if any.
    pub last_delivery_error: Option<DeliveryError>,
}

/// A failed webhook or Slack delivery attempt (retried or not), as health checks report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliveryError {
    /// When it happened (milliseconds since the Unix epoch; RFC 3339 in JSON).
    #[serde(serialize_with = "super::serialize_time")]
    pub at: Millis,
    /// `webhook` or `slack`.
    pub sink: &'static str,
    /// What went wrong (a status, a connection error, a timeout), without the receiver's URL.
    pub error: String,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    delivery_dropped: AtomicU64,
    written: AtomicU64,
    webhook_sent: AtomicU64,
    webhook_retries: AtomicU64,
    webhook_failures: Mutex<std::collections::BTreeMap<u16, u64>>,
    slack_sent: AtomicU64,
    digests: AtomicU64,
    file_errors: AtomicU64,
    last_drop_log: AtomicU64,
    /// Items taken from the queue by the dispatcher (queue depth = queued - taken).
    taken: AtomicU64,
    last_delivery_error: Mutex<Option<DeliveryError>>,
}

enum Item {
    Event(Box<Event>),
    Notification(Box<PlaybookNotification>),
}

enum Outbound {
    Webhook(Message),
    Slack(serde_json::Value),
}

struct Shared {
    counters: Counters,
    clock: Arc<dyn Clock>,
    stop: AtomicBool,
    /// Past this instant, the delivery thread gives up (set by shutdown).
    deadline: Mutex<Option<Instant>>,
}

/// The running pipeline.
pub(crate) struct Pipeline {
    tx: SyncSender<Item>,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<usize>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts the pipeline when the configuration names a file, a webhook or Slack, or when
    /// the admin API holds recent events in `ring`.
    pub(crate) fn start(
        config: &Config,
        clock: Arc<dyn Clock>,
        ring: Option<Arc<EventRing>>,
    ) -> Result<Option<Pipeline>> {
        if config.events_path.is_none()
            && config.webhook_url.is_none()
            && config.slack_webhook_url.is_none()
            && ring.is_none()
        {
            return Ok(None);
        }
        let file = match &config.events_path {
            Some(path) => Some(EventsFile::open(path)?),
            None => None,
        };
        let policy = RetryPolicy::default();
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            clock: clock.clone(),
            stop: AtomicBool::new(false),
            deadline: Mutex::new(None),
        });
        let observed = shared.clone();
        let webhook = config.webhook_url.as_deref().map(|url| {
            WebhookSink::new(url, config.webhook_secret.as_deref(), policy.clone())
                .with_retry_observer(move |reason| {
                    let status = match reason {
                        RetryReason::Status(status) => *status,
                        _ => 0,
                    };
                    *observed
                        .counters
                        .webhook_failures
                        .lock()
                        .entry(status)
                        .or_insert(0) += 1;
                    observed.delivery_error("webhook", reason.to_string());
                })
        });
        let slack = config
            .slack_webhook_url
            .as_deref()
            .map(|url| SlackSink::new(url, policy.clone()));
        let (tx, rx) = mpsc::sync_channel(config.event_queue);
        let (out_tx, out_rx) = mpsc::sync_channel(config.event_queue);
        let dispatcher = Dispatcher {
            rx,
            out: out_tx,
            file,
            ring,
            webhook_all: config.webhook_events == WebhookEvents::All,
            has_webhook: webhook.is_some(),
            has_slack: slack.is_some(),
            digests: HashMap::new(),
            clock,
            shared: shared.clone(),
        };
        let delivery = Delivery {
            rx: out_rx,
            webhook,
            slack,
            shared: shared.clone(),
        };
        let spawn = |name: &str, f: Box<dyn FnOnce() -> usize + Send>| {
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(f)
                .map_err(|e| Error::io(format!("thread {name}"), e))
        };
        let threads = vec![
            spawn("sqreen-events", Box::new(move || dispatcher.run()))?,
            spawn("sqreen-delivery", Box::new(move || delivery.run()))?,
        ];
        Ok(Some(Pipeline {
            tx,
            shared,
            threads: Mutex::new(threads),
        }))
    }

    /// Queues an event; never blocks.
    pub(crate) fn send_event(&self, event: Event) {
        self.send(Item::Event(Box::new(event)));
    }

    /// Queues a playbook notification; never blocks.
    pub(crate) fn send_notification(&self, notification: PlaybookNotification) {
        self.send(Item::Notification(Box::new(notification)));
    }

    fn send(&self, item: Item) {
        let counters = &self.shared.counters;
        if self.shared.stop.load(Ordering::Relaxed) {
            record_drop(&counters.dropped, &counters.last_drop_log);
            return;
        }
        match self.tx.try_send(item) {
            Ok(()) => {
                counters.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                record_drop(&counters.dropped, &counters.last_drop_log);
            }
        }
    }

    /// What the pipeline did so far.
    pub(crate) fn stats(&self) -> PipelineStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        PipelineStats {
            queued: get(&c.queued),
            dropped: get(&c.dropped),
            delivery_dropped: get(&c.delivery_dropped),
            written: get(&c.written),
            webhook_sent: get(&c.webhook_sent),
            webhook_retries: get(&c.webhook_retries),
            webhook_failures: c.webhook_failures.lock().clone(),
            slack_sent: get(&c.slack_sent),
            digests: get(&c.digests),
            file_errors: get(&c.file_errors),
            queue_depth: get(&c.queued).saturating_sub(get(&c.taken)),
            last_delivery_error: c.last_delivery_error.lock().clone(),
        }
    }

    /// Stops accepting items, delivers what is queued within `deadline`, and returns how many
    /// items were left undelivered (0 when everything went out).
    pub(crate) fn shutdown(&self, deadline: Duration) -> usize {
        let until = Instant::now() + deadline;
        *self.shared.deadline.lock() = Some(until);
        self.shared.stop.store(true, Ordering::SeqCst);
        let threads = std::mem::take(&mut *self.threads.lock());
        let mut left = 0;
        for thread in threads {
            if thread.thread().id() == std::thread::current().id() {
                continue;
            }
            // The threads watch the deadline themselves; give them a little grace to report.
            while !thread.is_finished() && Instant::now() < until + Duration::from_millis(500) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                left += thread.join().unwrap_or(0);
            } else {
                left += 1;
            }
        }
        if left > 0 {
            tracing::warn!(target: "sqreen", left, "shutdown: some events and notifications could not be delivered before the deadline");
        }
        left
    }
}

impl Shared {
    /// Remembers a failed delivery attempt for health checks.
    fn delivery_error(&self, sink: &'static str, error: String) {
        *self.counters.last_delivery_error.lock() = Some(DeliveryError {
            at: self.clock.now_ms(),
            sink,
            error,
        });
    }
}

fn record_drop(counter: &AtomicU64, last_log: &AtomicU64) {
    let dropped = counter.fetch_add(1, Ordering::Relaxed) + 1;
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0);
    if last_log.swap(minute, Ordering::Relaxed) != minute {
        tracing::warn!(
            target: "sqreen",
            dropped_so_far = dropped,
            "event queue full: events are being dropped (SQREEN_EVENT_QUEUE); logged at most once a minute"
        );
    }
}

/// A digest being gathered for one playbook and period.
struct DigestAcc {
    entry: DigestEntry,
    actors: HashMap<String, u64>,
    webhook: bool,
    slack: bool,
    period: u64,
}

/// The index of the period `ms` falls in: UTC days, or weeks starting on Monday.
fn period_index(frequency: Frequency, ms: Millis) -> u64 {
    let day = ms / DAY_MS;
    match frequency {
        Frequency::Weekly => (day + 3) / 7, // 1970-01-01 was a Thursday
        _ => day,
    }
}

fn period_bounds(frequency: Frequency, index: u64) -> (Millis, Millis) {
    match frequency {
        Frequency::Weekly => {
            let start = (index * 7).saturating_sub(3) * DAY_MS;
            (start, start + 7 * DAY_MS)
        }
        _ => (index * DAY_MS, (index + 1) * DAY_MS),
    }
}

struct Dispatcher {
    rx: Receiver<Item>,
    out: SyncSender<Outbound>,
    file: Option<EventsFile>,
    /// The admin API's recent events.
    ring: Option<Arc<EventRing>>,
    webhook_all: bool,
    has_webhook: bool,
    has_slack: bool,
    digests: HashMap<String, DigestAcc>,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
}

impl Dispatcher {
    /// Runs until the queue is closed and drained; returns the items it could not hand on.
    ///
    /// It polls the queue (a sleep of [`TICK`] when it is empty) rather than blocking on it, so
    /// that a send on the request path never has to wake this thread: no system call there.
    fn run(mut self) -> usize {
        loop {
            let mut got = false;
            let mut closed = false;
            loop {
                match self.rx.try_recv() {
                    Ok(item) => {
                        if !got {
                            self.follow_rotation();
                        }
                        self.shared.counters.taken.fetch_add(1, Ordering::Relaxed);
                        self.handle(item);
                        got = true;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            if got {
                self.flush();
            }
            self.send_due_digests(Some(self.clock.now_ms()));
            if closed || (!got && self.shared.stop.load(Ordering::SeqCst)) {
                break;
            }
            if !got {
                std::thread::sleep(TICK);
            }
        }
        self.flush();
        // At shutdown, the digests gathered so far go out now rather than never.
        self.send_due_digests(None);
        0
    }

    fn handle(&mut self, item: Item) {
        match item {
            Item::Event(event) => {
                self.write(&event);
                if let Some(ring) = &self.ring {
                    ring.push(&event);
                }
                if self.has_webhook && (self.webhook_all || event.is_security()) {
                    let message = serde_json::to_value(&*event).unwrap_or_default();
                    let now = event.timestamp;
                    self.forward(Outbound::Webhook(Message::new(
                        MessageType::SecurityEvent,
                        message,
                        now,
                    )));
                }
            }
            Item::Notification(n) => match n.frequency {
                Frequency::Immediately => {
                    if n.webhook && self.has_webhook {
                        let message = serde_json::to_value(&*n).unwrap_or_default();
                        self.forward(Outbound::Webhook(Message::new(
                            MessageType::SecurityResponse,
                            message,
                            n.at,
                        )));
                    }
                    if n.slack && self.has_slack {
                        self.forward(Outbound::Slack(crate::notify::slack::notification_message(
                            &n,
                        )));
                    }
                }
                Frequency::Daily | Frequency::Weekly => self.gather(&n),
            },
        }
    }

    /// Before a batch: a file that log rotation moved is reopened (one `stat`).
    fn follow_rotation(&mut self) {
        if let Some(file) = &mut self.file {
            if !file.follow_rotation() {
                self.shared
                    .counters
                    .file_errors
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn write(&mut self, event: &Event) {
        let Some(file) = &mut self.file else { return };
        let file = file.writer();
        let counters = &self.shared.counters;
        let ok = serde_json::to_writer(&mut *file, event).is_ok() && file.write_all(b"\n").is_ok();
        if ok {
            counters.written.fetch_add(1, Ordering::Relaxed);
        } else if counters.file_errors.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::error!(target: "sqreen", "cannot write to the events file (SQREEN_EVENTS_PATH); further errors are counted");
        }
    }

    fn flush(&mut self) {
        if let Some(file) = &mut self.file {
            if file.flush().is_err() {
                self.shared
                    .counters
                    .file_errors
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn forward(&self, outbound: Outbound) {
        if self.out.try_send(outbound).is_err() {
            let c = &self.shared.counters;
            record_drop(&c.delivery_dropped, &c.last_drop_log);
        }
    }

    fn gather(&mut self, n: &PlaybookNotification) {
        if !(n.webhook && self.has_webhook || n.slack && self.has_slack) {
            return;
        }
        let period = period_index(n.frequency, n.at);
        let acc = self
            .digests
            .entry(n.playbook_id.clone())
            .or_insert_with(|| {
                let (start, end) = period_bounds(n.frequency, period);
                DigestAcc {
                    entry: DigestEntry {
                        playbook_id: n.playbook_id.clone(),
                        playbook_name: n.playbook_name.clone(),
                        frequency: n.frequency,
                        count: 0,
                        top_actors: Vec::new(),
                        first_ms: n.at,
                        last_ms: n.at,
                        period_start_ms: start,
                        period_end_ms: end,
                    },
                    actors: HashMap::new(),
                    webhook: n.webhook,
                    slack: n.slack,
                    period,
                }
            });
        acc.entry.count += 1;
        acc.entry.first_ms = acc.entry.first_ms.min(n.at);
        acc.entry.last_ms = acc.entry.last_ms.max(n.at);
        if acc.actors.len() < DIGEST_ACTORS || acc.actors.contains_key(&n.actor) {
            *acc.actors.entry(n.actor.clone()).or_insert(0) += 1;
        }
    }

    /// Sends the digests whose period is over at `now` (all of them when `now` is `None`).
    fn send_due_digests(&mut self, now: Option<Millis>) {
        let due: Vec<String> = self
            .digests
            .iter()
            .filter(|(_, acc)| {
                now.is_none_or(|now| period_index(acc.entry.frequency, now) > acc.period)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let Some(mut acc) = self.digests.remove(&id) else {
                continue;
            };
            let mut actors: Vec<(String, u64)> = acc.actors.into_iter().collect();
            actors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            actors.truncate(DIGEST_TOP);
            acc.entry.top_actors = actors;
            let at = now.unwrap_or(acc.entry.last_ms);
            if acc.webhook && self.has_webhook {
                let message = serde_json::to_value(&acc.entry).unwrap_or_default();
                self.forward(Outbound::Webhook(Message::new(
                    MessageType::Digest,
                    message,
                    at,
                )));
            }
            if acc.slack && self.has_slack {
                self.forward(Outbound::Slack(digest_message(&acc.entry)));
            }
            self.shared.counters.digests.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Delivery {
    rx: Receiver<Outbound>,
    webhook: Option<WebhookSink>,
    slack: Option<SlackSink>,
    shared: Arc<Shared>,
}

impl Delivery {
    /// Runs until its queue is closed and drained (or the shutdown deadline passes); returns
    /// the messages left undelivered.
    fn run(self) -> usize {
        let mut left = 0;
        loop {
            // Polled like the dispatcher's queue, so handing on never wakes this thread.
            let first = match self.rx.try_recv() {
                Ok(item) => item,
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(TICK);
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
            };
            let mut batch = Vec::new();
            let mut slack = Vec::new();
            let mut next = Some(first);
            while let Some(item) = next.take() {
                match item {
                    Outbound::Webhook(m) => batch.push(m),
                    Outbound::Slack(p) => slack.push(p),
                }
                if batch.len() < MAX_MESSAGES_PER_REQUEST {
                    next = self.rx.try_recv().ok();
                }
            }
            left += self.deliver(batch, slack);
        }
        left
    }

    fn past_deadline(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed)
            && self
                .shared
                .deadline
                .lock()
                .is_some_and(|d| Instant::now() >= d)
    }

    fn deliver(&self, mut batch: Vec<Message>, slack: Vec<serde_json::Value>) -> usize {
        let counters = &self.shared.counters;
        let stop = || self.past_deadline();
        let mut left = 0;
        if let (Some(webhook), false) = (&self.webhook, batch.is_empty()) {
            let outcome = webhook.send(&mut batch, &stop);
            let retries: u64 = batch.iter().map(|m| u64::from(m.retry_count)).sum();
            counters
                .webhook_retries
                .fetch_add(retries, Ordering::Relaxed);
            match outcome {
                Outcome::Delivered { .. } => {
                    counters
                        .webhook_sent
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Outcome::Rejected { status } => {
                    *counters.webhook_failures.lock().entry(status).or_insert(0) +=
                        batch.len() as u64;
                    self.shared
                        .delivery_error("webhook", format!("status {status} (not retried)"));
                    tracing::warn!(target: "sqreen::notify", status, messages = batch.len(), "webhook rejected a batch (not retried)");
                }
                Outcome::Failed { reason } => {
                    *counters.webhook_failures.lock().entry(0).or_insert(0) += batch.len() as u64;
                    self.shared.delivery_error("webhook", reason.clone());
                    tracing::warn!(target: "sqreen::notify", %reason, messages = batch.len(), "webhook delivery impossible (not retried)");
                }
                Outcome::Abandoned { .. } => {
                    *counters.webhook_failures.lock().entry(0).or_insert(0) += batch.len() as u64;
                    left += batch.len();
                }
            }
        }
        if let Some(sink) = &self.slack {
            for payload in &slack {
                match sink.send_text(payload, &stop) {
                    Outcome::Delivered { .. } => {
                        counters.slack_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Outcome::Rejected { status } => {
                        self.shared
                            .delivery_error("slack", format!("status {status} (not retried)"));
                        tracing::warn!(target: "sqreen::notify", status, "Slack rejected a message (not retried)");
                    }
                    Outcome::Failed { reason } => {
                        self.shared.delivery_error("slack", reason.clone());
                        tracing::warn!(target: "sqreen::notify", %reason, "Slack delivery impossible (not retried)");
                    }
                    Outcome::Abandoned { .. } => left += 1,
                }
            }
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let monday = 1_795_392_000_000; // 2026-11-23, a Monday
        assert_eq!(period_index(Frequency::Daily, monday), monday / DAY_MS);
        let week = period_index(Frequency::Weekly, monday);
        assert_eq!(period_bounds(Frequency::Weekly, week).0, monday);
        assert_eq!(
            period_index(Frequency::Weekly, monday + 6 * DAY_MS + 1),
            week
        );
        assert_eq!(period_index(Frequency::Weekly, monday - 1), week - 1);
        let (s, e) = period_bounds(Frequency::Daily, monday / DAY_MS);
        assert_eq!((s, e), (monday, monday + DAY_MS));
    }
}
