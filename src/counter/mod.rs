//! Event windows: "did this actor do EVENT N or more times within PERIOD?", answered without a
//! lock on the hot path, in bounded memory.
//!
//! This module owns the per-(slot, actor) windows, each shared by the members of a group (the
//! playbooks that count the same events by the same kind of actor over the same period), the
//! [`CounterStore`] interface the playbook engine counts through, and its in-process
//! implementation, [`LocalCounterStore`]: a fixed number of shards, each a hash map of windows
//! behind a read-write lock. It never reads the system clock (every call carries `now`, from the
//! agent's [`Clock`](crate::Clock)), never holds more than `max_windows` windows, and never
//! panics on any input. It does not know what an event or a playbook is: a slot number, a
//! period, and per member a threshold and a quiet time are all it sees.
//!
//! ```
//! use std::time::Duration;
//! use sqreen::counter::{ActorId, CounterKey, CounterStore, LocalCounterStore, Quiet, WindowSpec};
//!
//! let store = LocalCounterStore::new(1_000, 0);
//! let spec = WindowSpec {
//!     threshold: 3,
//!     period: Duration::from_secs(60),
//!     quiet: Quiet::Forever,
//! };
//! let key = CounterKey { slot: 0, actor: ActorId::ip("192.0.2.7".parse().unwrap()) };
//! assert!(!store.record(key, &spec, 1_000).fired);
//! assert!(!store.record(key, &spec, 2_000).fired);
//! let third = store.record(key, &spec, 3_000);
//! assert!(third.fired);                                // 3 events within 60 s: fires once
//! assert_eq!(third.count, 3);
//! assert!(!store.record(key, &spec, 4_000).fired);     // and stays quiet: Quiet::Forever
//! ```
//!
//! Members of a group share one window per actor, and each fires at its own threshold:
//!
//! ```
//! use std::time::Duration;
//! use sqreen::counter::{
//!     ActorId, CounterKey, CounterStore, GroupSpec, LocalCounterStore, MemberSpec, Quiet,
//! };
//!
//! let store = LocalCounterStore::new(1_000, 0);
//! let group = GroupSpec::new(
//!     Duration::from_secs(60),
//!     &[
//!         MemberSpec { threshold: 3, quiet: Quiet::Forever },
//!         MemberSpec { threshold: 2, quiet: Quiet::None },
//!     ],
//! );
//! let key = CounterKey { slot: 0, actor: ActorId::ip("192.0.2.7".parse().unwrap()) };
//! let mut fired = Vec::new();
//! for now in [1_000, 2_000, 3_000, 4_000] {
//!     store.record_group(key, &group, now, &mut |member, _count| fired.push((now, member)));
//! }
//! assert_eq!(fired, [(2_000, 1), (3_000, 0), (4_000, 1)]);
//! assert_eq!(store.len(), 1);                          // one window for both members
//! ```
//!
//! # Time
//!
//! `now` is milliseconds since the Unix epoch. A store keeps time in `u32` **ticks of 100 ms**
//! counted from its epoch (the `now` given to [`LocalCounterStore::new`]), plus one, so that tick
//! 0 can mean "empty". Resolution is therefore 100 ms: two events count as `d` ticks apart when
//! their times differ by `d` tick boundaries. Periods and quiet times are rounded **up** to whole
//! ticks (a zero period is one tick: events of the same 100 ms step), and capped at 2^30 ticks
//! (about 3.4 years; a longer quiet time means forever). Ticks wrap after 2^32 ticks, about
//! 13.6 years of uptime; differences are taken modulo 2^32, so only windows idle across the wrap
//! could be misjudged. A `now` earlier than the store's epoch is tick 1; an event stamped later
//! than the `now` of a check (another thread's clock read, or a clock that went backwards)
//! counts as happening at that `now`.
//!
//! # Windows and firing
//!
//! A playbook trigger is "EVENT happens N (the threshold) or more times within PERIOD by the same
//! ACTOR". There is one window per [`CounterKey`] (slot, actor). Each
//! [`record`](CounterStore::record) adds one event at `now` and says, in [`Record::fired`],
//! whether this event made the window **fire**; a window shared by a group says it for each
//! member ([`record_group`](CounterStore::record_group), see [Shared
//! windows](#shared-windows)). A window fires when, at once:
//!
//! 1. it is **over threshold**: N events happened within the period before `now` (below);
//! 2. every one of those N events was **recorded after the window's last firing** (by record
//!    order, not by time: a burst of 2N events in the same 100 ms step with `Quiet::None` fires
//!    twice, once per N fresh events);
//! 3. the **quiet time** chosen by the caller for this record ([`Quiet`]) has passed since the
//!    last firing: [`Quiet::None`] fires again after N fresh events, [`Quiet::For`] not before
//!    that time has passed (e.g. while the block the playbook applied lasts), [`Quiet::Forever`]
//!    never again (a permanent action). The quiet time is read from each record's spec, so a
//!    changed spec applies to past firings too.
//!
//! Firing is decided by a compare-and-swap on the window's fire word (the last firing's tick and
//! position), so under any concurrency exactly one caller gets `fired == true` for a burst.
//!
//! Every window also keeps `count`, the exact total of events recorded in it (a `fetch_add`),
//! returned as [`Record::count`], and when it last saw an event, for eviction.
//!
//! ## Thresholds 1 to 64: exact, a ring of the last N times
//!
//! The window holds N tick slots. Each record takes its position `i = count.fetch_add(1)`,
//! stores its tick in `slots[i % N]`, and the N-th most recent event is then the one in
//! `slots[(i + 1) % N]` (once `i + 1 >= N`). The window is over threshold when
//! `now_tick - that_tick < period_ticks`. Single-threaded this is exact: the N most recent
//! records, in record order, and the oldest of them within the period. (When the clock goes
//! backwards, "most recent" still means record order; see [Time](#time).)
//!
//! Concurrent records can interleave between "take a position" and "store the tick". A check
//! therefore (a) looks at the window ending at the **latest** position taken when it starts
//! (which may be another caller's), (b) reads the N-th most recent slot, then (c) re-reads the
//! count and only believes the slot if no position was taken in between. A slot is only ever
//! overwritten by a record with a *later* position, and that record takes its position before it
//! stores (sequentially consistent operations), so a believed read can never be a newer tick than
//! the true N-th most recent event's: **a firing is never early**, and the N events it counts
//! really happened within the period (taking, as the ring always does, events recorded later as
//! no older than that one: threads whose clock reads race by less than a tick make no
//! difference at 100 ms resolution; a clock stepped backwards is the caller's). What concurrency can do is make a firing *late*: a check
//! that cannot believe its read declines, and a record whose writer was preempted between taking
//! its position and storing its tick leaves an older tick in its slot for a moment (an older tick
//! only makes the check stricter while time moves forward). Because every record checks the
//! window ending at the latest position after storing its own tick, the last record of a burst to
//! finish sees the whole burst; the remaining gap (a preempted writer whose older tick lands after
//! a newer one in the same slot) defers the firing to the next record. Measured: 4 threads making
//! 100,000 records on one key with threshold 100 and `Quiet::None` at a fixed time get 998 or
//! 999 firings (each late burst pushes the following ones back), exactly 1,000 single-threaded,
//! never more.
//!
//! ## Thresholds above 64: 32 time buckets, exact to within one bucket
//!
//! The period (P ticks) is cut into buckets of `w = ceil(P / 32)` ticks (at least one); the
//! window holds 32 atomic words, each a (bucket epoch `tick / w`, count) pair updated by
//! compare-and-swap (a word holding an older epoch is restarted at 1). The count within the
//! period is the sum of the `k = ceil(P / w) <= 32` most recent epochs' counts. That covers the
//! events of the last `(k - 1) * w + (now_tick % w) + 1` ticks: never fewer than those of the
//! last `P - w` ticks, and none `P + w` ticks old or older. So the window never fires unless N
//! (fresh) events happened within the period plus one bucket, and always fires (quiet time
//! allowing) once N fresh events happened within the period minus one bucket.
//!
//! Freshness is tracked per bucket: a firing remembers its tick (hence its bucket) and how many
//! events its bucket held when it fired; later checks count only buckets strictly after the
//! firing's bucket, plus the events its bucket gained since. With a fixed `now` and
//! `Quiet::None`, a window of threshold N therefore fires once per N events, like a ring.
//! A check sums a snapshot of the 32 words after its own increment, so it may miss a concurrent
//! increment (a late firing), but the record whose increment comes last sees them all: a burst
//! that ends is seen. The CAS on the fire word keeps firings unique.
//!
//! ## Shared windows
//!
//! A [`GroupSpec`] has one period and members, each with its threshold and quiet time. Their
//! window keeps the events once, as the members need them: a ring as long as the largest
//! threshold up to 64 (a ring of R slots answers for every N <= R: the N-th most recent event is
//! in the slot of position `taken - N`, which only a record taking position `taken - N + R` or
//! later overwrites, so the argument above holds unchanged), the 32 buckets when some threshold
//! is above 64 (their width depends only on the period), and **one fire word per member**. Each
//! member fires exactly when a window of its own with the same threshold, period and quiet time
//! would, given the same records (a property test checks it event by event, clocks going
//! backwards included): firing, freshness and quiet time are decided on its own fire word.
//!
//! A record costs one update of the shared events, one over-threshold check per distinct ring
//! threshold (at most 64), one pass over the buckets, and a firing check only for the members
//! whose threshold the events within the period reach (members are sorted by threshold). So an
//! actor below the thresholds costs the same with 1 or 1,000 members; one above them costs one
//! fire-word check per member reached (most of them quiet: one load each).
//!
//! A window whose layout (fire words, ring size, buckets and their width) no longer matches the
//! group it is recorded with is replaced by a fresh window. When the rules change,
//! [`regroup`](CounterStore::regroup) copies windows into the new layout instead, keeping the
//! count, the ring's most recent times (as many as both rings hold), the buckets, and the last
//! firing of each member that stays; what cannot carry over is left out, which can only make a
//! firing later, never earlier.
//!
//! # Memory
//!
//! A window is a run of `AtomicU64` words in its shard's **arena**: a two-word header (count,
//! last-seen and expiry ticks), one fire word per member, and then the ring (two 32-bit slots
//! per word) and/or the bucket width and 32 buckets: `8 * (2 + M + ceil(R / 2))` bytes for M
//! members counted by a ring of R (64 for one member of threshold 10), plus 264 with buckets
//! (288 for one member above 64): a window of one member takes what a window of its own always
//! took. The arena holds them in chunks of 8 KiB, allocated as the shard fills and kept: a
//! window costs no allocation of its own (no allocator header or rounding: a 64-byte window
//! took an 80-byte chunk from glibc when it was boxed), windows of 8 words or fewer that divide
//! a cache line sit within one line, and an evicted window's words go to the next new window of
//! the same length, so a full shard's churn never reaches the allocator. Freed words of lengths
//! no longer asked for (after rules change) are let go by rebuilding the arena, packed, once
//! they outweigh the live windows' words. Its map entry is a 24-byte key and an 8-byte slot
//! (offset and length in the arena), plus the table's control byte: 33 bytes per bucket.
//!
//! Each shard's table is sized to its share. Std's hash map holds 7/8 of its power-of-two
//! bucket count, so a share of 15,625 (a million windows in 64 shards) needed 32,768 buckets and
//! left more than half of them empty; instead the store takes as many shards (65 to 128 for a
//! large store, fewer for a small one) as make each share the size of a whole table, to within
//! one window (a million windows: 70 shards of 14,285 or 14,286 in tables of 16,384 buckets,
//! 14,336 windows). A table never grows past that size: removals leave tombstones that eat its
//! free slots, and where the map would then double the table, the store re-inserts the shard's
//! windows into the same table instead (in the pass that makes room, when tombstones took half
//! the room it made: amortised O(1) per insert, like eviction). A full store therefore
//! takes about 33 / (7/8) = 38 bytes of table per window plus the window's words: about 102
//! bytes at threshold 10 (`cargo bench --bench flood`, cap 1,000,000: 99 MiB resident above the
//! baseline, 104 bytes per window of the cap; `benches/README.md`). Live heap bytes per window
//! over 100,000 windows in a store of 1,000,000 (its tables part full, `cargo bench --bench
//! counter`): about 82 at threshold 2, 116 at 10, 335 at 64 and 346 in bucket mode.
//!
//! A store never holds more than `max_windows` windows, at any moment: each shard has a fixed
//! share of it, and a window counts against it **once per member** (so the bound is on
//! (member, actor) pairs, as it was when each playbook had windows of its own, and the memory
//! bound stays about `max_windows` times the size of a one-member window plus 8 bytes per
//! member; a window heavier than its shard's whole share is held alone in the shard).
//! Inserting a new window into a full shard first removes the shard's **expired**
//! windows (no event within the period, and the quiet time of its last firing over; a window that
//! fired with `Quiet::Forever` never expires), then, if fewer than an eighth of the shard's share
//! (or the new window's weight) is free, the **least recently seen** windows until it is (one
//! `select_nth_unstable` pass when every window has one member). Each pass costs O(shard size)
//! and frees at least an eighth of it, so eviction is amortised O(1) per insert. Both kinds of removal are counted by
//! [`evictions`](CounterStore::evictions). An evicted window that comes back starts empty.
//!
//! # Concurrency
//!
//! Recording into an existing window takes only its shard's **read** lock and updates the window
//! with atomics; only a new (or replaced) window takes the shard's write lock, and so does all
//! that moves or reuses words in the arena (a new chunk, a freed slot taken, a rebuild): a
//! window's words stay put while a record holds the read lock. Shards are chosen
//! from a hash of the key seeded at random per store, so no one can aim many keys at one shard or
//! one hash chain; user ids are turned into [`ActorId`]s by a keyed 128-bit hash for the same
//! reason ([`CounterStore::user_id`]).

