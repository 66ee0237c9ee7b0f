//! [`LocalCounterStore`]: the in-process [`CounterStore`], a fixed number of shards of windows,
//! each shard a hash map from keys to slots of its arena of window words (`arena.rs`), behind a
//! read-write lock, with a fixed share of `max_windows`. It owns
//! the windows' lifetimes: creation, replacement when a spec changes, eviction (expired first,
//! then least recently seen), copies into a new layout when a group changes, and removal by
//! slot. Recording into an existing window takes only the shard's read lock; nothing here reads
//! a clock or does I/O.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::arena::{Arena, Slot};
use super::group::GroupSpec;
use super::hash::UserHasher;
use super::time::{age, Epoch};
use super::types::{ActorId, CounterKey, Record, WindowSpec};
use super::window::Window;
use super::{CounterStore, Regroup};
use crate::fasthash::FoldState;
use crate::Millis;

/// The most shards a store has (large stores have 65 to 128, see [`shard_count`]).
const MAX_SHARDS: usize = 128;

type Map = HashMap<CounterKey, Slot, FoldState>;

/// A shard's windows: where each key's window is in the shard's arena, and their total weight
/// against its share of the bound (a window weighs one per member of its group).
struct Windows {
    map: Map,
    arena: Arena,
    weight: usize,
}

impl Windows {
    /// Whether one more window would make the table grow (or rehash).
    fn table_full(&self) -> bool {
        self.map.len() >= self.map.capacity()
    }

    /// Re-inserts every window into the same table (drained, so its allocation is kept): clears
    /// the tombstones. One pass over the shard, and a temporary vector of its entries.
    fn repack(&mut self) {
        let entries: Vec<(CounterKey, Slot)> = self.map.drain().collect();
        self.map.extend(entries);
    }

