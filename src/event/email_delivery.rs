//! The `sqreen-email` thread: emails built by the pipeline's dispatcher, handed to the SMTP
//! server one at a time by an [`EmailSink`].
//!
//! This file owns the thread's loop and what it counts (`email_sent`, `email_retries`,
//! `email_failures` by SMTP reply code, the last delivery error) and the start-up warning about
//! credentials that may cross the network in plain text. It polls its bounded queue like the
//! other delivery thread, so queueing an email never wakes it; a server that is down holds up
//! only this thread, retrying with backoff until the server is back or the shutdown deadline
//! passes.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;

use super::pipeline::{Shared, TICK};
use crate::config::Config;
use crate::notify::delivery::{Outcome, RetryPolicy, RetryReason};
use crate::notify::email::{Email, EmailSink};

pub(super) struct EmailDelivery {
    rx: Receiver<Email>,
    sink: EmailSink,
    shared: Arc<Shared>,
}

impl EmailDelivery {
    /// The sink `config` asks for (none without `SQREEN_SMTP_URL`), counting its retries in
    /// `shared`. Warns when the URL's credentials may cross the network in plain text.
    pub(super) fn sink(
        config: &Config,
        policy: RetryPolicy,
        shared: &Arc<Shared>,
    ) -> Option<EmailSink> {
        let (Some(url), Some(from)) = (&config.smtp_url, &config.email_from) else {
            return None;
        };
        if url.credentials_in_clear() {
            tracing::warn!(
                target: "sqreen",
                url = %url,
                "SQREEN_SMTP_URL: the SMTP user and password may cross the network in plain text \
                 to a host that is not this machine; use smtps:// or ?tls=required",
            );
        }
        let observed = shared.clone();
        let sink = EmailSink::new(url, from, &config.email_to, policy).with_retry_observer(
            move |reason| {
                let code = match reason {
                    RetryReason::Status(code) => *code,
                    _ => 0,
                };
                let c = &observed.counters;
                c.email_retries.fetch_add(1, Ordering::Relaxed);
                *c.email_failures.lock().entry(code).or_insert(0) += 1;
                observed.delivery_error("email", reason.to_string());
            },
        );
        Some(sink)
    }

    pub(super) fn new(rx: Receiver<Email>, sink: EmailSink, shared: Arc<Shared>) -> Self {
        EmailDelivery { rx, sink, shared }
    }

    /// Runs until its queue is closed and drained (or the shutdown deadline passes); returns
    /// the emails left unsent.
    pub(super) fn run(self) -> usize {
        let mut left = 0;
        loop {
            match self.rx.try_recv() {
                Ok(email) => left += self.send(&email),
                Err(TryRecvError::Empty) => std::thread::sleep(TICK),
                Err(TryRecvError::Disconnected) => break,
            }
        }
        left
    }

    /// Sends one email; 1 when it was abandoned at shutdown, else 0.
    fn send(&self, email: &Email) -> usize {
        let c = &self.shared.counters;
        let stop = || self.shared.past_deadline();
        let fail = |code: u16, error: String| {
            *c.email_failures.lock().entry(code).or_insert(0) += 1;
            self.shared.delivery_error("email", error);
        };
        match self.sink.send(email, &stop) {
            Outcome::Delivered { .. } => {
                c.email_sent.fetch_add(1, Ordering::Relaxed);
                0
            }
            Outcome::Rejected { status } => {
                fail(status, format!("SMTP reply {status} (not retried)"));
                0
            }
            Outcome::Failed { reason } => {
                fail(0, reason);
                0
            }
            Outcome::Abandoned { .. } => {
                fail(0, "abandoned at shutdown".to_owned());
                1
            }
        }
    }
}
