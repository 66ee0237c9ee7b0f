//! Ring windows (thresholds 1 to 64): the ticks of the last N events, two 32-bit slots per word
//! after the window header, and the exact over-threshold and firing decisions on them (see the
//! module docs, "Thresholds 1 to 64", for why they hold under concurrency). Lock-free: a
//! `fetch_add`, one slot compare-and-swap (skipped when the slot already holds this tick), a few
//! loads, and a compare-and-swap on the fire word only when the window is over threshold.
//!
//! Sequentially consistent ordering on the count, the slots and the fire word: the argument
//! "a slot read believed after re-reading the count was not written by a later record" needs
//! one total order of those operations. On x86 it costs nothing over acquire/release.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use super::time::{age, Params};
use super::types::Record;
use super::window::{pack, unpack, zeroed, COUNT, COUNT_MASK, FIRE, HEADER, PARAM_SHIFT};

/// Every 2^29 positions, the firing's position (kept in 32 bits) is moved closer (see
/// [`renormalize`]).
const RENORM_MASK: u64 = (1 << 29) - 1;
/// How far behind the current position [`renormalize`] leaves the firing's position.
const RENORM_LAG: u64 = 1 << 28;

/// The cells of an empty ring of `p.threshold` (1 to 64) slots.
pub(super) fn new_cells(p: &Params) -> Box<[AtomicU64]> {
    let n = p.threshold;
    let cells = zeroed(HEADER + n.div_ceil(2) as usize);
    cells[COUNT].store(u64::from(n) << PARAM_SHIFT, SeqCst);
    cells
}

/// Records one event at `tick`; `None` if the ring was built for another threshold.
pub(super) fn record(cells: &[AtomicU64], p: &Params, tick: u32) -> Option<Record> {
    let n = u64::from(p.threshold);
    let prev = cells[COUNT].fetch_add(1, SeqCst);
    if prev >> PARAM_SHIFT != n {
        return None;
    }
    let pos = prev & COUNT_MASK;
    let slot = pos % n;
    store_slot(cells, slot, tick);
    if pos & RENORM_MASK == RENORM_MASK {
        renormalize(cells, pos);
    }
    let fired = check(cells, p, tick, pos, slot, || {});
    Some(Record {
        count: pos + 1,
        fired,
    })
}

/// Decides whether the window ending at the latest position taken fires now. `pos` and `slot`
/// are this record's position and slot (a shortcut when it is the latest). `between` runs
/// between reading the count and reading the slot (tests interleave other records there).
fn check(
    cells: &[AtomicU64],
    p: &Params,
    tick: u32,
    pos: u64,
    slot: u64,
    between: impl FnOnce(),
) -> bool {
    let n = u64::from(p.threshold);
    let seen = cells[COUNT].load(SeqCst);
    let taken = seen & COUNT_MASK; // positions 0..taken are taken
    if taken < n {
        return false;
    }
    let oldest_pos = taken - n; // the N-th most recent event
    let oldest_slot = if taken == pos + 1 {
        if slot + 1 == n {
            0
        } else {
            slot + 1
        }
    } else {
        oldest_pos % n
    };
    between();
    let oldest = load_slot(cells, oldest_slot);
    if cells[COUNT].load(SeqCst) != seen {
        // A later record took a position and may have overwritten the slot: do not believe it.
        // That record checks again once its tick is stored.
        return false;
    }
    if oldest == 0 || age(tick, oldest) >= p.period {
        return false;
    }
    try_fire(cells, p, tick, oldest_pos, taken)
}

/// Fires if the last firing is older than the window's events and its quiet time is over:
/// the compare-and-swap that makes firings unique. `oldest_pos` is the position of the window's
/// oldest event, `next_pos` the position after its newest.
fn try_fire(cells: &[AtomicU64], p: &Params, tick: u32, oldest_pos: u64, next_pos: u64) -> bool {
    let fire = &cells[FIRE];
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

/// Keeps the firing's position (32 bits of a 56-bit count) within 2^30 of the current one, so
/// that the wrapping comparison in [`try_fire`] stays right however many events a window
/// sees: called once every 2^29 positions (each position is taken exactly once), it moves a
/// firing position older than 2^28 positions up to 2^28 behind. Events that old are never among
/// the last N (N <= 64), so freshness answers do not change.
fn renormalize(cells: &[AtomicU64], pos: u64) {
    let target = (pos + 1 - RENORM_LAG) as u32;
    let fire = &cells[FIRE];
    let mut current = fire.load(SeqCst);
    loop {
        let (fired_tick, fired_pos) = unpack(current);
        if fired_tick == 0 || target.wrapping_sub(fired_pos) as i32 <= 0 {
            return;
        }
        match fire.compare_exchange(current, pack(fired_tick, target), SeqCst, SeqCst) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// The word and bit offset of slot `i`.
fn locate(cells: &[AtomicU64], i: u64) -> (&AtomicU64, u32) {
    (&cells[HEADER + (i / 2) as usize], (i % 2) as u32 * 32)
}

/// Stores `tick` in slot `i`; the other slot of the word is left as it is.
fn store_slot(cells: &[AtomicU64], i: u64, tick: u32) {
    let (word, shift) = locate(cells, i);
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
fn load_slot(cells: &[AtomicU64], i: u64) -> u32 {
    let (word, shift) = locate(cells, i);
    (word.load(SeqCst) >> shift) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counter::types::{Quiet, WindowSpec};
    use std::time::Duration;

    fn params(threshold: u32) -> Params {
        Params::new(&WindowSpec {
            threshold,
            period: Duration::ZERO, // one tick
            quiet: Quiet::None,
        })
    }

    /// The first half of a record: takes a position and stores the tick.
    fn take_and_store(cells: &[AtomicU64], p: &Params, tick: u32) -> (u64, u64) {
        let pos = cells[COUNT].fetch_add(1, SeqCst) & COUNT_MASK;
        let slot = pos % u64::from(p.threshold);
        store_slot(cells, slot, tick);
        (pos, slot)
    }

    #[test]
    fn a_slot_overwritten_during_a_check_is_not_believed() {
        // Threshold 3 within one tick. Two old events, then two at tick 100: never 3 in a tick.
        let p = params(3);
        let cells = new_cells(&p);
        for _ in 0..2 {
            assert_eq!(record(&cells, &p, 1).map(|r| r.fired), Some(false));
        }
        let (pos, slot) = take_and_store(&cells, &p, 100);
        // After this check reads the count (window ending at position 2: oldest is position 0,
        // tick 1), a later record at tick 100 overwrites position 0's slot. Believing the slot
        // would see 3 events within the tick.
        let other = std::cell::Cell::new(None);
        let fired = check(&cells, &p, 100, pos, slot, || {
            other.set(record(&cells, &p, 100))
        });
        assert!(!fired);
        assert_eq!(other.get().map(|r| r.fired), Some(false));
    }

    #[test]
    fn a_record_that_finishes_last_checks_the_window_of_later_records() {
        // Threshold 2: the first record stores its tick after the second record's check, which
        // found the first slot empty; the first record's check then fires for both.
        let p = params(2);
        let cells = new_cells(&p);
        let first = cells[COUNT].fetch_add(1, SeqCst) & COUNT_MASK;
        assert_eq!(record(&cells, &p, 5).map(|r| r.fired), Some(false));
        store_slot(&cells, first, 5);
        assert!(check(&cells, &p, 5, first, first, || {}));
    }
}
