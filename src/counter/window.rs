//! [`Window`]: the state of one (slot, actor) window in one allocation, a boxed slice of
//! `AtomicU64`: a three-word header shared by both kinds, then a ring (`ring.rs`) or time
//! buckets (`buckets.rs`). This file owns the header (the last-seen and expiry ticks that
//! eviction reads) and the choice between the two kinds; it takes no lock and never allocates
//! after construction.
//!
//! Header words:
//! - `COUNT`: events recorded, in the low 56 bits (`fetch_add`); the high 8 bits hold the ring
//!   size N, so a ring learns from its own `fetch_add` whether it was built for the spec it is
//!   recorded with (bucket windows keep 0 there);
//! - `FIRE`: the last firing, `(fired tick << 32) | detail` (ring: low 32 bits of the position
//!   after the firing's window; buckets: events its bucket held), 0 if it never fired;
//! - `META`: `(last seen tick << 32) | expires tick`; expires 0 means never (fired with
//!   `Quiet::Forever`). Written only when it changes, so records within one tick only read it.

use std::sync::atomic::{AtomicU64, Ordering};

use super::time::{after, later, reached, Params, QuietTicks};
use super::types::Record;
use super::{buckets, ring};

pub(super) const COUNT: usize = 0;
pub(super) const FIRE: usize = 1;
pub(super) const META: usize = 2;
/// The first word after the header.
pub(super) const HEADER: usize = 3;
/// The ring size N sits above this bit in the `COUNT` word.
pub(super) const PARAM_SHIFT: u32 = 56;
/// The event count in the `COUNT` word.
pub(super) const COUNT_MASK: u64 = (1 << PARAM_SHIFT) - 1;
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

/// A zeroed slice of `len` atomic words: one allocation of exactly `len * 8` bytes.
pub(super) fn zeroed(len: usize) -> Box<[AtomicU64]> {
    (0..len).map(|_| AtomicU64::new(0)).collect()
}

/// One (slot, actor) window.
pub(super) struct Window {
    cells: Box<[AtomicU64]>,
}

impl Window {
    /// An empty window for `p`, created at `tick`.
    pub(super) fn new(p: &Params, tick: u32) -> Self {
        let cells = if p.is_ring() {
            ring::new_cells(p)
        } else {
            buckets::new_cells(p)
        };
        cells[META].store(pack(tick, after(tick, p.period)), Ordering::Relaxed);
        Window { cells }
    }

    /// Records one event at `tick`. `None` (after counting the event, which no longer matters)
    /// when the window was built for other parameters and must be replaced.
    pub(super) fn record(&self, p: &Params, tick: u32) -> Option<Record> {
        let is_ring = self.cells.len() != buckets::LEN;
        if is_ring != p.is_ring() {
            return None;
        }
        let record = if is_ring {
            ring::record(&self.cells, p, tick)?
        } else {
            buckets::record(&self.cells, p, tick)?
        };
        self.touch(p, tick, record.fired);
        Some(record)
    }

    /// Moves the last-seen tick to `tick` and the expiry to when this event stops mattering:
    /// out of the period, and past the quiet time if it fired.
    fn touch(&self, p: &Params, tick: u32, fired: bool) {
        let until = match (fired, p.quiet) {
            (true, QuietTicks::Forever) => NEVER,
            (true, QuietTicks::For(q)) => after(tick, q.max(p.period)),
            (false, _) => after(tick, p.period),
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

    /// The tick of the latest event.
    pub(super) fn last_seen(&self) -> u32 {
        unpack(self.cells[META].load(Ordering::Relaxed)).0
    }

    /// Whether the window no longer matters at `now`: its last event is out of the period and
    /// the quiet time of its last firing is over.
    pub(super) fn expired(&self, now: u32) -> bool {
        let expires = unpack(self.cells[META].load(Ordering::Relaxed)).1;
        expires != NEVER && reached(now, expires)
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
        let param = word.load(Ordering::Relaxed) & !COUNT_MASK;
        word.store(param | (count & COUNT_MASK), Ordering::Relaxed);
    }

    /// Bytes allocated for this window (not counting the map entry).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.cells)
    }
}
