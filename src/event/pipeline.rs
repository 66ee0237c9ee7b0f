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
//! - `sqreen-email` (with `SQREEN_SMTP_URL`) sends emails, one at a time, retried with backoff
//!   while the server is down (`email_delivery`); a thread of its own, so that a mail server
//!   down delays neither the webhook nor Slack. Its queue is bounded too.
//!
//! [`Pipeline::shutdown`] drains both within a deadline and says how many items were left.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

use super::digests::{DigestSinks, Digests};
use super::email_delivery::EmailDelivery;
use super::log_file::EventsFile;
use super::ring::EventRing;
use super::Event;
use crate::clock::{Clock, Millis};
use crate::config::{Config, WebhookEvents};
use crate::error::{Error, Result};
use crate::notify::delivery::{Outcome, RetryPolicy, RetryReason};
use crate::notify::email::{digest_email, notification_email, Email, PlaybookDigest};
use crate::notify::slack::{digest_message, SlackSink};
use crate::notify::webhook::{Message, MessageType, WebhookSink, MAX_MESSAGES_PER_REQUEST};
use crate::notify::PlaybookNotification;
use crate::playbook::Frequency;

/// How long the threads sleep when their queue is empty (events wait at most this long).
pub(super) const TICK: Duration = Duration::from_millis(20);

/// What the pipeline did, for `agent.stats()`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PipelineStats {
    /// Events and notifications accepted into the queue.
    pub queued: u64,
    /// Items dropped because the queue was full (or the pipeline was shut down).
    pub dropped: u64,
    /// Webhook or Slack messages, or emails, dropped because their delivery queue was full (the
    /// receiver is slower than the events, or down).
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
    /// Emails the SMTP server took.
    pub email_sent: u64,
    /// Failed email attempts that were retried (connection errors, timeouts, SMTP 4xx).
    pub email_retries: u64,
    /// Failed emails and email attempts by SMTP reply code, retried or not (0: connection
    /// failure or timeout; also emails abandoned at shutdown or impossible to send).
    pub email_failures: std::collections::BTreeMap<u16, u64>,
    /// Digests sent (webhook, Slack or email; one per playbook and period).
    pub digests: u64,
    /// File write errors.
    pub file_errors: u64,
    /// Events and notifications in the queue now, not yet taken by the background thread.
    pub queue_depth: u64,
    /// The last failed webhook, Slack or email delivery attempt, if any.
    pub last_delivery_error: Option<DeliveryError>,
}

/// A failed webhook, Slack or email delivery attempt (retried or not), as health checks report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliveryError {
    /// When it happened (milliseconds since the Unix epoch; RFC 3339 in JSON).
    #[serde(serialize_with = "super::serialize_time")]
    pub at: Millis,
    /// `webhook`, `slack` or `email`.
    pub sink: &'static str,
    /// What went wrong (a status or SMTP reply code, a connection error, a timeout), without
    /// the receiver's URL or credentials.
    pub error: String,
}

#[derive(Default)]
pub(super) struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    delivery_dropped: AtomicU64,
    written: AtomicU64,
    webhook_sent: AtomicU64,
    webhook_retries: AtomicU64,
    webhook_failures: Mutex<std::collections::BTreeMap<u16, u64>>,
    slack_sent: AtomicU64,
    pub(super) email_sent: AtomicU64,
    pub(super) email_retries: AtomicU64,
    pub(super) email_failures: Mutex<std::collections::BTreeMap<u16, u64>>,
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

