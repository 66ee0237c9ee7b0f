//! [`Window`]: the state of one (slot, actor) window, a view of its words (`AtomicU64`s, held by
//! its shard's arena, `arena.rs`): a two-word header, one fire word per member of its group,
//! then a ring (`ring.rs`) and/or time buckets (`buckets.rs`) as the group's [`Layout`] says.
//! This file owns the header (the count, and the last-seen and expiry ticks that eviction
//! reads), the order in which a record visits the members, and the copy of a window into a new
//! layout when a group changes; it takes no lock and allocates nothing but such a copy.
//!
//! Words:
//! - `COUNT`: events recorded, in the low 56 bits (`fetch_add`); the high 8 bits hold the
//!   layout's tag (ring size, and whether there are buckets), so a record learns from its own
//!   `fetch_add` whether the window was built for the group it is recorded with;
//! - `META`: `(last seen tick << 32) | expires tick`; expires 0 means never (a member fired with
//!   `Quiet::Forever`). Written only when it changes, so records within one tick only read it;
//! - fire word `FIRES + k` for the `k`-th member by threshold: its last firing,
//!   `(fired tick << 32) | detail` (ring members: low 32 bits of the position after the firing's
//!   window; bucket members: events its bucket held), 0 if it never fired.

use std::sync::atomic::{AtomicU64, Ordering};

use super::group::{GroupSpec, Layout, FIRES};
use super::time::{after, later, reached, QuietTicks, BUCKETS};
use super::{buckets, ring};

pub(super) const COUNT: usize = 0;
pub(super) const META: usize = 1;
/// The layout's tag sits above this bit in the `COUNT` word.
pub(super) const TAG_SHIFT: u32 = 56;
/// The event count in the `COUNT` word.
pub(super) const COUNT_MASK: u64 = (1 << TAG_SHIFT) - 1;
/// An expiry tick that never comes.
const NEVER: u32 = 0;

/// Two 32-bit halves in one word.
pub(super) fn pack(high: u32, low: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// The halves of a word made by [`pack`].
pub(super) fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

/// The longer of two quiet times.
fn longer(a: Option<QuietTicks>, b: QuietTicks) -> QuietTicks {
    match (a, b) {
        (None, b) => b,
        (Some(QuietTicks::Forever), _) | (_, QuietTicks::Forever) => QuietTicks::Forever,
        (Some(QuietTicks::For(a)), QuietTicks::For(b)) => QuietTicks::For(a.max(b)),
    }
}

/// One (slot, actor) window: a view of its words.
#[derive(Clone, Copy)]
pub(super) struct Window<'a> {
    cells: &'a [AtomicU64],
}

/// Zeroed words for a window of `group`, outside any arena (for a copy in the making, and
/// tests).
pub(super) fn boxed(group: &GroupSpec) -> Box<[AtomicU64]> {
    (0..group.layout().len())
        .map(|_| AtomicU64::new(0))
        .collect()
}

impl<'a> Window<'a> {
    /// The window whose words are `cells`.
    pub(super) fn at(cells: &'a [AtomicU64]) -> Self {
        Window { cells }
    }

    /// Makes `cells` (zeroed, as many as `group`'s layout has) an empty window for `group`,
    /// created at `tick`.
    pub(super) fn init(cells: &'a [AtomicU64], group: &GroupSpec, tick: u32) -> Self {
        let layout = group.layout();
        debug_assert_eq!(cells.len(), layout.len());
        cells[COUNT].store(layout.tag() << TAG_SHIFT, Ordering::Relaxed);
        if layout.width > 0 {
            cells[layout.bucket_off()].store(u64::from(layout.width), Ordering::Relaxed);
        }
        let period = group.members().first().map_or(1, |m| m.p.period);
        cells[META].store(pack(tick, after(tick, period)), Ordering::Relaxed);
        Window { cells }
    }

    /// Whether the window was built for `layout`.
    fn fits(&self, layout: &Layout) -> bool {
        self.cells.len() == layout.len()
            && (layout.width == 0
                || self.cells[layout.bucket_off()].load(Ordering::Relaxed)
                    == u64::from(layout.width))
            && self.cells[COUNT].load(Ordering::Relaxed) >> TAG_SHIFT == layout.tag()
    }

