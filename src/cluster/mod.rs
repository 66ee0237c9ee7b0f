//! Cluster mode (DESIGN section 12): several replicas of one app share their runtime actions
//! through Redis (`SQREEN_REDIS_URL`), and Redis is never on the request path.
//!
//! Shape:
//! - The request path only ever touches the process's own stores. A change to the action store
//!   (a playbook's block, the admin API, `block_ip`, a removal) reaches this module through the
//!   store's observer, which offers it to a bounded channel (`try_send`: never waits; when the
//!   channel is full the change is dropped, counted, and the next connection pushes every
//!   action in force instead).
//! - One thread per agent, `sqreen-cluster`, owns the Redis connection (`sync.rs`). It wakes on
//!   a local change or every sync period (`SQREEN_CLUSTER_SYNC_MS`, default 100 ms), writes the
//!   changes (hash of actions in force, expiry index, change log: `wire.rs`), reads the log from
//!   where it left off and applies the other replicas' changes to the local store, without
//!   calling the observers again (no echo). So a change on one replica holds on every other
//!   within about one sync period.
//! - A replica that connects (at start, or after Redis was away) first pushes what changed
//!   locally meanwhile, then reads the log it missed (removals), then loads the hash of actions
//!   in force.
//! - Redis down, slow or silent: every command has a timeout; the replica goes on alone with
//!   its own actions, `health` says `degraded` with the last error, the stats count failures,
//!   and the thread reconnects with a capped, jittered backoff. Nothing else waits.

pub(crate) mod counts;
mod sync;
pub(crate) mod url;
pub(crate) mod wire;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

pub use url::{check_namespace, check_sync, redact, RedisUrl, DEFAULT_NAMESPACE, DEFAULT_SYNC};

use crate::action::ActionChange;
use crate::agent::AgentInner;
use crate::event::Event;
use crate::notify::PlaybookNotification;
use counts::Tally;

/// Local changes waiting for the sync thread, at most.
const OUTBOX: usize = 10_000;

/// Where a replica stands with Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterState {
    /// No `SQREEN_REDIS_URL`: the agent works alone.
    Off,
    /// Started, the first connection not tried yet.
    Connecting,
    /// The last sync went through.
    Connected,
    /// Redis cannot be reached or did not answer in time: the replica works alone with what
    /// it has and keeps trying.
    Degraded,
}

impl ClusterState {
    fn from_u8(v: u8) -> ClusterState {
        match v {
            1 => ClusterState::Connecting,
            2 => ClusterState::Connected,
            3 => ClusterState::Degraded,
            _ => ClusterState::Off,
        }
    }
}

/// What cluster mode did (all zero, state `off`, without `SQREEN_REDIS_URL`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Where the replica stands with Redis now.
    pub state: ClusterState,
    /// Sync rounds that went through.
    pub syncs: u64,
    /// Connections or sync rounds that failed (Redis away, slow, or answering wrong).
    pub sync_failures: u64,
    /// How long the last sync round took, in milliseconds.
    pub sync_ms: u64,
    /// Milliseconds since the last sync that went through (0 before the first).
    pub lag_ms: u64,
    /// Local action changes written to Redis.
    pub actions_pushed: u64,
    /// Other replicas' action changes applied here.
    pub actions_applied: u64,
    /// Local changes dropped because the channel to the sync thread was full (the next
    /// connection then pushes every action in force).
    pub changes_dropped: u64,
    /// Entries read from Redis that were not what this agent writes, skipped.
    pub bad_entries: u64,
    /// Counted events not shared with the other replicas (too many pending deltas while
    /// Redis was away); they still count here.
    pub deltas_dropped: u64,
    /// (Playbook group, actor) pairs whose counts the last round shared (counted here since
    /// the round before).
    pub active_actors: u64,
    /// Playbook firings this replica announced (it won the firing's marker, or Redis was
    /// away).
    pub firings_announced: u64,
    /// Playbook firings another replica announced: applied here without an event or a
    /// notification.
    pub firings_deferred: u64,
}

impl Default for ClusterStats {
    fn default() -> Self {
        ClusterStats {
            state: ClusterState::Off,
            syncs: 0,
            sync_failures: 0,
            sync_ms: 0,
            lag_ms: 0,
            actions_pushed: 0,
            actions_applied: 0,
            changes_dropped: 0,
            bad_entries: 0,
            deltas_dropped: 0,
            active_actors: 0,
            firings_announced: 0,
            firings_deferred: 0,
        }
    }
}

/// What reaches the sync thread from the request path.
pub(crate) enum Msg {
    /// A change to the local action store, to write to Redis.
    Change(ActionChange),
    /// A firing's event and notification, to announce if this replica wins the firing's
    /// marker (or if Redis is away).
    Claim(Box<Announcement>),
}

/// What a playbook firing tells the world, once cluster-wide: its event and notification,
/// with the marker that decides which replica announces it.
#[derive(Debug)]
pub(crate) struct Announcement {
    /// The marker's key part: the playbook and the actor.
    pub(crate) marker: String,
    /// How long the marker holds (as long as the playbook's action, or its period).
    pub(crate) ttl_ms: u64,
    pub(crate) event: Option<Event>,
    pub(crate) notification: PlaybookNotification,
}

/// What the request path and the sync thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    state: AtomicU8,
    stop: AtomicBool,
    /// The local changes and claims for the sync thread.
    outbox: SyncSender<Msg>,
    /// Set when a change was dropped: push every action in force at the next chance.
    resync: AtomicBool,
    syncs: AtomicU64,
    sync_failures: AtomicU64,
    sync_ms: AtomicU64,
    /// When the last sync went through (agent clock, ms; 0 before).
    last_sync: AtomicU64,
    actions_pushed: AtomicU64,
    actions_applied: AtomicU64,
    changes_dropped: AtomicU64,
    bad_entries: AtomicU64,
    active_actors: AtomicU64,
    firings_announced: AtomicU64,
    firings_deferred: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// This replica's id in Redis entries (random per agent).
    replica: String,
    namespace: String,
    url: String,
}

