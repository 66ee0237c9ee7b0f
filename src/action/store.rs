//! [`ActionStore`]: the actions decided at run time, looked up on every request.
//!
//! Readers load an immutable snapshot through `arc-swap` (wait-free: a reader never waits on a
//! writer). The snapshot's maps are persistent (`imbl`): a writer makes a new snapshot that
//! shares everything with the old one but the O(log n) nodes it changes, and publishes it. So
//! adding an action with 100,000 in force copies a few nodes, not the store. Writers take turns
//! on a lock of their own, which also guards the order actions are dropped in (by id, by
//! expiry); a lookup never takes it. A lookup costs one snapshot load plus one probe per IP
//! prefix length present, whatever the number of actions.
//!
//! The store is bounded ([`ActionStore::with_capacity`], `SQREEN_MAX_ACTIONS`): a write first
//! drops the actions that have expired (soonest expiry first, O(log n) each), then, if the store
//! is still full, the oldest action (the lowest id); evictions are counted. Expiry is also
//! checked at lookup; there is no timer per entry.
//!
//! Every change is also reported to the observers registered with [`ActionStore::observe`], and
//! [`ActionStore::apply`] replays a change: the seam a cluster mode uses to share actions between
//! replicas without this type knowing about it.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ipnet::IpNet;
use parking_lot::Mutex;

use super::model::{Action, Actor};
use crate::clock::Millis;
use crate::fasthash::FoldState;
use crate::ip::prefix_map::normalize_net;

/// The default cap on stored actions (`SQREEN_MAX_ACTIONS`).
pub const DEFAULT_MAX_ACTIONS: usize = 100_000;

/// A change to the store, as reported to observers and accepted by [`ActionStore::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum ActionChange {
    /// An action was added; it replaces any action on the same actor.
    Put(Arc<Action>),
    /// This action was removed (by id or by actor).
    Removed(Arc<Action>),
    /// This action was evicted to make room in a full store: a local matter, which
    /// [`ActionStore::apply`] ignores (another store has its own room).
    Evicted(Arc<Action>),
}

type Observer = Arc<dyn Fn(&ActionChange) + Send + Sync>;

/// A normalised network as a map key: its address bits (IPv4 in the low 32) and a length that
/// also tells the family (`0..=128` IPv6, `V4_LEN + 0..=32` IPv4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct NetKey {
    bits: u128,
    len: u8,
}

/// Where IPv4 lengths start in [`NetKey::len`].
const V4_LEN: u8 = 129;

impl Hash for NetKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.bits);
        state.write_u64(u64::from(self.len));
    }
}

impl NetKey {
    fn of(net: IpNet) -> NetKey {
        match normalize_net(net).trunc() {
            IpNet::V4(v4) => NetKey {
                bits: u128::from(u32::from(v4.addr())),
                len: V4_LEN + v4.prefix_len(),
            },
            IpNet::V6(v6) => NetKey {
                bits: u128::from(v6.addr()),
                len: v6.prefix_len(),
            },
        }
    }
}

/// A bit per prefix length present (index = [`NetKey::len`]), so a lookup probes only the
/// lengths in use.
#[derive(Clone, Copy, Default)]
struct Present([u64; 3]);

impl Present {
    fn set(&mut self, len: u8, on: bool) {
        let (word, bit) = (usize::from(len) / 64, len % 64);
        if on {
            self.0[word] |= 1 << bit;
        } else {
            self.0[word] &= !(1 << bit);
        }
    }

    /// The lengths present in `lo..=hi`, longest first.
    fn longest_first(&self, lo: u8, hi: u8) -> impl Iterator<Item = u8> + '_ {
        (lo..=hi)
            .rev()
            .filter(|&len| self.0[usize::from(len) / 64] & (1 << (len % 64)) != 0)
    }
}

/// A persistent hash map with the crate's seeded hasher.
type PMap<K, V> = imbl::GenericHashMap<K, V, FoldState, imbl::shared_ptr::DefaultSharedPtr>;

