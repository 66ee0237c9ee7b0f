//! Rings (the members of a window with thresholds 1 to 64): the ticks of the window's last R
//! events (R, the ring size, is the largest such threshold), two 32-bit slots per word, and the
//! exact over-threshold and firing decisions on them (see the module docs, "Thresholds 1 to
//! 64", for why they hold under concurrency). Lock-free: the window's `fetch_add` (in
//! `window.rs`), one slot compare-and-swap (skipped when the slot already holds this tick), a
//! few loads per distinct threshold, and a compare-and-swap on a member's fire word only when
//! the window is over that member's threshold.
//!
//! A ring of R slots answers for every threshold N <= R: the N-th most recent event is in the
//! slot of position `taken - N`, and that slot is only overwritten by position
//! `taken - N + R >= taken`, a record that took its position after the check read the count.
//!
//! Sequentially consistent ordering on the count, the slots and the fire words: the argument
//! "a slot read believed after re-reading the count was not written by a later record" needs
//! one total order of those operations. On x86 it costs nothing over acquire/release.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use super::time::{age, Params};
use super::window::{pack, unpack, COUNT_MASK};

/// Every 2^29 positions, the firings' positions (kept in 32 bits) are moved closer (see
/// [`renormalize`]).
const RENORM_MASK: u64 = (1 << 29) - 1;
/// How far behind the current position [`renormalize`] leaves a firing's position.
const RENORM_LAG: u64 = 1 << 28;

/// Whether the window ending at the latest position taken is over `p.threshold` (N): its N-th
/// most recent event is less than the period old at `tick`. `Some((oldest, taken))` when it
/// is: the position of that N-th most recent event and the position after the newest. `count`
/// is the window's count word and `slots` its ring (`ring` slots, N at most); `pos` and `slot`
/// are this record's position and slot (a shortcut, without a division, when it is the latest).
/// `between` runs between reading the count and reading the slot (tests interleave other
/// records there).
#[allow(clippy::too_many_arguments)]
pub(super) fn over(
    count: &AtomicU64,
    slots: &[AtomicU64],
    ring: u64,
    p: &Params,
    tick: u32,
    pos: u64,
    slot: u64,
    between: impl FnOnce(),
) -> Option<(u64, u64)> {
    let n = u64::from(p.threshold);
    let seen = count.load(SeqCst);
    let taken = seen & COUNT_MASK; // positions 0..taken are taken
    if taken < n {
        return None;
    }
    let oldest_pos = taken - n; // the N-th most recent event
    let oldest_slot = if taken == pos + 1 {
        // (slot + 1 - n) mod ring, with slot < ring and 1 <= n <= ring
        let s = slot + 1 + ring - n;
        if s >= ring {
            s - ring
        } else {
            s
        }
    } else {
        oldest_pos % ring
    };
    between();
    let oldest = load_slot(slots, oldest_slot);
    if count.load(SeqCst) != seen {
        // A later record took a position and may have overwritten the slot: do not believe it.
        // That record checks again once its tick is stored.
        return None;
    }
    if oldest == 0 || age(tick, oldest) >= p.period {
        return None;
    }
    Some((oldest_pos, taken))
}

/// Fires if the member's last firing is older than the window's events and its quiet time is
/// over: the compare-and-swap on its fire word that makes firings unique. `oldest_pos` is the
/// position of the window's oldest event, `next_pos` the position after its newest.
pub(super) fn try_fire(
    fire: &AtomicU64,
    p: &Params,
    tick: u32,
    oldest_pos: u64,
    next_pos: u64,
) -> bool {
    let mut current = fire.load(SeqCst);
    loop {
        let (fired_tick, fired_pos) = unpack(current);
        if fired_tick != 0 {
            let fresh = (oldest_pos as u32).wrapping_sub(fired_pos) as i32 >= 0;
            if !fresh || !p.quiet.over(tick, fired_tick) {
                return false;
            }
        }
        match fire.compare_exchange(current, pack(tick, next_pos as u32), SeqCst, SeqCst) {
            Ok(_) => return true,
            Err(seen) => current = seen,
        }
    }
}