    /// Records one event at `tick` and calls `fired` with the index (in the list the group was
    /// made from) of each member that fired with it, and the window's count. Returns the count:
    /// the events recorded in the window, this one included; `None` (possibly after counting the
    /// event, which no longer matters) when the window was built for another group and must be
    /// replaced.
    pub(super) fn record(
        &self,
        group: &GroupSpec,
        tick: u32,
        fired: &mut dyn FnMut(usize, u64),
    ) -> Option<u64> {
        let layout = group.layout();
        if self.cells.len() != layout.len() {
            return None;
        }
        let cells = self.cells;
        if layout.width > 0
            && cells[layout.bucket_off()].load(Ordering::Relaxed) != u64::from(layout.width)
        {
            return None;
        }
        let prev = cells[COUNT].fetch_add(1, Ordering::SeqCst);
        if prev >> TAG_SHIFT != layout.tag() {
            return None;
        }
        let pos = prev & COUNT_MASK;
        let count = pos + 1;
        let members = group.members();
        let fires = &cells[FIRES..layout.ring_off()];
        let mut quiet = None; // the longest quiet time of the members that fired
        if layout.ring > 0 {
            let r = u64::from(layout.ring);
            let slots = &cells[layout.ring_off()..layout.bucket_off()];
            let slot = pos % r;
            ring::store_slot(slots, slot, tick);
            ring::renormalize(&fires[..group.rings()], pos);
            // Members with the same threshold share one over-threshold check.
            let mut k = 0;
            while k < group.rings() {
                let n = members[k].p.threshold;
                let end = k + members[k..group.rings()].partition_point(|m| m.p.threshold == n);
                if let Some((oldest, taken)) = ring::over(
                    &cells[COUNT],
                    slots,
                    r,
                    &members[k].p,
                    tick,
                    pos,
                    slot,
                    || {},
                ) {
                    for (j, m) in members.iter().enumerate().take(end).skip(k) {
                        if ring::try_fire(&fires[j], &m.p, tick, oldest, taken) {
                            quiet = Some(longer(quiet, m.p.quiet));
                            fired(m.index as usize, count);
                        }
                    }
                }
                k = end;
            }
        }
        if let Some(epoch) = tick.checked_div(layout.width) {
            let buckets = &cells[layout.bucket_off() + 1..];
            buckets::add(&buckets[(epoch % BUCKETS) as usize], epoch);
            // Only members whose threshold the events recorded, and then the events within the
            // period, reach can fire (members by threshold: the first one not reached ends it);
            // the buckets are summed once, and not at all while the members reached are quiet.
            let mut within = None;
            for (j, m) in members[group.rings()..].iter().enumerate() {
                let threshold = u64::from(m.p.threshold);
                if count < threshold {
                    break;
                }
                let fire = &fires[group.rings() + j];
                if buckets::quiet(fire, &m.p, tick) {
                    continue;
                }
                let within =
                    *within.get_or_insert_with(|| buckets::sum(buckets, &m.p, epoch, None).0);
                if within < threshold {
                    break;
                }
                if buckets::try_fire(fire, buckets, &m.p, tick, epoch) {
                    quiet = Some(longer(quiet, m.p.quiet));
                    fired(m.index as usize, count);
                }
            }
        }
        let period = members.first().map_or(1, |m| m.p.period);
        self.touch(period, tick, quiet);
        Some(count)
    }