/// What readers see: the actions by actor.
#[derive(Clone)]
struct Snapshot {
    ips: PMap<NetKey, Arc<Action>>,
    lengths: Present,
    users: PMap<String, Arc<Action>>,
}

/// What only writers need, kept beside the snapshot under the writers' lock: the order
/// actions are dropped in.
#[derive(Default)]
struct Book {
    /// Every stored action by id: the oldest first.
    by_id: BTreeMap<u64, Arc<Action>>,
    /// `(until, id)` of every stored action that expires: the soonest first.
    expiring: BTreeSet<(Millis, u64)>,
    /// How many stored networks have each prefix length (index = [`NetKey::len`]).
    lengths: Lengths,
}

/// Networks stored per prefix length.
struct Lengths([u32; 162]);

impl Default for Lengths {
    fn default() -> Self {
        Lengths([0; 162])
    }
}

impl Book {
    /// The book of what `snap` holds (after a write that did not finish).
    fn of(snap: &Snapshot) -> Book {
        let mut book = Book::default();
        for (key, action) in snap.ips.iter() {
            book.lengths.0[usize::from(key.len)] += 1;
            book.add(action);
        }
        for action in snap.users.values() {
            book.add(action);
        }
        book
    }

    fn add(&mut self, action: &Arc<Action>) {
        self.by_id.insert(action.id, action.clone());
        if let Some(until) = action.until {
            self.expiring.insert((until, action.id));
        }
    }
}

impl Snapshot {
    fn new(hasher: FoldState) -> Self {
        Snapshot {
            ips: PMap::with_hasher(hasher),
            lengths: Present::default(),
            users: PMap::with_hasher(hasher),
        }
    }

    fn len(&self) -> usize {
        self.ips.len() + self.users.len()
    }
}

/// A write in progress: the next snapshot and the book.
struct Write<'a> {
    snap: &'a mut Snapshot,
    book: &'a mut Book,
}

impl Write<'_> {
    fn len(&self) -> usize {
        self.book.by_id.len()
    }

    /// Adds `action`, replacing the action on the same actor; returns the replaced action.
    fn insert(&mut self, action: Arc<Action>) -> Option<Arc<Action>> {
        let old = match &action.actor {
            Actor::Ip(net) => {
                let key = NetKey::of(*net);
                let old = self.snap.ips.insert(key, action.clone());
                if old.is_none() {
                    let count = &mut self.book.lengths.0[usize::from(key.len)];
                    *count += 1;
                    self.snap.lengths.set(key.len, true);
                }
                old
            }
            Actor::User(id) => self.snap.users.insert(id.clone(), action.clone()),
        };
        if let Some(old) = &old {
            self.forget(old);
        }
        self.book.by_id.insert(action.id, action.clone());
        if let Some(until) = action.until {
            self.book.expiring.insert((until, action.id));
        }
        old
    }

    /// Drops `action` from the id and expiry indexes (not from the actor maps).
    fn forget(&mut self, action: &Action) {
        self.book.by_id.remove(&action.id);
        if let Some(until) = action.until {
            self.book.expiring.remove(&(until, action.id));
        }
    }

    /// Removes the action with this id; returns it.
    fn remove_id(&mut self, id: u64) -> Option<Arc<Action>> {
        let action = self.book.by_id.get(&id)?.clone();
        self.remove_actor(&action.actor)
    }

    /// Removes the action on exactly this actor; returns it.
    fn remove_actor(&mut self, actor: &Actor) -> Option<Arc<Action>> {
        let removed = match actor {
            Actor::Ip(net) => {
                let key = NetKey::of(*net);
                let removed = self.snap.ips.remove(&key);
                if removed.is_some() {
                    let count = &mut self.book.lengths.0[usize::from(key.len)];
                    *count = count.saturating_sub(1);
                    self.snap.lengths.set(key.len, *count > 0);
                }
                removed
            }
            Actor::User(id) => self.snap.users.remove(id),
        };
        if let Some(action) = &removed {
            self.forget(action);
        }
        removed
    }

    /// Removes every action expired at `now`, soonest first; returns how many.
    fn drop_expired(&mut self, now: Millis) -> usize {
        let mut dropped = 0;
        while let Some(&(until, id)) = self.book.expiring.first() {
            if until > now {
                break;
            }
            self.book.expiring.remove(&(until, id));
            if self.remove_id(id).is_some() {
                dropped += 1;
            }
        }
        dropped
    }

    /// True when an action on exactly this actor is stored.
    fn has_actor(&self, actor: &Actor) -> bool {
        match actor {
            Actor::Ip(net) => self.snap.ips.contains_key(&NetKey::of(*net)),
            Actor::User(id) => self.snap.users.contains_key(id),
        }
    }

    /// Drops the expired actions, then adds `action` (replacing the one on its actor), first
    /// evicting the oldest actions while a new actor would take the store over `cap`. Returns
    /// the actions evicted (expired ones not included).
    fn put(&mut self, action: Arc<Action>, cap: usize, now: Millis) -> Vec<Arc<Action>> {
        self.drop_expired(now);
        let mut evicted = Vec::new();
        if !self.has_actor(&action.actor) {
            while self.len() >= cap {
                let Some((&id, _)) = self.book.by_id.first_key_value() else {
                    break;
                };
                evicted.extend(self.remove_id(id));
            }
        }
        self.insert(action);
        evicted
    }
}

