//! The `sqreen-cluster` thread: one Redis connection, a sync round per period or per local
//! change, reconnection with backoff. See the [module docs](super) for what a round does.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rand::Rng;
use redis::{Connection, Value};

use super::counts::{ClusterActor, Delta, Tally, SYNC_COUNTS};
use super::wire::{self, Keys, LOG_LEN};
use super::{Announcement, ClusterState, Msg, Settings, Shared, OUTBOX};
use crate::action::{Action, ActionChange, ActionKind, ActionSource};
use crate::agent::AgentInner;
use crate::clock::Millis;
use crate::playbook::engine::{FiringActor, SharedGroup};
use crate::playbook::Playbook;

/// Log entries read per command.
const READ_COUNT: usize = 1_000;
/// Log reads per round at most (a replica far behind catches up over several rounds).
const READS_PER_ROUND: usize = 20;
/// Commands per pipeline when pushing.
const PUSH_BATCH: usize = 500;
/// Fields per `HSCAN` when loading the actions in force.
const SCAN_COUNT: usize = 1_000;
/// How often expired actions are pruned from the hash.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// Expired fields pruned per call, at most.
const PRUNE_BATCH: usize = 256;
/// Count hashes written or read per Lua call.
const COUNT_BATCH: usize = 500;
/// Firing markers remembered (won or lost), at most.
const MAX_CLAIMED: usize = 100_000;
/// Reconnection backoff bounds.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Drops the fields of the actions that expired (`ARGV[1]`: now), at most `ARGV[2]`, from the
/// hash (`KEYS[1]`) and its expiry index (`KEYS[2]`), atomically: a field put again meanwhile
/// has a later score and stays.
const PRUNE: &str = r"
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, field in ipairs(gone) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
end
return #gone
";

type Failure = String;

/// One (group, actor) counted here this round: its deltas and its count hash.
struct Counted {
    group: SharedGroup,
    actor: ClusterActor,
    key: String,
    deltas: Vec<Delta>,
}

pub(super) struct Worker {
    settings: Settings,
    shared: Arc<Shared>,
    tally: Arc<Tally>,
    agent: Weak<AgentInner>,
    inbox: Receiver<Msg>,
    /// Firings waiting for their marker.
    claims: VecDeque<Box<Announcement>>,
    /// Markers tried (won or lost), until they lapse: not tried again meanwhile.
    claimed: HashMap<String, Millis>,
    counts: redis::Script,
    keys: Keys,
    /// Local changes not yet written to Redis.
    pending: VecDeque<ActionChange>,
    /// Where this replica is in the change log.
    log_id: Option<String>,
    /// Timeout of a connection attempt and of every command.
    timeout: Duration,
    prune: redis::Script,
    last_prune: Option<Instant>,
}

impl Worker {
    pub(super) fn new(
        settings: Settings,
        shared: Arc<Shared>,
        tally: Arc<Tally>,
        agent: Weak<AgentInner>,
        inbox: Receiver<Msg>,
    ) -> Worker {
        let keys = Keys::new(&settings.namespace);
        let timeout = (settings.sync * 4).max(Duration::from_secs(1));
        Worker {
            settings,
            shared,
            tally,
            agent,
            inbox,
            claims: VecDeque::new(),
            claimed: HashMap::new(),
            counts: redis::Script::new(SYNC_COUNTS),
            keys,
            pending: VecDeque::new(),
            log_id: None,
            timeout,
            prune: redis::Script::new(PRUNE),
            last_prune: None,
        }
    }

