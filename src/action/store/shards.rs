//! [`Shards`]: the stored actions by actor, as lookups see them, and [`Staged`], a write's
//! changes to them before they are published.
//!
//! The actions are spread by a keyed hash of their actor over a fixed array of shards, about
//! one per four actions the store may hold. Each shard is a small immutable list (a few 16-byte
//! entries, inline) behind its own `arc-swap` pointer: a lookup loads one shard (wait-free: it never
//! waits on a writer) and scans it; a write copies only the shards it changes and swaps each in
//! whole, so adding an action with 100,000 in force copies a few entries, whatever the number
//! of actions. A write's copies stay private ([`Staged`]) until [`Staged::publish`]: one that
//! fails midway publishes nothing.
//!
//! The hash is keyed per store ([`FoldState`]), so actors an attacker chooses (the addresses and
//! user ids playbooks block) cannot be aimed at one shard.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use ipnet::IpNet;
use smallvec::SmallVec;

use crate::action::model::{Action, Actor};
use crate::fasthash::FoldState;
use crate::ip::prefix_map::normalize_net;

/// Where IPv4 lengths start in [`NetKey::len`].
pub(super) const V4_LEN: u8 = 129;

/// A normalised network as a key: its address bits (IPv4 in the low 32) and a length that also
/// tells the family (`0..=128` IPv6, `V4_LEN + 0..=32` IPv4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct NetKey {
    pub(super) bits: u128,
    pub(super) len: u8,
}

impl NetKey {
    pub(super) fn of(net: IpNet) -> NetKey {
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

/// What an action is stored under: a network, or a user by canonical id.
#[derive(Clone, Copy, Debug)]
pub(super) enum Key<'a> {
    Net(NetKey),
    User(&'a str),
}

impl Key<'_> {
    pub(super) fn of(actor: &Actor) -> Key<'_> {
        match actor {
            Actor::Ip(net) => Key::Net(NetKey::of(*net)),
            Actor::User(id) => Key::User(id),
        }
    }
}

impl Key<'_> {
    /// True when `actor` is stored under this key.
    fn holds(self, actor: &Actor) -> bool {
        match (self, actor) {
            (Key::Net(key), Actor::Ip(net)) => NetKey::of(*net) == key,
            (Key::User(id), Actor::User(user)) => user == id,
            _ => false,
        }
    }
}

/// One stored action and its key's hash: 16 bytes, so a shard is a cache line or two.
#[derive(Clone)]
struct Entry {
    hash: u64,
    action: Arc<Action>,
}

impl Entry {
    fn is(&self, key: Key<'_>, hash: u64) -> bool {
        self.hash == hash && key.holds(&self.action.actor)
    }
}

/// Entries kept inline in a shard (more go to the heap).
const INLINE: usize = 6;

/// A shard's entries, in no order.
type Entries = SmallVec<[Entry; INLINE]>;

/// A shard as published: never changed once readers may see it.
struct Shard {
    entries: Entries,
}

/// The published shards.
pub(super) struct Shards {
    slots: Box<[ArcSwapOption<Shard>]>,
    /// `slots.len() - 1` (a power of two minus one).
    mask: usize,
    hasher: FoldState,
}

/// Stored actions per shard, on average, when the store is full.
const PER_SHARD: usize = 4;

/// The most shards (8 bytes each when empty): past this, shards hold more than [`PER_SHARD`].
const MAX_SHARDS: usize = 1 << 17;

impl Shards {
    /// Empty shards for a store of at most `cap` actions.
    pub(super) fn for_capacity(cap: usize) -> Shards {
        let count = (cap / PER_SHARD).next_power_of_two().min(MAX_SHARDS);
        Shards {
            slots: (0..count).map(|_| ArcSwapOption::empty()).collect(),
            mask: count - 1,
            hasher: FoldState::random(),
        }
    }