    /// The window of `key`, if held.
    #[inline(always)]
    fn get(&self, key: &CounterKey) -> Option<Window<'_>> {
        let slot = *self.map.get(key)?;
        Some(Window::at(self.arena.words(slot)))
    }

    /// A new window for `group` at `tick`, under `key` (which must hold none): its words are a
    /// freed slot of its length if the arena has one; if not, and freed slots (of other
    /// lengths) outweigh the live windows, the arena is rebuilt first.
    fn insert(&mut self, key: CounterKey, group: &GroupSpec, tick: u32) -> Window<'_> {
        let len = group.layout().len();
        if self.arena.wasteful_for(len) {
            self.rebuild();
        }
        let slot = self.arena.alloc(len);
        self.map.insert(key, slot);
        let window = Window::init(self.arena.words(slot), group, tick);
        self.weight += window.weight();
        window
    }

    /// Moves the words of a window (made outside the arena) in under `key`, replacing the
    /// window held there, if any.
    fn insert_copy(&mut self, key: CounterKey, words: &[AtomicU64]) {
        self.remove(&key);
        if self.arena.wasteful_for(words.len()) {
            self.rebuild();
        }
        let slot = self.arena.alloc(words.len());
        for (to, from) in self.arena.words(slot).iter().zip(words) {
            to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.map.insert(key, slot);
        self.weight += Window::at(self.arena.words(slot)).weight();
    }

    fn remove(&mut self, key: &CounterKey) -> bool {
        let Some(slot) = self.map.remove(key) else {
            return false;
        };
        self.weight -= Window::at(self.arena.words(slot)).weight();
        self.arena.free(slot);
        true
    }

    /// Keeps the windows `keep` accepts; returns how many went.
    fn retain(&mut self, mut keep: impl FnMut(&CounterKey, Window<'_>) -> bool) -> usize {
        let (before, mut weight) = (self.map.len(), self.weight);
        let arena = &mut self.arena;
        self.map.retain(|key, slot| {
            let window = Window::at(arena.words(*slot));
            if keep(key, window) {
                return true;
            }
            weight -= window.weight();
            arena.free(*slot);
            false
        });
        self.weight = weight;
        before - self.map.len()
    }

    /// Rebuilds the arena, packed, when freed slots (of lengths no longer asked for) hold more
    /// words than the live windows: so the arena never holds much more than twice their words.
    fn tidy(&mut self) {
        if self.arena.wasteful() {
            self.rebuild();
        }
    }

    /// Rebuilds the arena, packed: O(live words).
    fn rebuild(&mut self) {
        self.arena = self.arena.compact(self.map.values_mut());
    }
}

/// One shard: its windows and its share of the store's bound. Aligned to keep the locks of
/// neighbouring shards off each other's cache lines.
#[repr(align(128))]
struct Shard {
    map: RwLock<Windows>,
    cap: usize,
}

/// The in-process [`CounterStore`]: lock-free windows in a bounded, sharded map.
///
/// It never holds more than `max_windows` windows, a window counting once per member of its
/// group (so the bound is on (member, actor) pairs, as when every playbook had windows of its
/// own): each of its shards (65 to 128 of them for a large store, as many as make each share
/// fill a hash table of its own) holds at most its share, and a new window in a full shard makes
/// room first, as the [module docs](super#memory) describe. Shards are chosen by a randomly
/// seeded hash of the key, so the bound may be reached in one shard while
/// others have room: 1,000,000 new actors in a store of 1,000,000 evict about 6% of them, as the
/// fullest shards make room an eighth at a time.
pub struct LocalCounterStore {
    shards: Box<[Shard]>,
    hasher: FoldState,
    users: UserHasher,
    epoch: Epoch,
    max_windows: usize,
    /// The windows a shard's table holds at its full size (the same for every shard).
    table: usize,
    evictions: AtomicU64,
}

impl LocalCounterStore {
    /// A store holding at most `max_windows` windows (at least 1), whose time starts at `now`
    /// (milliseconds since the Unix epoch, from the agent's clock).
    pub fn new(max_windows: usize, now: Millis) -> Self {
        Self::with_shards(max_windows, MAX_SHARDS, now)
    }

    /// A store with at most `shards` shards (at least 1), as many as [`shard_count`] says.
    pub(super) fn with_shards(max_windows: usize, shards: usize, now: Millis) -> Self {
        let max_windows = max_windows.max(1);
        let n = shard_count(max_windows, shards.max(1));
        let share = max_windows.div_ceil(n);
        let mut buckets = 4;
        while table_capacity(buckets) < share {
            buckets *= 2;
        }
        let hasher = FoldState::random();
        let shards = (0..n)
            .map(|i| Shard {
                map: RwLock::new(Windows {
                    map: HashMap::with_hasher(hasher),
                    arena: Arena::default(),
                    weight: 0,
                }),
                cap: max_windows / n + usize::from(i < max_windows % n),
            })
            .collect();
        LocalCounterStore {
            shards,
            hasher,
            users: UserHasher::new(),
            epoch: Epoch(now),
            max_windows,
            table: table_capacity(buckets),
            evictions: AtomicU64::new(0),
        }
    }

    /// The most windows this store holds.
    pub fn max_windows(&self) -> usize {
        self.max_windows
    }

    fn shard(&self, key: &CounterKey) -> &Shard {
        &self.shards[shard_index(self.hasher.hash_one(key), self.shards.len())]
    }

    /// The slow path: a new window, or a window built for another group, under the write lock.
    #[cold]
    fn insert(
        &self,
        shard: &Shard,
        key: CounterKey,
        group: &GroupSpec,
        tick: u32,
        fired: &mut dyn FnMut(usize, u64),
    ) -> u64 {
        let mut windows = shard.map.write();
        if let Some(window) = windows.get(&key) {
            if let Some(count) = window.record(group, tick, fired) {
                return count; // another thread made it in the meantime
            }
            windows.remove(&key); // built for another group: start afresh
        }
        let weight = (group.layout().fires as usize).max(1);
        self.room(&mut windows, shard.cap, weight, tick);
        let window = windows.insert(key, group, tick);
        window.record(group, tick, fired).unwrap_or(1)
    }

    /// Makes room in a shard of share `cap` for a new window of `weight`, within the share and
    /// within the table: the table never grows past the smallest size that holds the share
    /// (`self.table` windows).
    ///
    /// The map is std's (hashbrown): it holds 7/8 of its (power-of-two) buckets, and a removal
    /// may leave a tombstone that keeps its slot from counting as free. Once tombstones have
    /// eaten the free slots of a table holding half its windows or more (so of that size), an
    /// insert would double it though the shard holds no more than its share:
    /// [`make_room`](Self::make_room) repacks it instead. Below half, the map rehashes in place
    /// or grows towards that size, as it would.
    fn room(&self, windows: &mut Windows, cap: usize, weight: usize, now: u32) {
        let weight = weight.min(cap);
        let table_full = windows.table_full() && windows.map.len() >= self.table / 2;
        if windows.weight + weight > cap || table_full {
            self.make_room(windows, cap, weight, now);
        }
    }

    /// Makes room for a window of `weight` in a full shard: removes its expired windows, then,
    /// if less than an eighth of `cap` (or `weight`, if more) is free, the least recently seen
    /// windows until that much is; then, if tombstones took more than half of that room from the
    /// table, repacks it. One pass over the shard per eighth of it freed (windows of one member
    /// each; a pass frees at least its share in members): amortised O(1) per insert.
    fn make_room(&self, windows: &mut Windows, cap: usize, weight: usize, now: u32) {
        let mut evicted = windows.retain(|_, window| !window.expired(now));
        let keep = cap - (cap / 8).max(weight).max(1).min(cap);
        while windows.weight > keep && !windows.map.is_empty() {
            evicted += evict_least_recent(windows, keep, now);
        }
        self.evictions.fetch_add(evicted as u64, Ordering::Relaxed);
        let free = windows.map.capacity() - windows.map.len();
        if free < (cap - keep).div_ceil(2) {
            windows.repack();
        }
    }

    /// Whether the store holds the window of `key`.
    #[cfg(test)]
    pub(super) fn contains(&self, key: &CounterKey) -> bool {
        self.shard(key).map.read().map.contains_key(key)
    }

    /// Runs `f` on the window of `key`, if held.
    #[cfg(test)]
    pub(super) fn with_window<R>(
        &self,
        key: &CounterKey,
        f: impl FnOnce(&Window<'_>) -> R,
    ) -> Option<R> {
        self.shard(key).map.read().get(key).as_ref().map(f)
    }

    /// Each shard's table capacity: the windows it holds without growing, less its tombstones
    /// (so at most the windows its size holds; more if it grew).
    #[cfg(test)]
    pub(super) fn table_capacities(&self) -> Vec<usize> {
        self.shards
            .iter()
            .map(|s| s.map.read().map.capacity())
            .collect()
    }

    /// Bytes the shards' arenas hold for windows' words, live or freed.
    #[cfg(test)]
    pub(super) fn arena_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.map.read().arena.bytes()).sum()
    }

    /// The tick of `now` in this store.
    #[cfg(test)]
    pub(super) fn tick(&self, now: Millis) -> u32 {
        self.epoch.tick(now)
    }
}