mod arena;
mod buckets;
mod group;
mod hash;
mod ring;
mod store;
mod time;
mod types;
mod window;

#[cfg(test)]
mod tests;

pub use group::GroupSpec;
pub use store::LocalCounterStore;
pub use types::{ActorId, CounterKey, MemberSpec, Quiet, Record, Regroup, WindowSpec};

use crate::Millis;

/// Where playbooks count events: one window per (slot, actor), a slot standing for a group of
/// playbooks that count the same events by the same kind of actor over the same period.
///
/// The engine only uses this interface, so a cluster-mode store (counts shared through Redis,
/// DESIGN section 12) can replace the in-process [`LocalCounterStore`] without changing it.
/// Implementations must never block on I/O in [`record`](Self::record) or
/// [`record_group`](Self::record_group) and never panic.
pub trait CounterStore: Send + Sync + std::fmt::Debug {
    /// The actor id of a user, from the canonical form of its user keys: a keyed 128-bit hash,
    /// so the ids of different users cannot be made to collide by someone who does not know the
    /// store's keys. The same user always gets the same id from the same store.
    fn user_id(&self, canonical_user_id: &str) -> ActorId;

    /// Records one event at `now` in the window of `key` (creating it if needed), as a window of
    /// its own with `spec`, and says how many events that window holds and whether this event
    /// made it fire (see the [module docs](crate::counter) for the exact semantics).
    fn record(&self, key: CounterKey, spec: &WindowSpec, now: Millis) -> Record;

    /// Records one event at `now` in the window of `key` (creating it if needed), shared by the
    /// members of `group`; calls `fired` with the index of each member this event made fire
    /// (each member fires as a window of its own would) and the window's count. Returns how
    /// many events the window holds, this one included. A window built for another group is
    /// replaced by a fresh one (see [`regroup`](Self::regroup) to carry counts over).
    fn record_group(
        &self,
        key: CounterKey,
        group: &GroupSpec,
        now: Millis,
        fired: &mut dyn FnMut(usize, u64),
    ) -> u64;

    /// The number of windows held.
    fn len(&self) -> usize;

    /// Whether no window is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many windows were evicted so far (expired or least recently seen) to make room.
    fn evictions(&self) -> u64;

    /// After a rules reload: copies the windows of each of `moves` into their new slot and
    /// layout (keeping the counts, see [`Regroup`]), and drops every window whose slot `keep`
    /// rejects (its group is gone; these removals are not counted as evictions, the room made
    /// for heavier copies is). Records that run meanwhile may be missed by the copies; `now` is
    /// the time of the call.
    fn regroup(&self, moves: &[Regroup<'_>], keep: &dyn Fn(u32) -> bool, now: Millis);
}