    /// How many shards there are.
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.slots.len()
    }

    fn hash(&self, key: Key<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        match key {
            Key::Net(net) => {
                h.write_u128(net.bits);
                h.write_u64(u64::from(net.len));
            }
            Key::User(id) => {
                h.write(id.as_bytes());
                // no network has this length
                h.write_u64(u64::from(u8::MAX) | (id.len() as u64) << 8);
            }
        }
        h.finish()
    }

    fn slot(&self, hash: u64) -> usize {
        (hash >> 32) as usize & self.mask
    }

    /// The action stored under `key` if `keep` accepts it.
    pub(super) fn get(&self, key: Key<'_>, keep: impl Fn(&Action) -> bool) -> Option<Arc<Action>> {
        let hash = self.hash(key);
        let shard = self.slots[self.slot(hash)].load();
        shard
            .as_ref()?
            .entries
            .iter()
            .find(|e| e.is(key, hash))
            .filter(|e| keep(&e.action))
            .map(|e| e.action.clone())
    }

    /// Calls `each` with the key and action of every stored entry, shard by shard: a write
    /// that runs meanwhile may be seen in some shards and not in others.
    pub(super) fn for_each(&self, mut each: impl FnMut(Key<'_>, &Arc<Action>)) {
        for slot in self.slots.iter() {
            if let Some(shard) = slot.load().as_ref() {
                for entry in &shard.entries {
                    each(Key::of(&entry.action.actor), &entry.action);
                }
            }
        }
    }
}

/// A write's changes: a private copy of every shard it changed, by slot.
pub(super) struct Staged<'a> {
    shards: &'a Shards,
    copies: BTreeMap<usize, Entries>,
}

impl<'a> Staged<'a> {
    pub(super) fn new(shards: &'a Shards) -> Self {
        Staged {
            shards,
            copies: BTreeMap::new(),
        }
    }

    /// True when this key holds an action (as changed so far).
    pub(super) fn contains(&self, key: Key<'_>) -> bool {
        let hash = self.shards.hash(key);
        self.holds(self.shards.slot(hash), key, hash)
    }

    fn holds(&self, slot: usize, key: Key<'_>, hash: u64) -> bool {
        match self.copies.get(&slot) {
            Some(copy) => copy.iter().any(|e| e.is(key, hash)),
            None => self.shards.slots[slot]
                .load()
                .as_ref()
                .is_some_and(|shard| shard.entries.iter().any(|e| e.is(key, hash))),
        }
    }

    /// The private copy of this slot's shard, made on first use.
    fn copy(&mut self, slot: usize) -> &mut Entries {
        let shards = self.shards;
        self.copies.entry(slot).or_insert_with(|| {
            shards.slots[slot]
                .load()
                .as_ref()
                .map_or_else(Entries::new, |shard| shard.entries.clone())
        })
    }

    /// Stores `action` under `key`; returns the action it replaces.
    pub(super) fn insert(&mut self, key: Key<'_>, action: Arc<Action>) -> Option<Arc<Action>> {
        let hash = self.shards.hash(key);
        let copy = self.copy(self.shards.slot(hash));
        match copy.iter_mut().find(|e| e.is(key, hash)) {
            Some(entry) => Some(std::mem::replace(&mut entry.action, action)),
            None => {
                copy.push(Entry { hash, action });
                None
            }
        }
    }

    /// Removes the action stored under `key`; returns it. Copies no shard when there is none.
    pub(super) fn remove(&mut self, key: Key<'_>) -> Option<Arc<Action>> {
        let hash = self.shards.hash(key);
        let slot = self.shards.slot(hash);
        if !self.holds(slot, key, hash) {
            return None;
        }
        let copy = self.copy(slot);
        let at = copy.iter().position(|e| e.is(key, hash))?;
        Some(copy.swap_remove(at).action)
    }

    /// True when nothing was changed.
    pub(super) fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }

    /// Makes the changes visible to lookups, shard by shard.
    pub(super) fn publish(self) {
        for (slot, entries) in self.copies {
            let shard = (!entries.is_empty()).then(|| Arc::new(Shard { entries }));
            self.shards.slots[slot].store(shard);
        }
    }
}

#[cfg(test)]
impl Shards {
    /// Where the shard in `slot` lives (0 when empty): which shards a write replaced.
    pub(super) fn address(&self, slot: usize) -> usize {
        self.slots[slot]
            .load()
            .as_ref()
            .map_or(0, |shard| Arc::as_ptr(shard) as usize)
    }
}