pub(super) struct Shared {
    pub(super) counters: Counters,
    clock: Arc<dyn Clock>,
    stop: AtomicBool,
    /// Past this instant, the delivery threads give up (set by shutdown).
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
    /// Starts the pipeline when the configuration names a file, a webhook, Slack or an SMTP
    /// server, or when
    /// the admin API holds recent events in `ring`.
    pub(crate) fn start(
        config: &Config,
        clock: Arc<dyn Clock>,
        ring: Option<Arc<EventRing>>,
    ) -> Result<Option<Pipeline>> {
        if config.events_path.is_none()
            && config.webhook_url.is_none()
            && config.slack_webhook_url.is_none()
            && config.smtp_url.is_none()
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
        let email = EmailDelivery::sink(config, policy.clone(), &shared);
        let (tx, rx) = mpsc::sync_channel(config.event_queue);
        let (out_tx, out_rx) = mpsc::sync_channel(config.event_queue);
        let (email_tx, email_rx) = mpsc::sync_channel(config.event_queue);
        let dispatcher = Dispatcher {
            rx,
            out: out_tx,
            email_out: email.as_ref().map(|_| email_tx),
            app_name: config.app_name.clone(),
            file,
            ring,
            webhook_all: config.webhook_events == WebhookEvents::All,
            has_webhook: webhook.is_some(),
            has_slack: slack.is_some(),
            digests: Digests::default(),
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
        let mut threads = vec![
            spawn("sqreen-events", Box::new(move || dispatcher.run()))?,
            spawn("sqreen-delivery", Box::new(move || delivery.run()))?,
        ];
        if let Some(sink) = email {
            let email = EmailDelivery::new(email_rx, sink, shared.clone());
            threads.push(spawn("sqreen-email", Box::new(move || email.run()))?);
        }
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
            email_sent: get(&c.email_sent),
            email_retries: get(&c.email_retries),
            email_failures: c.email_failures.lock().clone(),
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
    /// Whether shutdown was asked for and its deadline has passed: delivery threads give up.
    pub(super) fn past_deadline(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            && self.deadline.lock().is_some_and(|d| Instant::now() >= d)
    }

    /// Remembers a failed delivery attempt for health checks.
    pub(super) fn delivery_error(&self, sink: &'static str, error: String) {
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

struct Dispatcher {
    rx: Receiver<Item>,
    out: SyncSender<Outbound>,
    /// The queue to `sqreen-email`, when an SMTP server is configured.
    email_out: Option<SyncSender<Email>>,
    /// `SQREEN_APP_NAME`, in emails.
    app_name: String,
    file: Option<EventsFile>,
    /// The admin API's recent events.
    ring: Option<Arc<EventRing>>,
    webhook_all: bool,
    has_webhook: bool,
    has_slack: bool,
    digests: Digests,
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
                    if n.email {
                        self.forward_email(|app| notification_email(app, &n));
                    }
                }
                Frequency::Daily | Frequency::Weekly => {
                    let sinks = DigestSinks {
                        webhook: n.webhook && self.has_webhook,
                        slack: n.slack && self.has_slack,
                        email: n.email && self.email_out.is_some(),
                    };
                    self.digests.gather(&n, sinks);
                }
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

    /// Builds an email (with the app's name) and queues it for `sqreen-email`, when there is
    /// one; never waits: a full queue drops it and counts it.
    fn forward_email(&self, build: impl FnOnce(&str) -> Email) {
        let Some(out) = &self.email_out else { return };
        if out.try_send(build(&self.app_name)).is_err() {
            let c = &self.shared.counters;
            record_drop(&c.delivery_dropped, &c.last_drop_log);
        }
    }

    /// Sends the digests whose period is over at `now` (all of them when `now` is `None`): a
    /// webhook message and a Slack message per playbook, and one email per frequency with a
    /// table per playbook.
    fn send_due_digests(&mut self, now: Option<Millis>) {
        let mut emails: [Vec<PlaybookDigest>; 2] = [Vec::new(), Vec::new()];
        for due in self.digests.take_due(now) {
            let entry = &due.digest.entry;
            let at = now.unwrap_or(entry.last_ms);
            if due.sinks.webhook {
                let message = serde_json::to_value(entry).unwrap_or_default();
                self.forward(Outbound::Webhook(Message::new(
                    MessageType::Digest,
                    message,
                    at,
                )));
            }
            if due.sinks.slack {
                self.forward(Outbound::Slack(digest_message(entry)));
            }
            if due.sinks.email {
                let weekly = usize::from(entry.frequency == Frequency::Weekly);
                emails[weekly].push(due.digest);
            }
            self.shared.counters.digests.fetch_add(1, Ordering::Relaxed);
        }
        for (digests, frequency) in emails.iter().zip([Frequency::Daily, Frequency::Weekly]) {
            if !digests.is_empty() {
                self.forward_email(|app| digest_email(app, frequency, digests));
            }
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

    fn deliver(&self, mut batch: Vec<Message>, slack: Vec<serde_json::Value>) -> usize {
        let counters = &self.shared.counters;
        let stop = || self.shared.past_deadline();
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
