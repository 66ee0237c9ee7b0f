//! Ticks, the counters' unit of time (100 ms from a store's epoch, 0 meaning "empty"), the
//! wrapping comparisons between them, and [`Params`]: a [`WindowSpec`] converted to ticks once
//! per record.

use std::time::Duration;

use super::types::{Quiet, WindowSpec};
use crate::Millis;

/// Milliseconds per tick.
pub(super) const TICK_MS: u64 = 100;
/// The longest period or quiet time, in ticks (about 3.4 years): differences between ticks are
/// read as signed 32-bit numbers, so every span must stay well below 2^31 ticks.
pub(super) const MAX_SPAN: u32 = 1 << 30;
/// The largest threshold counted exactly by a ring of ticks; above, time buckets.
pub(super) const RING_MAX: u32 = 64;
/// Buckets per window in bucket mode.
pub(super) const BUCKETS: u32 = 32;

/// A store's epoch: the `now` its ticks count from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Epoch(pub(super) Millis);

impl Epoch {
    /// The tick of `now`: 100 ms steps since the epoch, plus one, wrapping after 2^32 steps and
    /// never 0. A `now` before the epoch is tick 1.
    pub(super) fn tick(self, now: Millis) -> u32 {
        let steps = (now.saturating_sub(self.0) / TICK_MS) as u32; // wraps, as documented
        steps.wrapping_add(1).max(1)
    }
}

/// Ticks from `then` to `now`; 0 when `then` is later than `now`.
pub(super) fn age(now: u32, then: u32) -> u32 {
    let d = now.wrapping_sub(then);
    if d > i32::MAX as u32 {
        0
    } else {
        d
    }
}

/// The later of two ticks.
pub(super) fn later(a: u32, b: u32) -> u32 {
    if (b.wrapping_sub(a) as i32) > 0 {
        b
    } else {
        a
    }
}

/// Whether `now` is at or after `t`.
pub(super) fn reached(now: u32, t: u32) -> bool {
    now.wrapping_sub(t) as i32 >= 0
}

/// `t + span`, never 0 (0 means "never" or "empty" where ticks are stored).
pub(super) fn after(t: u32, span: u32) -> u32 {
    t.wrapping_add(span).max(1)
}

/// A duration in ticks, rounded up, saturating.
fn ticks(d: Duration) -> u64 {
    let part = u64::from(d.subsec_nanos()).div_ceil(TICK_MS * 1_000_000);
    d.as_secs()
        .saturating_mul(1_000 / TICK_MS)
        .saturating_add(part)
}

/// How long a window stays quiet after firing, in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QuietTicks {
    /// At least this many ticks after the firing (0: no quiet time).
    For(u32),
    /// Never fires again.
    Forever,
}

impl QuietTicks {
    /// Whether a window that fired at `fired` may fire again at `now`.
    pub(super) fn over(self, now: u32, fired: u32) -> bool {
        match self {
            QuietTicks::For(q) => age(now, fired) >= q,
            QuietTicks::Forever => false,
        }
    }
}

/// A [`WindowSpec`] in ticks, with every input made valid: threshold at least 1, period 1 to
/// [`MAX_SPAN`] ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Params {
    /// N, at least 1.
    pub(super) threshold: u32,
    /// The period in ticks, 1 to [`MAX_SPAN`].
    pub(super) period: u32,
    /// The quiet time after a firing.
    pub(super) quiet: QuietTicks,
    /// Bucket mode: ticks per bucket, `ceil(period / 32)`, at least 1 (unused by rings).
    pub(super) width: u32,
    /// Bucket mode: how many of the most recent buckets cover the period, `ceil(period / width)`,
    /// 1 to 32.
    pub(super) span: u32,
}

impl Params {
    pub(super) fn new(spec: &WindowSpec) -> Self {
        let period = ticks(spec.period).clamp(1, u64::from(MAX_SPAN)) as u32;
        let quiet = match spec.quiet {
            Quiet::None => QuietTicks::For(0),
            Quiet::For(d) => match ticks(d) {
                t if t > u64::from(MAX_SPAN) => QuietTicks::Forever,
                t => QuietTicks::For(t as u32),
            },
            Quiet::Forever => QuietTicks::Forever,
        };
        let width = period.div_ceil(BUCKETS);
        Params {
            threshold: spec.threshold.max(1),
            period,
            quiet,
            width,
            span: period.div_ceil(width),
        }
    }

    /// Whether windows of these parameters are rings (else bucket windows).
    pub(super) fn is_ring(&self) -> bool {
        self.threshold <= RING_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(threshold: u32, period: Duration, quiet: Quiet) -> WindowSpec {
        WindowSpec {
            threshold,
            period,
            quiet,
        }
    }

    #[test]
    fn ticks_are_100ms_from_the_epoch_plus_one_and_never_zero() {
        let e = Epoch(1_000);
        assert_eq!(e.tick(0), 1);
        assert_eq!(e.tick(1_000), 1);
        assert_eq!(e.tick(1_099), 1);
        assert_eq!(e.tick(1_100), 2);
        assert_eq!(
            e.tick(u64::MAX),
            (((u64::MAX - 1_000) / 100) as u32).wrapping_add(1).max(1)
        );
        // the step that wraps to 0 is read as 1
        assert_eq!(e.tick(1_000 + (u64::from(u32::MAX)) * 100), 1);
    }

    #[test]
    fn wrapping_comparisons() {
        assert_eq!(age(10, 3), 7);
        assert_eq!(age(3, 10), 0);
        assert_eq!(age(5, u32::MAX - 4), 10);
        assert_eq!(later(3, 10), 10);
        assert_eq!(later(u32::MAX, 3), 3);
        assert!(reached(10, 10) && reached(11, 10) && !reached(9, 10));
        assert_eq!(after(u32::MAX, 1), 1);
    }

    #[test]
    fn params_round_up_and_clamp() {
        let p = Params::new(&spec(0, Duration::ZERO, Quiet::None));
        assert_eq!((p.threshold, p.period, p.quiet), (1, 1, QuietTicks::For(0)));
        assert_eq!((p.width, p.span), (1, 1));
        let p = Params::new(&spec(
            5,
            Duration::from_millis(150),
            Quiet::For(Duration::from_millis(1)),
        ));
        assert_eq!((p.period, p.quiet), (2, QuietTicks::For(1)));
        let p = Params::new(&spec(100, Duration::from_secs(300), Quiet::Forever));
        assert_eq!((p.period, p.width, p.span), (3_000, 94, 32));
        let p = Params::new(&spec(u32::MAX, Duration::MAX, Quiet::For(Duration::MAX)));
        assert_eq!((p.period, p.quiet), (MAX_SPAN, QuietTicks::Forever));
        assert_eq!(p.width * 32, MAX_SPAN);
        for period in 1..2_000u32 {
            let p = Params::new(&spec(
                100,
                Duration::from_millis(u64::from(period) * 100),
                Quiet::None,
            ));
            assert!(p.span >= 1 && p.span <= 32 && p.width >= 1, "{period}");
            assert!(
                p.span * p.width >= period && (p.span - 1) * p.width < period,
                "{period}"
            );
        }
    }
}
