//! The notifier's own thread: playbook notifications leave the request path at once.
//!
//! [`crate::notify::Notifier::notify`] (the default [`crate::notify::LogNotifier`] included) is
//! the application's code or a log line, either of which may be slow. The request path only
//! puts the notification in a bounded queue (`try_send`, never waiting); the `sqreen-notify`
//! thread hands it to the notifier. A full queue drops the newest notification and counts it;
//! a notifier that panics is caught there, counted as an internal failure, and the thread goes
//! on with the next one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{Notifier, PlaybookNotification};
use crate::failure::{FailureKind, FailureLog};

/// How often the thread looks at the stop flag while its queue is empty.
const TICK: Duration = Duration::from_millis(20);

/// The queue to the notifier thread.
pub(crate) struct NotifyQueue {
    tx: SyncSender<PlaybookNotification>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    stop: AtomicBool,
    dropped: AtomicU64,
    failures: Arc<FailureLog>,
}

impl std::fmt::Debug for NotifyQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyQueue")
            .field("dropped", &self.shared.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl NotifyQueue {
    /// Starts the `sqreen-notify` thread with a queue of `capacity` notifications.
    pub(crate) fn start(
        notifier: Arc<dyn Notifier>,
        capacity: usize,
        failures: Arc<FailureLog>,
    ) -> std::io::Result<NotifyQueue> {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            failures,
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqreen-notify".to_owned())
            .spawn(move || run(&rx, &*notifier, &thread_shared))?;
        Ok(NotifyQueue {
            tx,
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a notification; never blocks. A full queue (or a stopped thread) drops it and
    /// counts it.
    pub(crate) fn send(&self, notification: PlaybookNotification) {
        if self.shared.stop.load(Ordering::Relaxed) {
            self.drop_one();
            return;
        }
        match self.tx.try_send(notification) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.drop_one(),
        }
    }

    fn drop_one(&self) {
        if self.shared.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(
                target: "sqreen::notify",
                "notification queue full: a playbook notification was dropped (further drops are counted, not logged)"
            );
        }
    }

    /// Notifications dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Stops the thread after it has handed over what is queued, waiting until `deadline` at
    /// most (a notifier stuck past it is left to finish on its own).
    pub(crate) fn shutdown(&self, deadline: Instant) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.lock().take() else {
            return;
        };
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

impl Drop for NotifyQueue {
    fn drop(&mut self) {
        // the thread ends when it sees the flag (or the queue's sender gone); not waited for
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn run(rx: &Receiver<PlaybookNotification>, notifier: &dyn Notifier, shared: &Shared) {
    loop {
        match rx.recv_timeout(TICK) {
            Ok(notification) => deliver(notifier, &notification, shared),
            Err(RecvTimeoutError::Timeout) if shared.stop.load(Ordering::Relaxed) => {
                // what was queued before the stop has been handed over
                while let Ok(notification) = rx.try_recv() {
                    deliver(notifier, &notification, shared);
                }
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn deliver(notifier: &dyn Notifier, notification: &PlaybookNotification, shared: &Shared) {
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        notifier.notify(notification)
    }));
    if ran.is_err() {
        shared.failures.record(FailureKind::Notifier, false);
    }
}
