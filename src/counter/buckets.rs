//! Time buckets (the members of a window with thresholds above 64): after the word holding the
//! bucket width in ticks, 32 words, each `(bucket epoch << 32) | count` for the bucket
//! `epoch = tick / width`, updated by compare-and-swap. The count within the period is the sum
//! of the `span` most recent epochs (exact to within one bucket; see the module docs,
//! "Thresholds above 64"). Lock-free; a check reads the 32 words once per attempt. The width
//! depends only on the period, so every member of a window shares the buckets; each member's
//! firing sits in its own fire word.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use super::time::Params;
use super::window::{pack, unpack};

/// Counts one event in `bucket` for `epoch`: restarts a bucket holding an older epoch; an event
/// older than the bucket's epoch (the clock went backwards) is counted in it, as if recent.
pub(super) fn add(bucket: &AtomicU64, epoch: u32) {
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

/// Fires if enough events recorded since the member's last firing are within the period and
/// its quiet time is over. `fire` is the member's fire word: the firing's tick and how many
/// events its bucket held.
pub(super) fn try_fire(
    fire: &AtomicU64,
    buckets: &[AtomicU64],
    p: &Params,
    tick: u32,
    epoch: u32,
) -> bool {
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
        let (fresh, in_current) = sum(buckets, p, epoch, since);
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
/// events its bucket held then; `None`: all of them), and the count of the bucket of `epoch`
/// itself.
pub(super) fn sum(
    buckets: &[AtomicU64],
    p: &Params,
    epoch: u32,
    since: Option<(u32, u32)>,
) -> (u64, u32) {
    let mut fresh = 0u64;
    let mut in_current = 0u32;
    for bucket in buckets {
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

/// Whether the member whose fire word is `fire` is still quiet at `tick` after its last firing
/// (a load: lets a record skip summing the buckets for it).
pub(super) fn quiet(fire: &AtomicU64, p: &Params, tick: u32) -> bool {
    let (fired_tick, _) = unpack(fire.load(SeqCst));
    fired_tick != 0 && !p.quiet.over(tick, fired_tick)
}
