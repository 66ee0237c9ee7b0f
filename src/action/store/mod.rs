//! [`ActionStore`]: the actions decided at run time, looked up on every request.
//!
//! Lookups read the actions by actor from [`Shards`]: a fixed array of small immutable shards,
//! each behind its own `arc-swap` pointer (wait-free: a reader never waits on a writer). A write
//! copies the few shards it changes (a handful of entries each) and swaps them in, so adding an
//! action with 100,000 in force copies a few entries, not the store nor a path of tree nodes.
//! Writers take turns on a lock of their own, which also guards the order actions are dropped in
//! (by id, by expiry); a lookup never takes it. A lookup costs one shard load and scan per IP
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

mod shards;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::model::{Action, Actor};
use crate::clock::Millis;
use shards::{Key, NetKey, Shards, Staged, V4_LEN};

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

/// A bit per prefix length present (index = [`NetKey::len`]), so a lookup probes only the
/// lengths in use.
#[derive(Clone, Copy, Default, PartialEq)]
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

/// What only writers need, under the writers' lock: the order actions are dropped in, and the
/// counts published beside the shards.
#[derive(Default)]
struct Book {
    /// Every stored action by id: the oldest first.
    by_id: BTreeMap<u64, Arc<Action>>,
    /// `(until, id)` of every stored action that expires: the soonest first.
    expiring: BTreeSet<(Millis, u64)>,
    /// How many stored networks have each prefix length (index = [`NetKey::len`]).
    lengths: Lengths,
    /// The lengths with a count above zero.
    present: Present,
    /// How many stored actions are on users.
    users: usize,
}

/// Networks stored per prefix length.
struct Lengths([u32; 162]);

impl Default for Lengths {
    fn default() -> Self {
        Lengths([0; 162])
    }
}

impl Book {
    /// The book of what `shards` hold (after a write that did not finish).
    fn of(shards: &Shards) -> Book {
        let mut book = Book::default();
        shards.for_each(|key, action| {
            book.counted(key, 1);
            book.add(action);
        });
        book
    }

    fn add(&mut self, action: &Arc<Action>) {
        self.by_id.insert(action.id, action.clone());
        if let Some(until) = action.until {
            self.expiring.insert((until, action.id));
        }
    }

    /// Counts an action on `key` in (`+1`) or out (`-1`).
    fn counted(&mut self, key: Key<'_>, delta: i32) {
        match key {
            Key::Net(net) => {
                let count = &mut self.lengths.0[usize::from(net.len)];
                *count = count.saturating_add_signed(delta);
                self.present.set(net.len, *count > 0);
            }
            Key::User(_) => self.users = self.users.saturating_add_signed(delta as isize),
        }
    }
}

/// A write in progress: the shards it changed and the book.
struct Write<'s, 'b> {
    staged: Staged<'s>,
    book: &'b mut Book,
}

impl Write<'_, '_> {
    fn len(&self) -> usize {
        self.book.by_id.len()
    }

    /// Adds `action`, replacing the action on the same actor; returns the replaced action.
    fn insert(&mut self, action: Arc<Action>) -> Option<Arc<Action>> {
        let key = Key::of(&action.actor);
        let old = self.staged.insert(key, action.clone());
        match &old {
            Some(old) => self.forget(old),
            None => self.book.counted(key, 1),
        }
        self.book.add(&action);
        old
    }

    /// Drops `action` from the id and expiry indexes (not from the shards).
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
        let key = Key::of(actor);
        let removed = self.staged.remove(key)?;
        self.book.counted(key, -1);
        self.forget(&removed);
        Some(removed)
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

