//! Single-threaded property tests: ring windows against an exact model (every timestamp kept),
//! bucket windows against the same model within their documented tolerance of one bucket.

use proptest::prelude::*;

use super::{key, spec, T0};
use crate::counter::{CounterStore, GroupSpec, LocalCounterStore, MemberSpec, Quiet};
use std::time::Duration;

/// Quiet time of a model, in ticks.
#[derive(Clone, Copy, Debug)]
enum ModelQuiet {
    For(u32),
    Forever,
}

/// A model window: every event's tick in record order, and the last firing (position after
/// its window, tick).
struct Model {
    ticks: Vec<u32>,
    fired: Option<(usize, u32)>,
    quiet: ModelQuiet,
}

impl Model {
    fn new(quiet: ModelQuiet) -> Self {
        Model {
            ticks: Vec::new(),
            fired: None,
            quiet,
        }
    }

    /// Ticks from `then` to `now`, 0 if `then` is later.
    fn age(now: u32, then: u32) -> u32 {
        now.saturating_sub(then)
    }

    fn quiet_over(&self, now: u32) -> bool {
        match (self.fired, self.quiet) {
            (None, _) => true,
            (Some(_), ModelQuiet::Forever) => false,
            (Some((_, at)), ModelQuiet::For(q)) => Self::age(now, at) >= q,
        }
    }

    /// The first position recorded after the last firing.
    fn fresh_from(&self) -> usize {
        self.fired.map_or(0, |(pos, _)| pos)
    }

    /// Ring semantics: the N-th most recent event (record order) is within the period, it and
    /// the newer ones were recorded after the last firing, and the quiet time is over.
    fn ring_fires(&mut self, n: usize, period: u32, now: u32) -> bool {
        let len = self.ticks.len();
        if len < n {
            return false;
        }
        let oldest = len - n;
        let fires = Self::age(now, self.ticks[oldest]) < period
            && oldest >= self.fresh_from()
            && self.quiet_over(now);
        if fires {
            self.fired = Some((len, now));
        }
        fires
    }

    /// Events recorded after the last firing whose age at `now` is below `span` ticks (ticks
    /// are non-decreasing here).
    fn fresh_within(&self, now: u32, span: i64) -> usize {
        let fresh = &self.ticks[self.fresh_from()..];
        let from = i64::from(now) - span + 1; // age < span  <=>  tick >= now - span + 1
        fresh.len() - fresh.partition_point(|&t| i64::from(t) < from)
    }

    /// Bucket semantics, exactly: events recorded after the last firing whose bucket
    /// (`tick / width`) is one of the `span` most recent at `now`.
    fn fresh_in_buckets(&self, now: u32, width: u32, span: u32) -> usize {
        let fresh = &self.ticks[self.fresh_from()..];
        let first = i64::from(now / width) - i64::from(span) + 1;
        fresh.len() - fresh.partition_point(|&t| i64::from(t / width) < first)
    }
}

fn model_quiet(q: &Quiet) -> ModelQuiet {
    match q {
        Quiet::None => ModelQuiet::For(0),
        Quiet::For(d) => ModelQuiet::For(d.as_millis().div_ceil(100) as u32),
        Quiet::Forever => ModelQuiet::Forever,
    }
}

/// A quiet time: none, some ticks (as milliseconds rounding up to them), or forever.
fn quiet_strategy() -> impl Strategy<Value = Quiet> {
    prop_oneof![
        2 => Just(Quiet::None),
        2 => (0u64..600, 0u64..100).prop_map(|(t, off)| Quiet::For(Duration::from_millis((t * 100).saturating_sub(off)))),
        1 => Just(Quiet::Forever),
    ]
}

/// Steps between events, as (kind, raw, sub-tick offset in milliseconds); see [`step_ticks`].
fn steps_strategy(max_len: usize) -> impl Strategy<Value = Vec<(u8, u32, u64)>> {
    let kind = prop_oneof![
        12 => Just(0u8),
        8 => Just(1u8),
        4 => Just(2u8),
        1 => Just(3u8),
        1 => Just(4u8),
    ];
    proptest::collection::vec((kind, any::<u32>(), 0u64..100), 1..max_len)
}

/// A step in ticks for a window of `period` ticks: often the same tick, often a little later,
/// sometimes up to `period / spread`, rarely (the rarer, the larger `spread`) more than a period
/// later, or (kind 4, if `backwards`) backwards by up to half a period.
fn step_ticks(kind: u8, raw: u32, period: u32, spread: u32, backwards: bool) -> i64 {
    let (raw, period, spread) = (i64::from(raw), i64::from(period), i64::from(spread));
    match kind {
        0 => 0,
        1 => 1 + raw % 3,
        2 => raw % (period / spread + 1),
        3 if raw % (spread / 4 + 1) == 0 => period + raw % (2 * period),
        3 => 0,
        _ if backwards => -(1 + raw % (period / 2 + 1)),
        _ => 0,
    }
}

/// How spread out events are (see [`step_ticks`]).
fn spread_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![Just(4u32), Just(64), Just(512)]
}