/// The runtime actions on IP networks and users.
pub struct ActionStore {
    snapshot: ArcSwap<Snapshot>,
    /// The writers' lock: only writes take it, never a lookup.
    book: Mutex<Book>,
    cap: usize,
    next_id: AtomicU64,
    evicted: AtomicU64,
    /// Registered rarely, read at every change: swapped whole, read without a lock.
    observers: ArcSwap<Vec<Observer>>,
}

impl Default for ActionStore {
    fn default() -> Self {
        ActionStore::with_capacity(DEFAULT_MAX_ACTIONS)
    }
}

impl std::fmt::Debug for ActionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let snap = self.snapshot.load();
        f.debug_struct("ActionStore")
            .field("ips", &snap.ips.len())
            .field("users", &snap.users.len())
            .field("cap", &self.cap)
            .finish()
    }
}

impl ActionStore {
    /// An empty store of at most [`DEFAULT_MAX_ACTIONS`] actions.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store of at most `cap` actions (at least one).
    pub fn with_capacity(cap: usize) -> Self {
        ActionStore {
            snapshot: ArcSwap::from_pointee(Snapshot::new(FoldState::random())),
            book: Mutex::new(Book::default()),
            cap: cap.max(1),
            next_id: AtomicU64::new(1),
            evicted: AtomicU64::new(0),
            observers: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// A fresh action id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The most actions kept.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Actions stored (expired ones included until a write or a lookup drops them).
    pub fn len(&self) -> usize {
        self.snapshot.load().len()
    }

    /// Actions evicted to make room (the store was full of unexpired actions).
    pub fn evictions(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// The active action on the most specific network containing `ip`, if any.
    pub fn lookup_ip(&self, ip: IpAddr, now: Millis) -> Option<Arc<Action>> {
        let snap = self.snapshot.load();
        if snap.ips.is_empty() {
            return None;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (bits, lo, hi) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), V4_LEN, V4_LEN + 32),
            IpAddr::V6(v6) => (u128::from(v6), 0, 128),
        };
        let width = if lo == V4_LEN { 32 } else { 128 };
        for len in snap.lengths.longest_first(lo, hi) {
            let prefix = u32::from(len - lo);
            let mask = match prefix {
                0 => 0,
                p => (u128::MAX >> (128 - width)) & !((1u128 << (width - p)) - 1),
            };
            let key = NetKey {
                bits: bits & mask,
                len,
            };
            if let Some(action) = snap.ips.get(&key).filter(|a| a.is_active(now)) {
                return Some(action.clone());
            }
        }
        None
    }

    /// The active action on the user with canonical id or key value `id`, if any.
    pub fn lookup_user(&self, id: &str, now: Millis) -> Option<Arc<Action>> {
        let snap = self.snapshot.load();
        snap.users.get(id).filter(|a| a.is_active(now)).cloned()
    }

    /// The action on exactly this actor (not on a wider or narrower network), expired or not.
    pub fn get_actor(&self, actor: &Actor) -> Option<Arc<Action>> {
        let snap = self.snapshot.load();
        match actor {
            Actor::Ip(net) => snap.ips.get(&NetKey::of(*net)).cloned(),
            Actor::User(id) => snap.users.get(id).cloned(),
        }
    }

    /// True when no action at all is stored (lets the caller skip reading the clock).
    pub fn is_empty(&self) -> bool {
        self.snapshot.load().len() == 0
    }

    /// True when no user action is stored (lets the caller skip building candidate ids).
    pub fn has_user_actions(&self) -> bool {
        !self.snapshot.load().users.is_empty()
    }

    /// Adds `action`, replacing any action on the same actor; returns it as stored. When the
    /// store is full, expired actions are dropped first, then the oldest (each reported to the
    /// observers as removed, and counted in [`evictions`](Self::evictions)).
    pub fn put(&self, action: Action, now: Millis) -> Arc<Action> {
        let action = Arc::new(action);
        let evicted = self.write(|w| w.put(action.clone(), self.cap, now));
        self.evicted
            .fetch_add(evicted.len() as u64, Ordering::Relaxed);
        for gone in evicted {
            self.notify(&ActionChange::Evicted(gone));
        }
        self.notify(&ActionChange::Put(action.clone()));
        action
    }

    /// Removes the action with this id; true if it was there.
    pub fn remove(&self, id: u64, now: Millis) -> bool {
        let removed = self.write(|w| {
            w.drop_expired(now);
            w.remove_id(id)
        });
        match removed {
            Some(action) => {
                self.notify(&ActionChange::Removed(action));
                true
            }
            None => false,
        }
    }

    /// Removes every action on exactly this actor; returns how many were removed.
    pub fn remove_actor(&self, actor: &Actor, now: Millis) -> usize {
        let removed = self.write(|w| {
            w.drop_expired(now);
            w.remove_actor(actor)
        });
        let count = usize::from(removed.is_some());
        if let Some(action) = removed {
            self.notify(&ActionChange::Removed(action));
        }
        count
    }

    /// Replays a change reported by another store (observers are not called again): an action
    /// put there is put here under an id of this store's (ids are each store's own), one
    /// removed there is removed here by its actor, and an eviction is ignored. Returns the
    /// action as stored for a put.
    pub fn apply(&self, change: &ActionChange, now: Millis) -> Option<Arc<Action>> {
        match change {
            ActionChange::Put(action) => {
                let action = Arc::new(Action {
                    id: self.next_id(),
                    ..Action::clone(action)
                });
                let evicted = self.write(|w| w.put(action.clone(), self.cap, now).len());
                self.evicted.fetch_add(evicted as u64, Ordering::Relaxed);
                Some(action)
            }
            ActionChange::Removed(action) => {
                self.write(|w| {
                    w.drop_expired(now);
                    w.remove_actor(&action.actor)
                });
                None
            }
            ActionChange::Evicted(_) => None,
        }
    }

    /// Calls `observer` after every change made through [`put`](Self::put),
    /// [`remove`](Self::remove) or [`remove_actor`](Self::remove_actor). Observers run on the
    /// writer's thread: they must be quick and must not call back into the store.
    pub fn observe(&self, observer: impl Fn(&ActionChange) + Send + Sync + 'static) {
        let observer: Observer = Arc::new(observer);
        self.observers.rcu(|list| {
            let mut list = Vec::clone(list);
            list.push(observer.clone());
            list
        });
    }

    /// The actions active at `now`, ordered by id.
    pub fn list(&self, now: Millis) -> Vec<Arc<Action>> {
        let snap = self.snapshot.load();
        let mut all: Vec<_> = snap
            .ips
            .values()
            .chain(snap.users.values())
            .filter(|a| a.is_active(now))
            .cloned()
            .collect();
        all.sort_unstable_by_key(|a| a.id);
        all
    }

    /// Applies `change` to a new snapshot made from the current one (sharing all it does not
    /// change) and publishes it. Writers take turns; lookups never wait for them.
    ///
    /// A panic inside `change` publishes nothing: readers keep the old snapshot, and the book,
    /// which `change` may have left half changed, is rebuilt from that snapshot before the lock
    /// is released.
    fn write<R>(&self, change: impl FnOnce(&mut Write<'_>) -> R) -> R {
        let mut book = self.book.lock();
        let mut next = Snapshot::clone(&self.snapshot.load());
        let changed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            change(&mut Write {
                snap: &mut next,
                book: &mut book,
            })
        }));
        match changed {
            Ok(result) => {
                self.snapshot.store(Arc::new(next));
                result
            }
            Err(panic) => {
                *book = Book::of(&self.snapshot.load());
                std::panic::resume_unwind(panic)
            }
        }
    }

    fn notify(&self, change: &ActionChange) {
        let observers = self.observers.load();
        for observer in observers.iter() {
            observer(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ActionKind, ActionSource};

    fn block(store: &ActionStore, actor: Actor, until: Option<Millis>) -> Action {
        Action {
            id: store.next_id(),
            actor,
            kind: ActionKind::Block,
            until,
            source: ActionSource::Api,
        }
    }

    #[test]
    fn most_specific_active_action_wins() {
        let s = ActionStore::new();
        let wide = s.put(block(&s, Actor::Ip("10.0.0.0/8".parse().unwrap()), None), 0);
        let narrow = s.put(
            block(&s, Actor::Ip("10.1.0.0/16".parse().unwrap()), Some(100)),
            0,
        );
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(s.lookup_ip(ip, 50).unwrap().id, narrow.id);
        // once the narrow one expires, the wide one still applies
        assert_eq!(s.lookup_ip(ip, 100).unwrap().id, wide.id);
        assert!(s.lookup_ip("11.0.0.1".parse().unwrap(), 0).is_none());
    }

    #[test]
    fn users_put_replace_remove_and_expire() {
        let s = ActionStore::new();
        let a = s.put(block(&s, Actor::User("mallory".into()), Some(10)), 0);
        assert!(s.lookup_user("mallory", 9).is_some());
        assert!(s.lookup_user("mallory", 10).is_none());
        let b = s.put(block(&s, Actor::User("mallory".into()), None), 0);
        assert_eq!(s.lookup_user("mallory", 1_000).unwrap().id, b.id);
        assert!(!s.remove(a.id, 0), "replaced action is gone");
        assert!(s.remove(b.id, 0));
        assert!(s.lookup_user("mallory", 0).is_none());
    }

    #[test]
    fn writes_drop_expired_entries_and_list_is_ordered() {
        let s = ActionStore::new();
        s.put(block(&s, Actor::User("a".into()), Some(5)), 0);
        s.put(
            block(&s, Actor::Ip("192.0.2.1/32".parse().unwrap()), None),
            0,
        );
        s.put(block(&s, Actor::User("b".into()), None), 10);
        let ids: Vec<_> = s.list(10).iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(s.snapshot.load().users.len(), 1, "expired 'a' was dropped");
    }

    #[test]
    fn observers_see_changes_and_apply_replays_them() {
        let s = ActionStore::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        s.observe(move |c| sink.lock().push(c.clone()));
        let a = s.put(block(&s, Actor::User("x".into()), None), 0);
        assert_eq!(
            s.remove_actor(&Actor::User("x".into()), 0),
            1,
            "remove by actor"
        );
        let changes = seen.lock().clone();
        assert_eq!(
            changes,
            vec![
                ActionChange::Put(a.clone()),
                ActionChange::Removed(a.clone())
            ]
        );

        // the replica's own action 1 is not the replayed one: ids are each store's own
        let replica = ActionStore::new();
        let own = replica.put(block(&replica, Actor::User("y".into()), None), 0);
        assert_eq!(own.id, a.id);
        let replayed = replica.apply(&changes[0], 0).unwrap();
        assert_ne!(
            replayed.id, own.id,
            "a replayed action gets an id of the replica's"
        );
        assert_eq!(replica.lookup_user("x", 0).unwrap().id, replayed.id);
        assert!(replica.lookup_user("y", 0).is_some());
        // removed by actor, whatever its id there
        replica.apply(&changes[1], 0);
        assert!(replica.lookup_user("x", 0).is_none());
    }

    #[test]
    fn a_full_store_drops_expired_actions_first_then_the_oldest() {
        let s = ActionStore::with_capacity(3);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        s.observe(move |c| sink.lock().push(c.clone()));
        let user = |n: &str| Actor::User(n.into());
        let a = s.put(block(&s, user("a"), None), 0);
        let b = s.put(block(&s, user("b"), Some(50)), 0);
        let c = s.put(block(&s, user("c"), None), 0);
        assert_eq!(s.len(), 3);
        // full, but b has expired: it goes, not the oldest
        let d = s.put(block(&s, user("d"), None), 60);
        let ids: Vec<_> = s.list(60).iter().map(|x| x.id).collect();
        assert_eq!(ids, vec![a.id, c.id, d.id]);
        assert_eq!(s.evictions(), 0);
        // full of active actions: the oldest (a) goes, and observers hear of it
        let e = s.put(block(&s, user("e"), None), 60);
        let ids: Vec<_> = s.list(60).iter().map(|x| x.id).collect();
        assert_eq!(ids, vec![c.id, d.id, e.id]);
        assert_eq!(s.evictions(), 1);
        assert!(s.lookup_user("a", 60).is_none());
        assert!(seen.lock().contains(&ActionChange::Evicted(a.clone())));
        // replacing an actor's action does not evict
        s.put(block(&s, user("c"), None), 60);
        assert_eq!((s.len(), s.evictions()), (3, 1));
        let _ = b;
    }

    #[test]
    fn ip_lookups_follow_prefixes_across_families() {
        let s = ActionStore::new();
        let net = |t: &str| Actor::Ip(t.parse().unwrap());
        s.put(block(&s, net("192.0.2.0/24"), None), 0);
        s.put(block(&s, net("2001:db8:1::/48"), None), 0);
        s.put(block(&s, net("2001:db8:1:2::/64"), None), 0);
        s.put(block(&s, net("::/0"), Some(10)), 0);
        let ip = |t: &str| t.parse::<IpAddr>().unwrap();
        let found = |t: &str, now| s.lookup_ip(ip(t), now).map(|a| a.actor.to_string());
        assert_eq!(found("192.0.2.200", 0).unwrap(), "ip 192.0.2.0/24");
        assert_eq!(found("::ffff:192.0.2.7", 0).unwrap(), "ip 192.0.2.0/24");
        assert_eq!(found("192.0.3.1", 0), None, "::/0 holds no IPv4");
        assert_eq!(found("2001:db8:1:2::9", 0).unwrap(), "ip 2001:db8:1:2::/64");
        assert_eq!(found("2001:db8:1:3::9", 0).unwrap(), "ip 2001:db8:1::/48");
        assert_eq!(found("2001:db9::1", 5).unwrap(), "ip ::/0");
        assert_eq!(found("2001:db9::1", 10), None);
        // a single address, both families
        s.put(block(&s, net("198.51.100.7/32"), None), 0);
        s.put(block(&s, net("2001:db8:ffff::7/128"), None), 0);
        assert!(found("198.51.100.7", 0).is_some());
        assert!(found("198.51.100.8", 0).is_none());
        assert_eq!(found("2001:db8:ffff::7", 0).unwrap(), "ip 2001:db8:ffff::7");
    }

    /// Random puts, removals and expiries agree with a plain model: every active action is found
    /// where the model has it, the cap holds, and evictions go oldest first.
    #[test]
    fn random_operations_match_a_model() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let cap = 40;
        let s = ActionStore::with_capacity(cap);
        // actor -> (id, until)
        let mut model: std::collections::BTreeMap<String, (u64, Option<Millis>)> =
            Default::default();
        for step in 0..5_000u64 {
            let now = step;
            let n = rng.random_range(0..80);
            let actor = if n % 2 == 0 {
                Actor::User(format!("u{n}"))
            } else {
                Actor::Ip(format!("10.0.{n}.0/24").parse().unwrap())
            };
            let key = actor.to_string();
            match rng.random_range(0..10) {
                0..=6 => {
                    let until = rng.random_bool(0.5).then(|| now + rng.random_range(1..200));
                    let a = s.put(block(&s, actor, until), now);
                    model.retain(|_, (_, u)| u.is_none_or(|u| u > now));
                    if !model.contains_key(&key) && model.len() >= cap {
                        let oldest = model.iter().min_by_key(|(_, (id, _))| *id).unwrap();
                        let oldest = oldest.0.clone();
                        model.remove(&oldest);
                    }
                    model.insert(key, (a.id, until));
                }
                7..=8 => {
                    let removed = s.remove_actor(&actor, now) == 1;
                    let was = model
                        .remove(&key)
                        .is_some_and(|(_, u)| u.is_none_or(|u| u > now));
                    assert!(!was || removed, "step {step}");
                }
                _ => {}
            }
            assert!(s.len() <= cap);
            let listed: Vec<(String, u64)> = s
                .list(now)
                .iter()
                .map(|a| (a.actor.to_string(), a.id))
                .collect();
            let mut expected: Vec<(String, u64)> = model
                .iter()
                .filter(|(_, (_, u))| u.is_none_or(|u| u > now))
                .map(|(k, (id, _))| (k.clone(), *id))
                .collect();
            expected.sort_by_key(|(_, id)| *id);
            assert_eq!(listed, expected, "step {step}");
        }
        assert!(s.evictions() > 0);
    }

    /// A write that panics midway publishes nothing and leaves the store as it was: the
    /// snapshot readers see and the writers' book agree, and the store goes on working.
    #[test]
    fn a_panic_inside_a_write_keeps_the_old_state() {
        let s = ActionStore::with_capacity(3);
        let a = s.put(
            block(&s, Actor::Ip("192.0.2.1/32".parse().unwrap()), Some(500)),
            0,
        );
        s.put(block(&s, Actor::User("u".into()), None), 0);
        let half = block(&s, Actor::Ip("192.0.2.0/24".parse().unwrap()), None);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.write(|w| {
                // the id and expiry books and the maps changed, then the write fails
                w.remove_id(a.id);
                w.insert(Arc::new(half.clone()));
                panic!("injected");
            })
        }));
        assert!(caught.is_err());
        // nothing of the failed write is visible, and the book matches the snapshot again
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(s.lookup_ip(ip, 1).unwrap().id, a.id);
        assert!(s.lookup_ip("192.0.2.9".parse().unwrap(), 1).is_none());
        assert_eq!(s.len(), 2);
        {
            let book = s.book.lock();
            assert_eq!(book.by_id.len(), 2);
            assert_eq!(book.expiring.len(), 1);
            assert_eq!(book.lengths.0[usize::from(V4_LEN + 32)], 1);
            assert_eq!(book.lengths.0[usize::from(V4_LEN + 24)], 0);
        }
        // and it goes on: the cap and eviction work from the restored book
        s.put(block(&s, Actor::User("v".into()), None), 1);
        s.put(block(&s, Actor::User("w".into()), None), 1);
        assert_eq!(s.len(), 3);
        assert_eq!(s.evictions(), 1);
        assert!(s.lookup_ip(ip, 1).is_none(), "the oldest, a, was evicted");
    }
}