/// Keeps the firings' positions (32 bits of a 56-bit count) within 2^30 of the current one, so
/// that the wrapping comparison in [`try_fire`] stays right however many events a window
/// sees: at every 2^29-th position `pos` (each position is taken exactly once), it moves each
/// firing position older than 2^28 positions up to 2^28 behind. Events that old are never among
/// the last N (N <= 64), so freshness answers do not change.
pub(super) fn renormalize(fires: &[AtomicU64], pos: u64) {
    if pos & RENORM_MASK != RENORM_MASK {
        return;
    }
    let target = (pos + 1 - RENORM_LAG) as u32;
    for fire in fires {
        let mut current = fire.load(SeqCst);
        loop {
            let (fired_tick, fired_pos) = unpack(current);
            if fired_tick == 0 || target.wrapping_sub(fired_pos) as i32 <= 0 {
                break;
            }
            match fire.compare_exchange(current, pack(fired_tick, target), SeqCst, SeqCst) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
    }
}

/// The word and bit offset of slot `i`.
fn locate(slots: &[AtomicU64], i: u64) -> (&AtomicU64, u32) {
    (&slots[(i / 2) as usize], (i % 2) as u32 * 32)
}

/// Stores `tick` in slot `i`; the other slot of the word is left as it is.
pub(super) fn store_slot(slots: &[AtomicU64], i: u64, tick: u32) {
    let (word, shift) = locate(slots, i);
    let mut current = word.load(SeqCst);
    loop {
        if (current >> shift) as u32 == tick {
            return; // already this tick (a burst within one tick): nothing to write
        }
        let new = (current & !(0xFFFF_FFFF << shift)) | (u64::from(tick) << shift);
        match word.compare_exchange_weak(current, new, SeqCst, SeqCst) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// The tick in slot `i` (0: never written).
pub(super) fn load_slot(slots: &[AtomicU64], i: u64) -> u32 {
    let (word, shift) = locate(slots, i);
    (word.load(SeqCst) >> shift) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counter::group::{GroupSpec, FIRES};
    use crate::counter::types::{Quiet, WindowSpec};
    use crate::counter::window::{boxed, Window, COUNT};
    use std::time::Duration;

    /// A window of its own with threshold `n` within one tick.
    fn group(n: u32) -> GroupSpec {
        GroupSpec::single(&WindowSpec {
            threshold: n,
            period: Duration::ZERO, // one tick
            quiet: Quiet::None,
        })
    }

    fn fired(w: &Window, g: &GroupSpec, tick: u32) -> bool {
        let mut fired = false;
        w.record(g, tick, &mut |_, _| fired = true);
        fired
    }

    /// The first half of a record: takes a position and stores the tick.
    fn take_and_store(cells: &[AtomicU64], g: &GroupSpec, tick: u32) -> u64 {
        let l = g.layout();
        let pos = cells[COUNT].fetch_add(1, SeqCst) & COUNT_MASK;
        store_slot(
            &cells[l.ring_off()..l.bucket_off()],
            pos % u64::from(l.ring),
            tick,
        );
        pos
    }

    /// The second half: the check of the window ending at the latest position.
    fn check(cells: &[AtomicU64], g: &GroupSpec, tick: u32, between: impl FnOnce()) -> bool {
        let l = g.layout();
        let p = &g.members()[0].p;
        let slots = &cells[l.ring_off()..l.bucket_off()];
        let pos = (cells[COUNT].load(SeqCst) & COUNT_MASK) - 1; // the latest position
        let slot = pos % u64::from(l.ring);
        over(
            &cells[COUNT],
            slots,
            u64::from(l.ring),
            p,
            tick,
            pos,
            slot,
            between,
        )
        .is_some_and(|(oldest, taken)| try_fire(&cells[FIRES], p, tick, oldest, taken))
    }

    #[test]
    fn a_slot_overwritten_during_a_check_is_not_believed() {
        // Threshold 3 within one tick. Two old events, then two at tick 100: never 3 in a tick.
        let g = group(3);
        let cells = boxed(&g);
        let w = Window::init(&cells, &g, 1);
        for _ in 0..2 {
            assert!(!fired(&w, &g, 1));
        }
        take_and_store(w.cells(), &g, 100);
        // After this check reads the count (window ending at position 2: oldest is position 0,
        // tick 1), a later record at tick 100 overwrites position 0's slot. Believing the slot
        // would see 3 events within the tick.
        let other = std::cell::Cell::new(None);
        let believed = check(w.cells(), &g, 100, || other.set(Some(fired(&w, &g, 100))));
        assert!(!believed);
        assert_eq!(other.get(), Some(false));
    }

    #[test]
    fn a_record_that_finishes_last_checks_the_window_of_later_records() {
        // Threshold 2: the first record stores its tick after the second record's check, which
        // found the first slot empty; the first record's check then fires for both.
        let g = group(2);
        let cells = boxed(&g);
        let w = Window::init(&cells, &g, 1);
        let cells = w.cells();
        let first = cells[COUNT].fetch_add(1, SeqCst) & COUNT_MASK;
        assert!(!fired(&w, &g, 5));
        let l = g.layout();
        store_slot(&cells[l.ring_off()..l.bucket_off()], first, 5);
        assert!(check(cells, &g, 5, || {}));
    }
}
