//! Bucket windows (thresholds above 64): after the window header, the bucket width in ticks and
//! 32 words, each `(bucket epoch << 32) | count` for the bucket `epoch = tick / width`, updated by
//! compare-and-swap. The count within the period is the sum of the `span` most recent epochs
//! (exact to within one bucket; see the module docs, "Thresholds above 64"). Lock-free; a check
//! reads the 32 words once per attempt.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use super::time::{Params, BUCKETS};
use super::types::Record;
use super::window::{pack, unpack, zeroed, COUNT, COUNT_MASK, FIRE, HEADER};

/// The word holding the bucket width the window was built for.
const WIDTH: usize = HEADER;
/// The first bucket.
const FIRST: usize = HEADER + 1;
/// The length of a bucket window's cells (rings are always shorter).
pub(super) const LEN: usize = FIRST + BUCKETS as usize;

/// The cells of an empty bucket window for `p`.
pub(super) fn new_cells(p: &Params) -> Box<[AtomicU64]> {
    let cells = zeroed(LEN);
    cells[WIDTH].store(u64::from(p.width), SeqCst);
    cells
}

/// Records one event at `tick`; `None` if the window was built for another bucket width.
pub(super) fn record(cells: &[AtomicU64], p: &Params, tick: u32) -> Option<Record> {
    if cells[WIDTH].load(SeqCst) != u64::from(p.width) {
        return None;
    }
    let count = (cells[COUNT].fetch_add(1, SeqCst) & COUNT_MASK) + 1;
    let epoch = tick / p.width;
    add(&cells[FIRST + (epoch % BUCKETS) as usize], epoch);
    let fired = count >= u64::from(p.threshold) && try_fire(cells, p, tick, epoch);
    Some(Record { count, fired })
}

/// Counts one event in `bucket` for `epoch`: restarts a bucket holding an older epoch; an event
/// older than the bucket's epoch (the clock went backwards) is counted in it, as if recent.
fn add(bucket: &AtomicU64, epoch: u32) {
    let mut current = bucket.load(SeqCst);
    loop {
        let (held, count) = unpack(current);
        let new = if count == 0 || epoch.wrapping_sub(held) as i32 > 0 {
            pack(epoch, 1)
        } else {
            pack(held, count.saturating_add(1))
        };
        match bucket.compare_exchange_weak(current, new, SeqCst, SeqCst) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// Fires if enough events recorded since the last firing are within the period and its quiet
/// time is over. The fire word holds the firing's tick and how many events its bucket held.
fn try_fire(cells: &[AtomicU64], p: &Params, tick: u32, epoch: u32) -> bool {
    let fire = &cells[FIRE];
    let mut current = fire.load(SeqCst);
    loop {
        let (fired_tick, consumed) = unpack(current);
        let since = if fired_tick == 0 {
            None
        } else if p.quiet.over(tick, fired_tick) {
            Some((fired_tick / p.width, consumed))
        } else {
            return false;
        };
        let (fresh, in_current) = sum(cells, p, epoch, since);
        if fresh < u64::from(p.threshold) {
            return false;
        }
        match fire.compare_exchange(current, pack(tick, in_current), SeqCst, SeqCst) {
            Ok(_) => return true,
            Err(seen) => current = seen,
        }
    }
}

/// The events within the period at `epoch` recorded after the firing `since` (its epoch, and the
/// events its bucket held then), and the count of the bucket of `epoch` itself.
fn sum(cells: &[AtomicU64], p: &Params, epoch: u32, since: Option<(u32, u32)>) -> (u64, u32) {
    let mut fresh = 0u64;
    let mut in_current = 0u32;
    for bucket in &cells[FIRST..] {
        let (held, count) = unpack(bucket.load(SeqCst));
        if count == 0 || epoch.wrapping_sub(held) as i32 >= p.span as i32 {
            continue; // empty, or older than the period (a later epoch counts as current)
        }
        if held == epoch {
            in_current = count;
        }
        fresh += u64::from(match since {
            None => count,
            Some((fired, consumed)) => match held.wrapping_sub(fired) as i32 {
                d if d < 0 => 0,
                0 => count.saturating_sub(consumed),
                _ => count,
            },
        });
    }
    (fresh, in_current)
}