    /// Drops the expired actions, then adds `action` (replacing the one on its actor), first
    /// evicting the oldest actions while a new actor would take the store over `cap`. Returns
    /// the actions evicted (expired ones not included).
    fn put(&mut self, action: Arc<Action>, cap: usize, now: Millis) -> Vec<Arc<Action>> {
        self.drop_expired(now);
        let mut evicted = Vec::new();
        if !self.staged.contains(Key::of(&action.actor)) {
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
    /// The actions by actor, as lookups see them.
    shards: Shards,
    /// The prefix lengths present (three words of [`Present`]), published beside the shards.
    lengths: [AtomicU64; 3],
    /// Actions stored, and how many of them are on users, published beside the shards.
    stored: AtomicUsize,
    users: AtomicUsize,
    /// Odd while a write publishes: a listing that saw it change reads again.
    version: AtomicU64,
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
        let users = self.users.load(Ordering::Relaxed);
        f.debug_struct("ActionStore")
            .field("ips", &self.len().saturating_sub(users))
            .field("users", &users)
            .field("cap", &self.cap)
            .finish()
    }
}

/// How many times [`ActionStore::list`] reads the shards while writes keep changing them before
/// it takes the writers' lock.
const LIST_TRIES: usize = 3;

impl ActionStore {
    /// An empty store of at most [`DEFAULT_MAX_ACTIONS`] actions.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store of at most `cap` actions (at least one).
    pub fn with_capacity(cap: usize) -> Self {
        let cap = cap.max(1);
        ActionStore {
            shards: Shards::for_capacity(cap),
            lengths: Default::default(),
            stored: AtomicUsize::new(0),
            users: AtomicUsize::new(0),
            version: AtomicU64::new(0),
            book: Mutex::new(Book::default()),
            cap,
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
        self.stored.load(Ordering::Acquire)
    }

    /// Actions evicted to make room (the store was full of unexpired actions).
    pub fn evictions(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn present(&self) -> Present {
        Present(self.lengths.each_ref().map(|w| w.load(Ordering::Acquire)))
    }

    /// The active action on the most specific network containing `ip`, if any.
    pub fn lookup_ip(&self, ip: IpAddr, now: Millis) -> Option<Arc<Action>> {
        let present = self.present();
        if present == Present::default() {
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
        for len in present.longest_first(lo, hi) {
            let prefix = u32::from(len - lo);
            let mask = match prefix {
                0 => 0,
                p => (u128::MAX >> (128 - width)) & !((1u128 << (width - p)) - 1),
            };
            let key = Key::Net(NetKey {
                bits: bits & mask,
                len,
            });
            if let Some(action) = self.shards.get(key, |a| a.is_active(now)) {
                return Some(action);
            }
        }
        None
    }

    /// The active action on the user with canonical id or key value `id`, if any.
    pub fn lookup_user(&self, id: &str, now: Millis) -> Option<Arc<Action>> {
        self.shards.get(Key::User(id), |a| a.is_active(now))
    }

    /// The action on exactly this actor (not on a wider or narrower network), expired or not.
    pub fn get_actor(&self, actor: &Actor) -> Option<Arc<Action>> {
        self.shards.get(Key::of(actor), |_| true)
    }

    /// True when no action at all is stored (lets the caller skip reading the clock).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when no user action is stored (lets the caller skip building candidate ids).
    pub fn has_user_actions(&self) -> bool {
        self.users.load(Ordering::Acquire) > 0
    }

    /// Adds `action`, replacing any action on the same actor; returns it as stored. When the
    /// store is full, expired actions are dropped first, then the oldest (each reported to the
    /// observers as evicted, and counted in [`evictions`](Self::evictions)).
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

    /// The actions active at `now`, ordered by id: the store as it was between two writes.
    ///
    /// Read from the shards without a lock; when writes keep publishing meanwhile
    /// (three times in a row), read from the writers' book under their lock.
    pub fn list(&self, now: Millis) -> Vec<Arc<Action>> {
        for _ in 0..LIST_TRIES {
            let before = self.version.load(Ordering::Acquire);
            if before % 2 == 0 {
                let mut all = Vec::with_capacity(self.len());
                self.shards.for_each(|_, action| {
                    if action.is_active(now) {
                        all.push(action.clone());
                    }
                });
                if self.version.load(Ordering::Acquire) == before {
                    all.sort_unstable_by_key(|a| a.id);
                    return all;
                }
            }
            std::thread::yield_now();
        }
        let book = self.book.lock();
        book.by_id
            .values()
            .filter(|a| a.is_active(now))
            .cloned()
            .collect()
    }

    /// Applies `change` to private copies of the shards it touches and publishes them. Writers
    /// take turns; lookups never wait for them.
    ///
    /// A panic inside `change` publishes nothing: readers keep the old shards, and the book,
    /// which `change` may have left half changed, is rebuilt from them before the lock is
    /// released.
    fn write<R>(&self, change: impl FnOnce(&mut Write<'_, '_>) -> R) -> R {
        let mut book = self.book.lock();
        let mut write = Write {
            staged: Staged::new(&self.shards),
            book: &mut book,
        };
        let changed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| change(&mut write)));
        let staged = write.staged;
        match changed {
            Ok(result) => {
                self.publish(staged, &book);
                result
            }
            Err(panic) => {
                drop(staged);
                *book = Book::of(&self.shards);
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Makes a write's shards visible with the counts of `book`. Lengths and counts are widened
    /// before the shards are swapped and narrowed after, so a lookup meanwhile may probe a
    /// length for nothing but never skips one that holds an action.
    fn publish(&self, staged: Staged<'_>, book: &Book) {
        if staged.is_empty() {
            return;
        }
        self.version.fetch_add(1, Ordering::AcqRel);
        for (word, &now) in self.lengths.iter().zip(&book.present.0) {
            word.fetch_or(now, Ordering::AcqRel);
        }
        self.stored.fetch_max(book.by_id.len(), Ordering::AcqRel);
        self.users.fetch_max(book.users, Ordering::AcqRel);
        staged.publish();
        for (word, &now) in self.lengths.iter().zip(&book.present.0) {
            word.store(now, Ordering::Release);
        }
        self.stored.store(book.by_id.len(), Ordering::Release);
        self.users.store(book.users, Ordering::Release);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    fn notify(&self, change: &ActionChange) {
        let observers = self.observers.load();
        for observer in observers.iter() {
            observer(change);
        }
    }
}

#[cfg(test)]
mod tests;