/// The most windows a std (hashbrown) hash table of `buckets` buckets (a power of two, 4 or
/// more: its smallest) holds without growing: 7/8 of them, or all but one below 8.
pub(super) fn table_capacity(buckets: usize) -> usize {
    if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    }
}

/// How many shards a store of `max_windows` has, at most `max_shards`: as many as it takes for
/// each share (`max_windows` split evenly) to fit the smallest table size that leaves at most
/// `max_shards` of them. So a full shard's table is full too (within one window per shard),
/// instead of a power-of-two table half empty: 65 to 128 shards for a large store.
pub(super) fn shard_count(max_windows: usize, max_shards: usize) -> usize {
    let mut buckets = 4usize;
    loop {
        let shards = max_windows.div_ceil(table_capacity(buckets));
        if shards <= max_shards {
            return shards.max(1);
        }
        buckets *= 2;
    }
}

/// The shard of a key whose hash is `hash`, among `shards`: bits 24 to 55 of the hash, scaled
/// to `0..shards` by a multiply and shift (uniform to within 2^-32 for any shard count). The map
/// uses the low bits (bucket) and the top 7 (control byte) itself, so keys in one shard still
/// spread over its buckets and control bytes.
pub(super) fn shard_index(hash: u64, shards: usize) -> usize {
    let bits = u64::from((hash >> 24) as u32);
    ((bits * shards as u64) >> 32) as usize
}

