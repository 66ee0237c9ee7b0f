//! [`LocalCounterStore`]: the in-process [`CounterStore`], a fixed number of shards of windows,
//! each shard a hash map behind a read-write lock with a fixed share of `max_windows`. It owns
//! the windows' lifetimes: creation, replacement when a spec changes, eviction (expired first,
//! then least recently seen) and removal by slot. Recording into an existing window takes only
//! the shard's read lock; nothing here reads a clock or does I/O.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::hash::UserHasher;
use super::time::{age, Epoch, Params};
use super::types::{ActorId, CounterKey, Record, WindowSpec};
use super::window::Window;
use super::CounterStore;
use crate::fasthash::FoldState;
use crate::Millis;

/// Shards of a store with at least this many windows.
const MAX_SHARDS: usize = 64;

type Map = HashMap<CounterKey, Window, FoldState>;

/// One shard: its windows and its share of the store's bound. Aligned to keep the locks of
/// neighbouring shards off each other's cache lines.
#[repr(align(128))]
struct Shard {
    map: RwLock<Map>,
    cap: usize,
}

/// The in-process [`CounterStore`]: lock-free windows in a bounded, sharded map.
///
/// It never holds more than `max_windows` windows: each of its shards (64, or the largest power
/// of two not above `max_windows` when that is smaller) holds at most its share, and a new window
/// in a full shard makes room first, as the [module docs](super#memory) describe. Shards are
/// chosen by a randomly seeded hash of the key, so the bound may be reached in one shard while
/// others have room: 1,000,000 new actors in a store of 1,000,000 evict about 6% of them, as the
/// fullest shards make room an eighth at a time.
pub struct LocalCounterStore {
    shards: Box<[Shard]>,
    hasher: FoldState,
    users: UserHasher,
    epoch: Epoch,
    max_windows: usize,
    evictions: AtomicU64,
}

impl LocalCounterStore {
    /// A store holding at most `max_windows` windows (at least 1), whose time starts at `now`
    /// (milliseconds since the Unix epoch, from the agent's clock).
    pub fn new(max_windows: usize, now: Millis) -> Self {
        Self::with_shards(max_windows, MAX_SHARDS, now)
    }

    /// A store with at most `shards` shards (rounded down to a power of two, at least 1).
    pub(super) fn with_shards(max_windows: usize, shards: usize, now: Millis) -> Self {
        let max_windows = max_windows.max(1);
        let wanted = shards.min(max_windows).max(1);
        let n = 1usize << (usize::BITS - 1 - wanted.leading_zeros()); // largest power of two <= wanted
        let hasher = FoldState::random();
        let shards = (0..n)
            .map(|i| Shard {
                map: RwLock::new(HashMap::with_hasher(hasher)),
                cap: max_windows / n + usize::from(i < max_windows % n),
            })
            .collect();
        LocalCounterStore {
            shards,
            hasher,
            users: UserHasher::new(),
            epoch: Epoch(now),
            max_windows,
            evictions: AtomicU64::new(0),
        }
    }

    /// The most windows this store holds.
    pub fn max_windows(&self) -> usize {
        self.max_windows
    }

    fn shard(&self, key: &CounterKey) -> &Shard {
        let hash = self.hasher.hash_one(key);
        // Bits 32 and up: the map itself uses the low bits (bucket) and the top 7 (control byte).
        &self.shards[(hash >> 32) as usize & (self.shards.len() - 1)]
    }

    /// The slow path: a new window, or a window built for another spec, under the write lock.
    #[cold]
    fn insert(&self, shard: &Shard, key: CounterKey, p: &Params, tick: u32) -> Record {
        let mut map = shard.map.write();
        if let Some(window) = map.get(&key) {
            if let Some(record) = window.record(p, tick) {
                return record; // another thread made it in the meantime
            }
            map.remove(&key); // built for another spec: start afresh
        } else if map.len() >= shard.cap {
            self.make_room(&mut map, shard.cap, tick);
        }
        let window = Window::new(p, tick);
        let record = window.record(p, tick).unwrap_or(Record {
            count: 1,
            fired: false,
        });
        map.insert(key, window);
        record
    }

    /// Makes room in a full shard: removes its expired windows, then, if less than an eighth of
    /// `cap` is free, the least recently seen windows until an eighth is. One pass over the
    /// shard per eighth of it freed: amortised O(1) per insert.
    fn make_room(&self, map: &mut Map, cap: usize, now: u32) {
        let before = map.len();
        map.retain(|_, window| !window.expired(now));
        let keep = cap - (cap / 8).max(1);
        if map.len() > keep {
            evict_least_recent(map, map.len() - keep, now);
        }
        let evicted = before - map.len();
        self.evictions.fetch_add(evicted as u64, Ordering::Relaxed);
    }

    /// Whether the store holds the window of `key`.
    #[cfg(test)]
    pub(super) fn contains(&self, key: &CounterKey) -> bool {
        self.shard(key).map.read().contains_key(key)
    }

    /// Runs `f` on the window of `key`, if held.
    #[cfg(test)]
    pub(super) fn with_window<R>(
        &self,
        key: &CounterKey,
        f: impl FnOnce(&Window) -> R,
    ) -> Option<R> {
        self.shard(key).map.read().get(key).map(f)
    }

    /// The tick of `now` in this store.
    #[cfg(test)]
    pub(super) fn tick(&self, now: Millis) -> u32 {
        self.epoch.tick(now)
    }
}

/// Removes the `k` (at least 1, at most `map.len()`) windows seen longest ago, in one
/// selection pass and one removal pass.
fn evict_least_recent(map: &mut Map, k: usize, now: u32) {
    let mut ages: Vec<u32> = map.values().map(|w| age(now, w.last_seen())).collect();
    let (older, &mut cutoff, _) = ages.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
    let strictly_older = older.iter().filter(|&&a| a > cutoff).count();
    let mut at_cutoff = k - strictly_older; // how many of the windows aged exactly `cutoff` go
    map.retain(|_, window| {
        let a = age(now, window.last_seen());
        if a > cutoff {
            false
        } else if a == cutoff && at_cutoff > 0 {
            at_cutoff -= 1;
            false
        } else {
            true
        }
    });
}

impl CounterStore for LocalCounterStore {
    fn user_id(&self, canonical_user_id: &str) -> ActorId {
        self.users.id(canonical_user_id)
    }

    fn record(&self, key: CounterKey, spec: &WindowSpec, now: Millis) -> Record {
        let p = Params::new(spec);
        let tick = self.epoch.tick(now);
        let shard = self.shard(&key);
        if let Some(record) = shard.map.read().get(&key).and_then(|w| w.record(&p, tick)) {
            return record;
        }
        self.insert(shard, key, &p, tick)
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.map.read().len()).sum()
    }

    fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    fn retain_slots(&self, keep: &dyn Fn(u32) -> bool) {
        for shard in self.shards.iter() {
            shard.map.write().retain(|key, _| keep(key.slot));
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