    pub(super) fn run(mut self) {
        let mut conn: Option<Connection> = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let stopping = self.shared.stop.load(Ordering::Relaxed);
            self.drain();
            let Some(agent) = self.agent.upgrade() else {
                return;
            };
            if conn.is_none() {
                match self.connect(&agent) {
                    Ok(c) => {
                        if self.shared.state() != ClusterState::Connected {
                            tracing::info!(target: "sqreen", namespace = %self.settings.namespace,
                                "cluster: connected to {}", self.settings.url);
                        }
                        conn = Some(c);
                        backoff = FIRST_BACKOFF;
                        self.succeeded(&agent, None);
                    }
                    Err(e) => self.failed(e),
                }
            } else if let Some(c) = conn.as_mut() {
                let started = Instant::now();
                match self.round(c, &agent) {
                    Ok(()) => self.succeeded(&agent, Some(started)),
                    Err(e) => {
                        conn = None;
                        self.failed(e);
                    }
                }
            }
            if conn.is_none() {
                // Redis away: nobody to ask, this replica tells of its own firings
                while let Some(a) = self.claims.pop_front() {
                    agent.announce(a.event, a.notification);
                    self.shared
                        .firings_announced
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(agent);
            if stopping {
                return;
            }
            let wait = match conn {
                Some(_) => self.settings.sync,
                None => {
                    let jittered = rand::rng().random_range(backoff / 2..=backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    jittered
                }
            };
            if !self.wait(wait, conn.is_some()) {
                return;
            }
        }
    }

    /// Waits `wait`, or until a local change or firing comes when `connected` (it goes out
    /// at once); false when the agent is gone.
    fn wait(&mut self, wait: Duration, connected: bool) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.shared.stop.load(Ordering::Relaxed) {
                return true;
            }
            match self.inbox.recv_timeout(left) {
                // Redis away: a firing is told of at once, without waking the reconnection
                Ok(Msg::Claim(a)) if !connected => {
                    let Some(agent) = self.agent.upgrade() else {
                        return false;
                    };
                    agent.announce(a.event, a.notification);
                    self.shared
                        .firings_announced
                        .fetch_add(1, Ordering::Relaxed);
                }
                Ok(msg) => {
                    self.keep(msg);
                    if connected {
                        return true;
                    }
                }
                Err(RecvTimeoutError::Timeout) => return true,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Moves the changes waiting in the channel to `pending`.
    fn drain(&mut self) {
        while let Ok(msg) = self.inbox.try_recv() {
            self.keep(msg);
        }
    }

    fn keep(&mut self, msg: Msg) {
        let change = match msg {
            Msg::Change(change) => change,
            Msg::Claim(a) => {
                // bounded by the channel: drained every round
                self.claims.push_back(a);
                return;
            }
        };
        if self.pending.len() >= OUTBOX {
            // Redis has been away for a while: push every action in force when it is back
            self.pending.clear();
            self.shared.changes_dropped.fetch_add(1, Ordering::Relaxed);
            self.shared.resync.store(true, Ordering::Relaxed);
            return;
        }
        self.pending.push_back(change);
    }

    fn succeeded(&self, agent: &AgentInner, started: Option<Instant>) {
        let s = &self.shared;
        s.set_state(ClusterState::Connected);
        s.syncs.fetch_add(1, Ordering::Relaxed);
        s.last_sync.store(agent.now(), Ordering::Relaxed);
        if let Some(started) = started {
            let ms = started.elapsed().as_millis();
            s.sync_ms
                .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    fn failed(&self, reason: Failure) {
        let s = &self.shared;
        if s.state() != ClusterState::Degraded {
            tracing::warn!(target: "sqreen", namespace = %self.settings.namespace,
                "cluster: Redis at {} unavailable ({reason}); this replica goes on alone and retries",
                self.settings.url);
        }
        s.set_state(ClusterState::Degraded);
        s.sync_failures.fetch_add(1, Ordering::Relaxed);
        *s.last_error.lock() = Some(reason);
    }

    /// Connects, then brings this replica and Redis level: pushes what changed here, reads
    /// the log it missed, loads the actions in force.
    fn connect(&mut self, agent: &AgentInner) -> Result<Connection, Failure> {
        let client = self.settings.url.client().map_err(describe)?;
        let mut con = client
            .get_connection_with_timeout(self.timeout)
            .map_err(describe)?;
        con.set_read_timeout(Some(self.timeout)).map_err(describe)?;
        con.set_write_timeout(Some(self.timeout))
            .map_err(describe)?;
        self.push(&mut con, agent)?;
        if self.log_id.is_some() {
            self.read_log(&mut con, agent)?;
        }
        let end = self.log_end(&mut con)?;
        self.load(&mut con, agent)?;
        self.log_id = Some(end);
        Ok(con)
    }

    /// One sync round on a live connection.
    fn round(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        self.push(con, agent)?;
        self.read_log(con, agent)?;
        self.settle_claims(con, agent)?;
        self.sync_counts(con, agent)?;
        // the firings of this round put actions: out now, not a period later
        self.drain();
        self.push(con, agent)?;
        if self.last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.prune
                .key(&self.keys.actions)
                .key(&self.keys.until)
                .arg(agent.now())
                .arg(PRUNE_BATCH)
                .invoke::<i64>(con)
                .map_err(describe)?;
            self.last_prune = Some(Instant::now());
        }
        Ok(())
    }

    /// Sets the markers of the firings waiting for one; announces those won.
    fn settle_claims(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        if self.claims.is_empty() {
            return Ok(());
        }
        let now = agent.now();
        let markers: Vec<(String, u64)> = self
            .claims
            .iter()
            .map(|a| (a.marker.clone(), a.ttl_ms))
            .collect();
        let won = self.set_markers(con, &markers, now)?;
        for (a, won) in self.claims.drain(..).zip(won) {
            if won {
                agent.announce(a.event, a.notification);
                self.shared
                    .firings_announced
                    .fetch_add(1, Ordering::Relaxed);
            } else {
                self.shared.firings_deferred.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// `SET NX PX` on each marker; which this replica won. Remembers them all until they
    /// lapse.
    fn set_markers(
        &mut self,
        con: &mut Connection,
        markers: &[(String, u64)],
        now: Millis,
    ) -> Result<Vec<bool>, Failure> {
        let mut pipe = redis::pipe();
        for (marker, ttl) in markers {
            pipe.cmd("SET")
                .arg(format!("{}:fired:{marker}", self.settings.namespace))
                .arg(&self.shared.replica)
                .arg("NX")
                .arg("PX")
                .arg(*ttl);
        }
        let replies: Vec<Value> = pipe.query(con).map_err(describe)?;
        if replies.len() != markers.len() {
            return Err("SET answered a different number of replies".to_owned());
        }
        if self.claimed.len() + markers.len() > MAX_CLAIMED {
            self.claimed.retain(|_, until| *until > now);
        }
        for (marker, ttl) in markers {
            if self.claimed.len() < MAX_CLAIMED {
                self.claimed
                    .insert(marker.clone(), now.saturating_add(*ttl));
            }
        }
        Ok(replies.iter().map(|r| matches!(r, Value::Okay)).collect())
    }

    /// Writes this round's count deltas and reads back, for each (group, actor) they are
    /// about, the cluster's total within the period; fires the playbooks those totals reach.
    ///
    /// Only the actors counted here this round are read: whichever replica's events bring a
    /// total to a threshold reads that total right after writing them (each call is atomic in
    /// Redis, so of two replicas writing at once the later sees both), and the firing reaches
    /// the others as an action. So Redis work follows the traffic, one read per actor and
    /// round at most, however many actors were seen within the period.
    fn sync_counts(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        let now = agent.now();
        let deltas = self.tally.take();
        if deltas.is_empty() {
            return Ok(());
        }
        // the deltas of one (group, actor) side by side
        let mut order: HashMap<(u64, String), usize> = HashMap::new();
        let mut actors: Vec<Counted> = Vec::new();
        for d in deltas {
            let part = d.actor.key_part();
            let i = *order
                .entry((d.group.uid, part))
                .or_insert_with_key(|(_, part)| {
                    actors.push(Counted {
                        group: d.group,
                        key: self.count_key(&d.group, part),
                        actor: d.actor.clone(),
                        deltas: Vec::new(),
                    });
                    actors.len() - 1
                });
            actors[i].deltas.push(d);
        }
        self.shared
            .active_actors
            .store(actors.len() as u64, Ordering::Relaxed);
        let mut reached = Vec::new();
        let mut done = 0;
        while done < actors.len() {
            // up to COUNT_BATCH keys a call: each actor's deltas, then its total
            let batch = &actors[done..(done + COUNT_BATCH).min(actors.len())];
            let writes: usize = batch.iter().map(|a| a.deltas.len()).sum();
            let mut call = self.counts.prepare_invoke();
            call.arg(&self.shared.replica).arg(writes);
            for a in batch {
                for d in &a.deltas {
                    call.key(&a.key);
                    call.arg(d.bucket)
                        .arg(d.count)
                        .arg(d.group.period_ms.saturating_add(d.group.bucket_ms));
                }
            }
            for a in batch {
                call.key(&a.key);
                call.arg(a.group.first_bucket(now));
            }
            let reply = match call.invoke::<Value>(con) {
                Ok(reply) => reply,
                Err(e) => {
                    // a batch whose answer is lost is not sent again (a count may come out low
                    // by it, never twice); the batches not tried wait for the next connection
                    let rest = actors[done + batch.len()..]
                        .iter()
                        .flat_map(|a| a.deltas.iter().cloned())
                        .collect();
                    self.tally.restore(rest);
                    return Err(describe(e));
                }
            };
            let totals = items(&reply).ok_or("the count script answered no list")?;
            if totals.len() != batch.len() {
                return Err("the count script answered a different number of totals".to_owned());
            }
            for (a, total) in batch.iter().zip(totals) {
                match total {
                    Value::Int(n) if *n > 0 => reached.push((a, *n as u64)),
                    Value::Int(_) => {}
                    _ => self.bad_entry(),
                }
            }
            done += batch.len();
        }
        let reached: Vec<(u64, ClusterActor, u64)> = reached
            .into_iter()
            .map(|(a, total)| (a.group.uid, a.actor.clone(), total))
            .collect();
        self.fire_reached(con, agent, reached, now)
    }

    fn count_key(&self, group: &SharedGroup, actor_part: &str) -> String {
        format!(
            "{}:count:{:016x}:{actor_part}",
            self.settings.namespace, group.uid
        )
    }

    /// Fires, once cluster-wide, the playbooks whose threshold a cluster total reached.
    fn fire_reached(
        &mut self,
        con: &mut Connection,
        agent: &AgentInner,
        reached: Vec<(u64, ClusterActor, u64)>,
        now: Millis,
    ) -> Result<(), Failure> {
        self.claimed.retain(|_, until| *until > now);
        let mut groups: HashMap<u64, Option<Vec<Arc<Playbook>>>> = HashMap::new();
        let mut due: Vec<(Arc<Playbook>, FiringActor, u64)> = Vec::new();
        let mut markers = Vec::new();
        for (uid, actor, total) in reached {
            let group = groups
                .entry(uid)
                .or_insert_with(|| agent.playbooks.shared_group(uid));
            let Some(playbooks) = group else {
                continue; // the group left with a rules reload
            };
            for playbook in playbooks.iter() {
                if u64::from(playbook.trigger.threshold) > total {
                    continue;
                }
                let actor = match &actor {
                    ClusterActor::Ip(ip) => FiringActor::Ip(*ip),
                    ClusterActor::User(id) => FiringActor::User(id.clone()),
                };
                let marker = crate::agent::marker(&playbook.id, &actor);
                if self.claimed.get(&marker).is_some_and(|until| *until > now) {
                    continue;
                }
                markers.push((marker, crate::agent::marker_ttl(playbook)));
                due.push((playbook.clone(), actor, total));
            }
        }
        if due.is_empty() {
            return Ok(());
        }
        let won = self.set_markers(con, &markers, now)?;
        for ((playbook, actor, total), won) in due.into_iter().zip(won) {
            agent.fire_shared(playbook, actor, total, now, won);
            let counter = if won {
                &self.shared.firings_announced
            } else {
                &self.shared.firings_deferred
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Writes the pending local changes (or, after an overflow, every action in force).
    fn push(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        let now = agent.now();
        if self.shared.resync.swap(false, Ordering::Relaxed) {
            self.pending = agent
                .actions
                .list(now)
                .into_iter()
                .map(ActionChange::Put)
                .collect();
        }
        while !self.pending.is_empty() {
            let batch = self.pending.len().min(PUSH_BATCH);
            let mut pipe = redis::pipe();
            for change in self.pending.iter().take(batch) {
                self.write(&mut pipe, change, now);
            }
            if let Err(e) = pipe.query::<()>(con) {
                return Err(describe(e));
            }
            self.pending.drain(..batch);
            self.shared
                .actions_pushed
                .fetch_add(batch as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The commands of one change.
    fn write(&self, pipe: &mut redis::Pipeline, change: &ActionChange, now: crate::Millis) {
        let k = &self.keys;
        let replica = &self.shared.replica;
        match change {
            ActionChange::Put(action) if action.is_active(now) => {
                let field = wire::actor_field(&action.actor);
                let value = wire::encode(action, replica);
                pipe.cmd("HSET")
                    .arg(&k.actions)
                    .arg(&field)
                    .arg(&value)
                    .ignore();
                match action.until {
                    Some(until) => pipe.cmd("ZADD").arg(&k.until).arg(until).arg(&field),
                    None => pipe.cmd("ZREM").arg(&k.until).arg(&field),
                }
                .ignore();
                log(pipe, k, "put", &field, &value, replica);
            }
            ActionChange::Put(_) | ActionChange::Evicted(_) => {}
            ActionChange::Removed(action) => {
                let field = wire::actor_field(&action.actor);
                pipe.cmd("HDEL").arg(&k.actions).arg(&field).ignore();
                pipe.cmd("ZREM").arg(&k.until).arg(&field).ignore();
                log(pipe, k, "del", &field, "", replica);
            }
        }
    }

    /// The id of the log's last entry (`0-0` when it is empty).
    fn log_end(&self, con: &mut Connection) -> Result<String, Failure> {
        let reply: Value = redis::cmd("XREVRANGE")
            .arg(&self.keys.log)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query(con)
            .map_err(describe)?;
        let id = items(&reply)
            .and_then(|entries| entries.first())
            .and_then(items)
            .and_then(|entry| entry.first())
            .and_then(text);
        Ok(id.unwrap_or_else(|| "0-0".to_owned()))
    }

    /// Reads the log past `log_id` and applies the other replicas' changes.
    fn read_log(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        for _ in 0..READS_PER_ROUND {
            let from = self.log_id.clone().unwrap_or_else(|| "0-0".to_owned());
            let reply: Value = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("STREAMS")
                .arg(&self.keys.log)
                .arg(&from)
                .query(con)
                .map_err(describe)?;
            let entries = stream_entries(&reply);
            let Some(entries) = entries else {
                if matches!(reply, Value::Nil) {
                    return Ok(()); // nothing new
                }
                self.bad_entry();
                return Ok(());
            };
            let n = entries.len();
            for (id, fields) in entries {
                self.apply_entry(&fields, agent);
                self.log_id = Some(id);
            }
            if n < READ_COUNT {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Applies one log entry written by another replica.
    fn apply_entry(&self, fields: &[(String, String)], agent: &AgentInner) {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if get("from") == Some(self.shared.replica.as_str()) {
            return; // this replica's own change
        }
        let now = agent.now();
        match (get("op"), get("actor")) {
            (Some("put"), Some(_)) => match get("action").and_then(wire::decode) {
                Some(decoded) => self.apply_put(decoded.action, agent, now),
                None => self.bad_entry(),
            },
            (Some("del"), Some(field)) => match wire::parse_actor(field) {
                Some(actor) => {
                    // removal goes by actor: the rest of the action is not read
                    let gone = Action {
                        id: 0,
                        actor,
                        kind: ActionKind::Block,
                        until: None,
                        source: ActionSource::Api,
                    };
                    if agent.actions.get_actor(&gone.actor).is_some() {
                        agent
                            .actions
                            .apply(&ActionChange::Removed(Arc::new(gone)), now);
                        self.shared.actions_applied.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => self.bad_entry(),
            },
            _ => self.bad_entry(),
        }
    }

    /// Puts another replica's action here, unless it has expired or is already in force.
    fn apply_put(&self, action: Action, agent: &AgentInner, now: crate::Millis) {
        if !action.is_active(now) {
            return;
        }
        if let Some(local) = agent.actions.get_actor(&action.actor) {
            if local.kind == action.kind
                && local.until == action.until
                && local.source == action.source
            {
                return;
            }
        }
        agent
            .actions
            .apply(&ActionChange::Put(Arc::new(action)), now);
        self.shared.actions_applied.fetch_add(1, Ordering::Relaxed);
    }

    /// Loads every action in force from the hash.
    fn load(&mut self, con: &mut Connection, agent: &AgentInner) -> Result<(), Failure> {
        let mut cursor = "0".to_owned();
        loop {
            let reply: Value = redis::cmd("HSCAN")
                .arg(&self.keys.actions)
                .arg(&cursor)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query(con)
                .map_err(describe)?;
            let Some([next, page]) = items(&reply).and_then(|v| <&[Value; 2]>::try_from(v).ok())
            else {
                return Err("HSCAN answered something else than a cursor and a page".to_owned());
            };
            let next = text(next).ok_or("HSCAN answered a cursor that is not text")?;
            let page = items(page).ok_or("HSCAN answered a page that is not a list")?;
            let now = agent.now();
            for pair in page.chunks(2) {
                match pair.get(1).and_then(text).as_deref().and_then(wire::decode) {
                    Some(decoded) => self.apply_put(decoded.action, agent, now),
                    None => self.bad_entry(),
                }
            }
            if next == "0" {
                return Ok(());
            }
            cursor = next;
        }
    }

    fn bad_entry(&self) {
        self.shared.bad_entries.fetch_add(1, Ordering::Relaxed);
    }
}

/// Appends a change to the log, keeping it about [`LOG_LEN`] long.
fn log(pipe: &mut redis::Pipeline, k: &Keys, op: &str, field: &str, value: &str, replica: &str) {
    pipe.cmd("XADD")
        .arg(&k.log)
        .arg("MAXLEN")
        .arg("~")
        .arg(LOG_LEN)
        .arg("*")
        .arg("op")
        .arg(op)
        .arg("actor")
        .arg(field)
        .arg("action")
        .arg(value)
        .arg("from")
        .arg(replica)
        .ignore();
}

/// A Redis error in a line for the health answer and the log (never the URL: the error does
/// not carry it).
fn describe(e: redis::RedisError) -> Failure {
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    if e.is_connection_refusal() {
        return "connection refused".to_owned();
    }
    let text = e.to_string();
    text.chars().take(200).collect()
}

fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A log entry: its id and its fields.
type Entry = (String, Vec<(String, String)>);

/// The entries of an `XREAD` answer on one stream: `[[key, [[id, [k, v, ...]], ...]]]`.
fn stream_entries(reply: &Value) -> Option<Vec<Entry>> {
    let streams = items(reply)?;
    let stream = items(streams.first()?)?;
    let entries = items(stream.get(1)?)?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        // an entry without a readable id cannot be stepped past: skipped; one whose fields
        // are not readable is kept empty, to be counted as bad and stepped past
        let Some(entry) = items(entry) else { continue };
        let Some(id) = entry.first().and_then(text) else {
            continue;
        };
        let fields = entry
            .get(1)
            .and_then(items)
            .unwrap_or_default()
            .chunks(2)
            .filter_map(|kv| Some((text(kv.first()?)?, text(kv.get(1)?)?)))
            .collect();
        out.push((id, fields));
    }
    Some(out)
}
