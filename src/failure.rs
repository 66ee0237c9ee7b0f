//! Fail-open bookkeeping: what went wrong inside the agent, logged once per kind and counted.
//!
//! The request path never returns an error to the application. When the agent's own code panics
//! or fails, the request goes through (or gets a 503 when `SQREEN_FAIL_CLOSED=true`), the failure
//! is counted, and the first failure of each kind is logged, so a bug cannot flood the logs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Where inside the agent a failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// Checking a request before the handler (lists, actions, user resolver).
    Inspect,
    /// Applying a decision to the handler's response.
    Respond,
    /// An SDK call from a handler (`identify`).
    Sdk,
    /// The in-app WAF's inspection of a request.
    Waf,
    /// Serving an admin API request.
    Admin,
    /// The application's event sink, called with an event.
    EventSink,
    /// The application's notifier, on the notifier thread.
    Notifier,
    /// A RASP check at a sink.
    Rasp,
}

impl FailureKind {
    const ALL: [FailureKind; 8] = [
        FailureKind::Inspect,
        FailureKind::Respond,
        FailureKind::Sdk,
        FailureKind::Waf,
        FailureKind::Admin,
        FailureKind::EventSink,
        FailureKind::Notifier,
        FailureKind::Rasp,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn describe(self) -> &'static str {
        match self {
            FailureKind::Inspect => "checking a request",
            FailureKind::Respond => "applying a security response",
            FailureKind::Sdk => "an SDK call",
            FailureKind::Waf => "the WAF's inspection of a request",
            FailureKind::Admin => "serving an admin API request",
            FailureKind::EventSink => "the application's event sink took an event (it panicked)",
            FailureKind::Notifier => {
                "the application's notifier took a notification (it panicked; on its own thread)"
            }
            FailureKind::Rasp => "a RASP check at a sink (the value was let through)",
        }
    }
}

/// Counts failures and remembers which kinds were already logged.
#[derive(Debug, Default)]
pub(crate) struct FailureLog {
    logged: [AtomicBool; FailureKind::ALL.len()],
    count: AtomicU64,
}

impl FailureLog {
    /// Records a failure; logs it if it is the first of its kind. `closed` says what the request got.
    pub(crate) fn record(&self, kind: FailureKind, closed: bool) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if !self.logged[kind.index()].swap(true, Ordering::Relaxed) {
            let outcome = if closed {
                "the request was answered 503 (SQREEN_FAIL_CLOSED=true)"
            } else {
                "the request was let through (fail-open)"
            };
            tracing::error!(
                target: "sqreen",
                "internal failure while {}; {}. Further failures of this kind are counted, not logged.",
                kind.describe(),
                outcome
            );
        }
    }

    /// How many failures were recorded.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Runs `f`, turning a panic into `None`.
pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_failure_and_guard_catches_panics() {
        let log = FailureLog::default();
        log.record(FailureKind::Inspect, false);
        log.record(FailureKind::Inspect, false);
        log.record(FailureKind::Sdk, true);
        assert_eq!(log.count(), 3);
        assert!(log.logged[FailureKind::Inspect.index()].load(Ordering::Relaxed));
        assert!(!log.logged[FailureKind::Respond.index()].load(Ordering::Relaxed));
        assert_eq!(guard(|| 7), Some(7));
        assert_eq!(guard(|| -> u8 { panic!("boom") }), None);
    }
}