impl Shared {
    fn set_state(&self, state: ClusterState) {
        let v = match state {
            ClusterState::Off => 0,
            ClusterState::Connecting => 1,
            ClusterState::Connected => 2,
            ClusterState::Degraded => 3,
        };
        self.state.store(v, Ordering::Relaxed);
    }

    fn state(&self) -> ClusterState {
        ClusterState::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Offers a local change to the sync thread; never waits.
    fn offer(&self, change: &ActionChange) {
        if matches!(change, ActionChange::Evicted(_)) {
            return; // room is each replica's own matter
        }
        match self.outbox.try_send(Msg::Change(change.clone())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.changes_dropped.fetch_add(1, Ordering::Relaxed);
                self.resync.store(true, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The cluster side of one agent: its shared state and its sync thread.
#[derive(Debug)]
pub(crate) struct Cluster {
    shared: Arc<Shared>,
    tally: Arc<Tally>,
}

/// The settings cluster mode runs with.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) url: RedisUrl,
    pub(crate) sync: Duration,
    pub(crate) namespace: String,
}

impl Cluster {
    /// Starts the sync thread for `agent` and registers the observer that feeds it. Redis is
    /// not contacted here: an unreachable Redis is a degraded state, not an error.
    pub(crate) fn start(settings: Settings, agent: Weak<AgentInner>) -> std::io::Result<Cluster> {
        let (outbox, inbox): (SyncSender<Msg>, Receiver<Msg>) = mpsc::sync_channel(OUTBOX);
        let shared = Arc::new(Shared {
            state: AtomicU8::new(0),
            stop: AtomicBool::new(false),
            outbox,
            resync: AtomicBool::new(false),
            syncs: AtomicU64::new(0),
            sync_failures: AtomicU64::new(0),
            sync_ms: AtomicU64::new(0),
            last_sync: AtomicU64::new(0),
            actions_pushed: AtomicU64::new(0),
            actions_applied: AtomicU64::new(0),
            changes_dropped: AtomicU64::new(0),
            bad_entries: AtomicU64::new(0),
            active_actors: AtomicU64::new(0),
            firings_announced: AtomicU64::new(0),
            firings_deferred: AtomicU64::new(0),
            last_error: Mutex::new(None),
            replica: format!("{:016x}", rand::random::<u64>()),
            namespace: settings.namespace.clone(),
            url: settings.url.redacted().to_owned(),
        });
        shared.set_state(ClusterState::Connecting);
        let tally = Arc::new(Tally::default());
        if let Some(inner) = agent.upgrade() {
            let feed = shared.clone();
            inner.actions.observe(move |change| feed.offer(change));
            inner.playbooks.set_tap(tally.clone());
        }
        let worker = sync::Worker::new(settings, shared.clone(), tally.clone(), agent, inbox);
        std::thread::Builder::new()
            .name("sqreen-cluster".to_owned())
            .spawn(move || worker.run())?;
        Ok(Cluster { shared, tally })
    }

    /// Hands a firing's announcement to the sync thread, which announces it if this replica
    /// wins its marker; gives it back when the channel is full (announce it now: never lost).
    pub(crate) fn claim(&self, a: Box<Announcement>) -> Result<(), Box<Announcement>> {
        match self.shared.outbox.try_send(Msg::Claim(a)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg) | TrySendError::Disconnected(msg)) => match msg {
                Msg::Claim(a) => Err(a),
                Msg::Change(_) => Ok(()), // (what was sent comes back: a claim)
            },
        }
    }

    /// Tells the sync thread to stop (after one last push of the changes it holds, if Redis
    /// answers); does not wait for it.
    pub(crate) fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// The counters and state, `now` being the agent clock's time.
    pub(crate) fn stats(&self, now: crate::Millis) -> ClusterStats {
        let s = &self.shared;
        let last = s.last_sync.load(Ordering::Relaxed);
        ClusterStats {
            state: s.state(),
            syncs: s.syncs.load(Ordering::Relaxed),
            sync_failures: s.sync_failures.load(Ordering::Relaxed),
            sync_ms: s.sync_ms.load(Ordering::Relaxed),
            lag_ms: if last == 0 {
                0
            } else {
                now.saturating_sub(last)
            },
            actions_pushed: s.actions_pushed.load(Ordering::Relaxed),
            actions_applied: s.actions_applied.load(Ordering::Relaxed),
            changes_dropped: s.changes_dropped.load(Ordering::Relaxed),
            bad_entries: s.bad_entries.load(Ordering::Relaxed),
            deltas_dropped: self.tally.dropped.load(Ordering::Relaxed),
            active_actors: s.active_actors.load(Ordering::Relaxed),
            firings_announced: s.firings_announced.load(Ordering::Relaxed),
            firings_deferred: s.firings_deferred.load(Ordering::Relaxed),
        }
    }

    /// The `cluster` object of the health answer.
    pub(crate) fn health(&self, now: crate::Millis) -> serde_json::Value {
        let stats = self.stats(now);
        serde_json::json!({
            "state": stats.state,
            "url": self.shared.url,
            "namespace": self.shared.namespace,
            "replica": self.shared.replica,
            "lag_ms": stats.lag_ms,
            "sync_failures": stats.sync_failures,
            "last_error": *self.shared.last_error.lock(),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