/// The `now` in milliseconds of `tick` (1-based, as the store counts) plus `offset_ms`.
fn now_of(tick: u32, offset_ms: u64) -> u64 {
    T0 + u64::from(tick - 1) * 100 + offset_ms
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ring_matches_the_exact_model(
        threshold in 1u32..=64,
        period_ticks in 1u32..600,
        period_off in 0u64..100,
        quiet in quiet_strategy(),
        spread in spread_strategy(),
        steps in steps_strategy(400),
    ) {
        let period = Duration::from_millis(u64::from(period_ticks) * 100 - period_off);
        let spec = spec(threshold, period, quiet);
        let store = LocalCounterStore::new(4, T0);
        let mut model = Model::new(model_quiet(&quiet));
        let mut tick: i64 = 1;
        for (i, &(kind, raw, offset)) in steps.iter().enumerate() {
            tick = (tick + step_ticks(kind, raw, period_ticks, spread, true)).max(1);
            let t = tick as u32;
            prop_assert_eq!(store.tick(now_of(t, offset)), t);
            model.ticks.push(t);
            let expected = model.ring_fires(threshold as usize, period_ticks, t);
            let record = store.record(key(0, 7), &spec, now_of(t, offset));
            prop_assert_eq!(record.count, i as u64 + 1);
            prop_assert_eq!(record.fired, expected, "event {} at tick {}", i, t);
        }
    }

    #[test]
    fn buckets_match_the_model_within_one_bucket(
        threshold in 65u32..300,
        period_ticks in 1u32..3_000,
        quiet in quiet_strategy(),
        spread in spread_strategy(),
        steps in steps_strategy(1_500),
    ) {
        let period = Duration::from_millis(u64::from(period_ticks) * 100);
        let spec = spec(threshold, period, quiet);
        let width = i64::from(period_ticks.div_ceil(32));
        let p = i64::from(period_ticks);
        let store = LocalCounterStore::new(4, T0);
        let mut model = Model::new(model_quiet(&quiet));
        let mut tick: i64 = 1;
        for (i, &(kind, raw, offset)) in steps.iter().enumerate() {
            tick += step_ticks(kind, raw, period_ticks, spread, false);
            let t = tick as u32;
            model.ticks.push(t);
            let record = store.record(key(0, 7), &spec, now_of(t, offset));
            prop_assert_eq!(record.count, i as u64 + 1);
            let quiet_over = model.quiet_over(t);
            let n = threshold as usize;
            let (w, span) = (width as u32, period_ticks.div_ceil(width as u32));
            let expected = quiet_over && model.fresh_in_buckets(t, w, span) >= n;
            prop_assert_eq!(record.fired, expected, "event {} at tick {}", i, t);
            if record.fired {
                prop_assert!(quiet_over, "event {} fired in the quiet time", i);
                prop_assert!(model.fresh_within(t, p + width) >= n,
                    "event {} fired with {} fresh events within period + 1 bucket", i, model.fresh_within(t, p + width));
                model.fired = Some((model.ticks.len(), t));
            } else if quiet_over {
                prop_assert!(model.fresh_within(t, p - width) < n,
                    "event {} did not fire with {} fresh events within period - 1 bucket", i, model.fresh_within(t, p - width));
            }
        }
    }
}

#[test]
fn a_fixed_time_burst_fires_once_per_n_events_with_quiet_none() {
    for threshold in [1u32, 7, 64, 65, 1_000] {
        let store = LocalCounterStore::new(4, T0);
        let spec = spec(threshold, Duration::from_secs(60), Quiet::None);
        let fired = (0..10 * threshold)
            .filter(|_| store.record(key(0, 1), &spec, T0 + 5).fired)
            .count();
        assert_eq!(fired, 10, "threshold {threshold}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A shared window fires each member exactly when a window of its own with the same rules
    /// would: same events, same times (clock going backwards included), same firings.
    #[test]
    fn a_group_fires_each_member_as_its_own_window_would(
        members in proptest::collection::vec(
            (prop_oneof![3 => 1u32..=64, 1 => 65u32..200], quiet_strategy()), 1..8),
        period_ticks in 1u32..600,
        spread in spread_strategy(),
        steps in steps_strategy(600),
    ) {
        let period = Duration::from_millis(u64::from(period_ticks) * 100);
        let specs: Vec<MemberSpec> = members
            .iter()
            .map(|&(threshold, quiet)| MemberSpec { threshold, quiet })
            .collect();
        let group = GroupSpec::new(period, &specs);
        let shared = LocalCounterStore::new(4, T0);
        let own = LocalCounterStore::new(1_000, T0);
        let mut tick: i64 = 1;
        for (i, &(kind, raw, offset)) in steps.iter().enumerate() {
            tick = (tick + step_ticks(kind, raw, period_ticks, spread, true)).max(1);
            let now = now_of(tick as u32, offset);
            let mut fired = vec![false; specs.len()];
            let count = shared.record_group(key(0, 7), &group, now, &mut |m, _| fired[m] = true);
            prop_assert_eq!(count, i as u64 + 1);
            for (m, member) in specs.iter().enumerate() {
                let alone = spec(member.threshold, period, member.quiet);
                let record = own.record(key(m as u32, 7), &alone, now);
                prop_assert_eq!(fired[m], record.fired, "member {} at event {}", m, i);
            }
        }
        prop_assert_eq!(shared.len(), 1);
        prop_assert_eq!(own.evictions(), 0);
    }
}
