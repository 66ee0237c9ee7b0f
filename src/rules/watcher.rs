//! [`RulesWatcher`]: the background thread that reloads the rules file when it changes.
//!
//! Every poll interval it compares the file's modification time and length with the last load
//! and, on a change, reads, validates and compiles the new document and hands it to the agent.
//! An invalid document is logged and counted; the rules in force stay. The thread holds only a
//! weak reference to the agent and ends when the agent is dropped or [`RulesWatcher::stop`] is
//! called. It never touches the request path: requests see the new rules through one atomic swap.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use parking_lot::{Condvar, Mutex};

use crate::agent::AgentInner;

/// The identity of a file version, as far as the file system tells it cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    pub(crate) fn of(path: &std::path::Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// A running watcher; stopping (or dropping) it ends the thread.
#[derive(Debug)]
pub(crate) struct RulesWatcher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl RulesWatcher {
    /// Starts watching `path` every `every`, reloading into `agent`.
    pub(crate) fn start(
        agent: Weak<AgentInner>,
        path: PathBuf,
        every: Duration,
        mut last: Option<FileStamp>,
    ) -> std::io::Result<RulesWatcher> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqreen-rules".to_owned())
            .spawn(move || loop {
                {
                    let (lock, cvar) = &*flag;
                    let mut stopped = lock.lock();
                    if !*stopped {
                        cvar.wait_for(&mut stopped, every);
                    }
                    if *stopped {
                        return;
                    }
                }
                let Some(agent) = agent.upgrade() else { return };
                let stamp = FileStamp::of(&path);
                if stamp != last {
                    // A vanished file is reported (and retried) like an invalid one.
                    let _ = agent.reload_rules_file(&path);
                    last = stamp;
                }
            })?;
        Ok(RulesWatcher {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub(crate) fn stop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock() = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for RulesWatcher {
    fn drop(&mut self) {
        self.stop();
    }
}