/// Removes the windows seen longest ago until the shard weighs at most `keep` (or is empty), in
/// one selection pass and one removal pass: as many windows as the excess weight needs if each
/// weighs what the heaviest does (exactly the excess when every window has one member; the
/// caller loops while heavier windows leave some excess). Returns how many went.
fn evict_least_recent(windows: &mut Windows, keep: usize, now: u32) -> usize {
    let excess = windows.weight.saturating_sub(keep);
    let mut heaviest = 1;
    let mut ages: Vec<u32> = windows
        .map
        .values()
        .map(|&slot| {
            let w = Window::at(windows.arena.words(slot));
            heaviest = heaviest.max(w.weight());
            age(now, w.last_seen())
        })
        .collect();
    let k = excess.div_ceil(heaviest).clamp(1, ages.len());
    let (older, &mut cutoff, _) = ages.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
    let strictly_older = older.iter().filter(|&&a| a > cutoff).count();
    let mut at_cutoff = k - strictly_older; // how many of the windows aged exactly `cutoff` go
    windows.retain(|_, window| {
        let a = age(now, window.last_seen());
        if a > cutoff {
            false
        } else if a == cutoff && at_cutoff > 0 {
            at_cutoff -= 1;
            false
        } else {
            true
        }
    })
}

impl CounterStore for LocalCounterStore {
    fn user_id(&self, canonical_user_id: &str) -> ActorId {
        self.users.id(canonical_user_id)
    }

    fn record(&self, key: CounterKey, spec: &WindowSpec, now: Millis) -> Record {
        let mut fired = false;
        let count = self.record_group(key, &GroupSpec::single(spec), now, &mut |_, _| {
            fired = true;
        });
        Record { count, fired }
    }

    fn record_group(
        &self,
        key: CounterKey,
        group: &GroupSpec,
        now: Millis,
        fired: &mut dyn FnMut(usize, u64),
    ) -> u64 {
        let tick = self.epoch.tick(now);
        let shard = self.shard(&key);
        if let Some(count) = shard
            .map
            .read()
            .get(&key)
            .and_then(|w| w.record(group, tick, fired))
        {
            return count;
        }
        self.insert(shard, key, group, tick, fired)
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.map.read().map.len()).sum()
    }

    fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    fn regroup(&self, moves: &[Regroup<'_>], keep: &dyn Fn(u32) -> bool, now: Millis) {
        let tick = self.epoch.tick(now);
        // For each move, the fire word each member of the new group continues (by position).
        let plans: Vec<(&Regroup<'_>, Vec<Option<usize>>)> = moves
            .iter()
            .map(|m| {
                let continues = (0..m.new.len())
                    .map(|k| {
                        let index = m.new.members()[k].index as usize;
                        let old = m.continues.get(index).copied().flatten()?;
                        m.old.position(old)
                    })
                    .collect();
                (m, continues)
            })
            .collect();
        // Out of their shards first (a window's new key may hash to another shard), then in.
        let mut copies = Vec::new();
        for shard in self.shards.iter() {
            let mut windows = shard.map.write();
            if !plans.is_empty() {
                let moving: Vec<CounterKey> = windows
                    .map
                    .keys()
                    .filter(|k| plans.iter().any(|(m, _)| m.from == k.slot))
                    .copied()
                    .collect();
                for key in moving {
                    let plan = plans.iter().find(|(m, _)| m.from == key.slot);
                    if let (Some(window), Some((m, continues))) = (windows.get(&key), plan) {
                        if let Some(copy) = window.regrouped(m.old, m.new, continues) {
                            copies.push((CounterKey { slot: m.to, ..key }, copy));
                        }
                    }
                    windows.remove(&key);
                }
            }
            windows.retain(|key, _| keep(key.slot));
            windows.tidy();
        }
        for (key, copy) in copies {
            let shard = self.shard(&key);
            let mut windows = shard.map.write();
            self.room(&mut windows, shard.cap, Window::at(&copy).weight(), tick);
            windows.insert_copy(key, &copy);
        }
    }
}

impl fmt::Debug for LocalCounterStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCounterStore")
            .field("windows", &self.len())
            .field("max_windows", &self.max_windows)
            .field("shards", &self.shards.len())
            .field("evictions", &self.evictions())
            .finish()
    }
}
