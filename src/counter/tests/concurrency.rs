//! Many threads on one window: counts stay exact and firings unique.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use super::{key, secs, spec, T0};
use crate::counter::{CounterStore, GroupSpec, LocalCounterStore, MemberSpec, Quiet, WindowSpec};

const THREADS: usize = 4;
const TOTAL: u64 = 100_000;

/// Runs `record` `TOTAL` times in all, from `THREADS` threads released together.
fn on_threads(record: impl Fn() + Sync) {
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..TOTAL / THREADS as u64 {
                    record();
                }
            });
        }
    });
}

/// `THREADS` threads make `TOTAL` records on one key; `now` gives each record's time from a
/// shared counter of records made. Returns (highest count seen, firings, final count).
fn hammer(spec: WindowSpec, now: impl Fn(u64) -> u64 + Sync) -> (u64, u64, u64) {
    let store = LocalCounterStore::new(100, T0);
    let made = AtomicU64::new(0);
    let fired = AtomicU64::new(0);
    let highest = AtomicU64::new(0);
    on_threads(|| {
        let i = made.fetch_add(1, Ordering::Relaxed);
        let record = store.record(key(3, 42), &spec, now(i));
        if record.fired {
            fired.fetch_add(1, Ordering::Relaxed);
        }
        highest.fetch_max(record.count, Ordering::Relaxed);
    });
    let count = store.with_window(&key(3, 42), |w| w.count()).unwrap_or(0);
    (highest.into_inner(), fired.into_inner(), count)
}

#[test]
fn threads_on_one_key_count_exactly_and_fire_once_forever() {
    // a fixed time
    let s = spec(1_000, secs(3_600), Quiet::Forever);
    assert_eq!(hammer(s, |_| T0 + 1), (TOTAL, 1, TOTAL));
    // a shared clock moving 1 ms every record
    assert_eq!(hammer(s, |i| T0 + i), (TOTAL, 1, TOTAL));
    // bucket mode, the same
    let s = spec(5_000, secs(3_600), Quiet::Forever);
    assert_eq!(hammer(s, |_| T0 + 1), (TOTAL, 1, TOTAL));
    assert_eq!(hammer(s, |i| T0 + i), (TOTAL, 1, TOTAL));
}

#[test]
fn threads_on_one_key_with_quiet_none_fire_at_most_once_per_n_events() {
    // Single-threaded this is exactly TOTAL / 100 = 1,000 firings. Concurrently a check that
    // cannot believe its read declines and a later record fires instead, so a few bursts end
    // later than their N-th event: fewer firings, never more.
    let (highest, fired, count) = hammer(spec(100, secs(3_600), Quiet::None), |_| T0 + 1);
    assert_eq!((highest, count), (TOTAL, TOTAL));
    assert!((900..=1_000).contains(&fired), "{fired} firings");
    eprintln!("ring, threshold 100, Quiet::None, {THREADS} threads: {fired} firings of 1,000");
    // bucket mode: exactly 100 single-threaded
    let (highest, fired, count) = hammer(spec(1_000, secs(3_600), Quiet::None), |_| T0 + 1);
    assert_eq!((highest, count), (TOTAL, TOTAL));
    assert!((90..=100).contains(&fired), "{fired} firings");
    eprintln!("buckets, threshold 1000, Quiet::None, {THREADS} threads: {fired} firings of 100");
}

#[test]
fn threads_with_a_quiet_time_fire_once_per_quiet_period() {
    // Time moves 1 ms per record: 100 s in all. A 10 s quiet time allows one firing per 10 s.
    let (_, fired, count) = hammer(spec(50, secs(3_600), Quiet::For(secs(10))), |i| T0 + i);
    assert_eq!(count, TOTAL);
    assert!((9..=10).contains(&fired), "{fired} firings");
}

#[test]
fn threads_on_many_keys_insert_and_evict_without_exceeding_the_bound() {
    let store = Arc::new(LocalCounterStore::new(1_000, T0));
    let s = spec(3, Duration::from_secs(60), Quiet::None);
    thread::scope(|scope| {
        for t in 0..THREADS as u32 {
            let store = &store;
            scope.spawn(move || {
                for i in 0..20_000u32 {
                    store.record(key(t, i % 3_000), &s, T0 + u64::from(i));
                    if i % 1_000 == 0 {
                        assert!(store.len() <= 1_000);
                    }
                }
            });
        }
    });
    assert!(store.len() <= 1_000);
    assert!(store.evictions() > 0);
}

#[test]
fn threads_on_a_shared_window_fire_each_member_at_most_once_per_n_events() {
    // Members: ring 10 and 100, buckets 1,000 (Quiet::None), and ring 50 forever. Single-threaded
    // at a fixed time: 10,000, 1,000, 100 and 1 firings.
    let members = [
        MemberSpec {
            threshold: 10,
            quiet: Quiet::None,
        },
        MemberSpec {
            threshold: 100,
            quiet: Quiet::None,
        },
        MemberSpec {
            threshold: 1_000,
            quiet: Quiet::None,
        },
        MemberSpec {
            threshold: 50,
            quiet: Quiet::Forever,
        },
    ];
    let group = GroupSpec::new(secs(3_600), &members);
    let store = LocalCounterStore::new(100, T0);
    let fired: [AtomicU64; 4] = Default::default();
    on_threads(|| {
        store.record_group(key(3, 42), &group, T0 + 1, &mut |m, _| {
            fired[m].fetch_add(1, Ordering::Relaxed);
        });
    });
    let fired = fired.map(AtomicU64::into_inner);
    assert_eq!(store.with_window(&key(3, 42), |w| w.count()), Some(TOTAL));
    assert!((9_000..=10_000).contains(&fired[0]), "{fired:?}");
    assert!((900..=1_000).contains(&fired[1]), "{fired:?}");
    assert!((90..=100).contains(&fired[2]), "{fired:?}");
    assert_eq!(fired[3], 1);
    eprintln!("shared window, {THREADS} threads: {fired:?} firings of [10000, 1000, 100, 1]");
}