    /// Moves the last-seen tick to `tick` and the expiry to when this event stops mattering:
    /// out of the period, and past `quiet` (the longest quiet time of the members that fired
    /// with it, if any).
    fn touch(&self, period: u32, tick: u32, quiet: Option<QuietTicks>) {
        let until = match quiet {
            Some(QuietTicks::Forever) => NEVER,
            Some(QuietTicks::For(q)) => after(tick, q.max(period)),
            None => after(tick, period),
        };
        let meta = &self.cells[META];
        let mut current = meta.load(Ordering::Relaxed);
        loop {
            let (last, expires) = unpack(current);
            let expires = if expires == NEVER || until == NEVER {
                NEVER
            } else {
                later(expires, until)
            };
            let new = pack(later(last, tick), expires);
            if new == current {
                return;
            }
            match meta.compare_exchange_weak(current, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// A copy of this window (built for `old`) laid out for `new`, keeping what carries over:
    /// the count, last-seen and expiry ticks; the ring's most recent times (as many as both rings
    /// hold); the buckets (same period, so same width), or, when `old` had none, the ring's times
    /// added to them; and the firing of each member of `new` that continues a member of `old`
    /// (`continues[k]`: the position, by threshold, in `old` of the member at position `k` in
    /// `new`). What cannot carry over is left out, which can only make a firing later, never
    /// earlier: a ring where there was none starts empty, and a member that moves between ring
    /// and buckets keeps its firing's time but counts as fresh only the events of later buckets
    /// (moved to buckets) or recorded from now on (moved to the ring). `None` when this window
    /// was not built for `old`. The copy's words are boxed, for the store to move into the
    /// arena of the shard of its new key.
    ///
    /// Called under the shard's write lock, so no record runs meanwhile.
    pub(super) fn regrouped(
        &self,
        old: &GroupSpec,
        new: &GroupSpec,
        continues: &[Option<usize>],
    ) -> Option<Box<[AtomicU64]>> {
        let (from, to) = (old.layout(), new.layout());
        if !self.fits(&from) {
            return None;
        }
        let load = |i: usize| self.cells[i].load(Ordering::Relaxed);
        let copy = boxed(new);
        let cells = &copy[..];
        Window::init(cells, new, 1);
        let count = load(COUNT) & COUNT_MASK;
        cells[COUNT].store((to.tag() << TAG_SHIFT) | count, Ordering::Relaxed);
        cells[META].store(load(META), Ordering::Relaxed);
        let old_slots = &self.cells[from.ring_off()..from.bucket_off()];
        let recent = |r: u32| count.saturating_sub(u64::from(r))..count; // positions a ring holds
        if to.ring > 0 && from.ring > 0 {
            let slots = &cells[to.ring_off()..to.bucket_off()];
            for pos in recent(from.ring.min(to.ring)) {
                let tick = ring::load_slot(old_slots, pos % u64::from(from.ring));
                ring::store_slot(slots, pos % u64::from(to.ring), tick);
            }
        }
        if to.width > 0 {
            let buckets = &cells[to.bucket_off() + 1..];
            if from.width == to.width {
                for (b, o) in buckets.iter().zip(&self.cells[from.bucket_off() + 1..]) {
                    b.store(o.load(Ordering::Relaxed), Ordering::Relaxed);
                }
            } else if from.ring > 0 {
                for pos in recent(from.ring) {
                    let tick = ring::load_slot(old_slots, pos % u64::from(from.ring));
                    if tick != 0 {
                        let epoch = tick / to.width;
                        buckets::add(&buckets[(epoch % BUCKETS) as usize], epoch);
                    }
                }
            }
        }
        for (k, was) in continues.iter().enumerate().take(to.fires as usize) {
            let Some(j) = *was else { continue };
            if j >= from.fires as usize {
                continue;
            }
            let word = load(FIRES + j);
            let (fired_tick, _) = unpack(word);
            let carried = match (j < old.rings(), k < new.rings()) {
                (was_ring, is_ring) if was_ring == is_ring => word,
                _ if fired_tick == 0 => 0,
                (true, _) => pack(fired_tick, u32::MAX), // to buckets: its bucket all consumed
                (false, _) => pack(fired_tick, count as u32), // to the ring: all events so far
            };
            cells[FIRES + k].store(carried, Ordering::Relaxed);
        }
        Some(copy)
    }

    /// How many fire words the window holds (at least 1): what it weighs against the store's
    /// bound.
    pub(super) fn weight(&self) -> usize {
        let tag = self.cells[COUNT].load(Ordering::Relaxed) >> TAG_SHIFT;
        Layout::of(tag, 1, self.cells.len()).map_or(1, |l| (l.fires as usize).max(1))
    }

    /// The tick of the latest event.
    pub(super) fn last_seen(&self) -> u32 {
        unpack(self.cells[META].load(Ordering::Relaxed)).0
    }

    /// Whether the window no longer matters at `now`: its last event is out of the period and
    /// the quiet time of its members' last firings is over.
    pub(super) fn expired(&self, now: u32) -> bool {
        let expires = unpack(self.cells[META].load(Ordering::Relaxed)).1;
        expires != NEVER && reached(now, expires)
    }

    /// The window's words.
    #[cfg(test)]
    pub(super) fn cells(&self) -> &'a [AtomicU64] {
        self.cells
    }

    /// Events recorded.
    #[cfg(test)]
    pub(super) fn count(&self) -> u64 {
        self.cells[COUNT].load(Ordering::Relaxed) & COUNT_MASK
    }

    /// Sets the event count (to test what happens after billions of events).
    #[cfg(test)]
    pub(super) fn set_count(&self, count: u64) {
        let word = &self.cells[COUNT];
        let tag = word.load(Ordering::Relaxed) & !COUNT_MASK;
        word.store(tag | (count & COUNT_MASK), Ordering::Relaxed);
    }

    /// Bytes of this window's words (not counting the map entry).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(self.cells)
    }
}
