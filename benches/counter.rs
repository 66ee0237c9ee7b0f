//! The counter store (`sqreen::counter`): the cost of `record` on a hot key, how it scales over
//! threads, the cost of inserting new actors (with and without evictions), and the bytes a
//! window takes.
//!
//! - `record/*`: one thread, one key, ring (threshold 10) and bucket (threshold 1,000) windows,
//!   at a fixed time and with time moving 1 ms per record.
//! - `threads/*`: std threads started outside the timed part, `iter_custom` timing the wall clock
//!   from a barrier to the last thread's end; each iteration is one record *per thread*, and the
//!   reported time is the wall time divided by the number of threads, i.e. the store's time per
//!   record at that parallelism (lower is better; equal to `threads/1` means no scaling).
//! - `insert/*`: new actors into a store already full (so every insert evicts, amortised).
//! - Printed before the benches (with `println!`): the time per insert of 1,000,000 new actors
//!   into a fresh store of 1,000,000 and of 100,000 windows (all at one time, so nothing
//!   expires), and the live heap bytes per window after inserting 100,000 windows, from a
//!   counting global allocator.
//!
//! Run: `cargo bench --bench counter`.

use std::alloc::System;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sqreen::counter::{ActorId, CounterKey, CounterStore, LocalCounterStore, Quiet, WindowSpec};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

/// Counts live heap bytes (the `stats_alloc` crate wraps the system allocator, so this crate
/// needs no `unsafe` of its own, benches included).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const T0: u64 = 1_700_000_000_000;

fn key(slot: u32, i: u32) -> CounterKey {
    CounterKey {
        slot,
        actor: ActorId::ip(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i))),
    }
}

fn spec(threshold: u32) -> WindowSpec {
    WindowSpec {
        threshold,
        period: Duration::from_secs(60),
        quiet: Quiet::For(Duration::from_secs(600)),
    }
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("record");
    for (name, threshold) in [("ring10", 10), ("buckets1000", 1_000)] {
        let store = LocalCounterStore::new(1_000_000, T0);
        let s = spec(threshold);
        g.bench_function(format!("hot_key_{name}_fixed_time"), |b| {
            b.iter(|| store.record(black_box(key(0, 1)), &s, black_box(T0 + 5)))
        });
        let store = LocalCounterStore::new(1_000_000, T0);
        let mut now = T0;
        g.bench_function(format!("hot_key_{name}_moving_time"), |b| {
            b.iter(|| {
                now += 1;
                store.record(black_box(key(0, 1)), &s, now)
            })
        });
    }
    g.finish();
}

/// `threads` threads each make `iters` records, thread `t` on key `keys(t)`; returns the wall
/// time divided by `threads`.
fn parallel(store: &LocalCounterStore, threads: u32, iters: u64, keys: fn(u32) -> u32) -> Duration {
    let barrier = Barrier::new(threads as usize + 1);
    let s = spec(10);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let k = key(0, keys(t));
                    barrier.wait();
                    for _ in 0..iters {
                        black_box(store.record(k, &s, T0 + 5));
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            let _ = h.join();
        }
        start.elapsed() / threads
    })
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("threads");
    let store = LocalCounterStore::new(1_000_000, T0);
    g.bench_function("1_thread", |b| {
        b.iter_custom(|iters| parallel(&store, 1, iters, |_| 1))
    });
    g.bench_function("2_threads_2_keys", |b| {
        b.iter_custom(|iters| parallel(&store, 2, iters, |t| 100 + t))
    });
    g.bench_function("2_threads_1_key", |b| {
        b.iter_custom(|iters| parallel(&store, 2, iters, |_| 1))
    });
    g.finish();
}

fn insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert");
    // A store of 100,000 windows, full: every new actor makes room (amortised eviction).
    let store = LocalCounterStore::new(100_000, T0);
    let s = spec(10);
    let mut next = 0u32;
    while store.len() < 100_000 && next < 1_000_000 {
        store.record(key(1, next), &s, T0);
        next += 1;
    }
    let mut now = T0;
    g.bench_function("new_actor_full_store_100k", |b| {
        b.iter(|| {
            next = next.wrapping_add(1);
            now += 1;
            store.record(key(1, next), &s, now)
        })
    });
    g.finish();
}

/// Median time per insert of `n` new actors into fresh stores of `max` windows, over 3 runs, all
/// at one time (nothing expires: only the least recently seen are evicted).
fn insert_million(max: usize, n: u32) -> (Duration, u64) {
    let s = spec(10);
    let mut runs: Vec<(Duration, u64)> = (0..3)
        .map(|_| {
            let store = LocalCounterStore::new(max, T0);
            let start = Instant::now();
            for i in 0..n {
                store.record(key(1, i), &s, T0);
            }
            (start.elapsed() / n, store.evictions())
        })
        .collect();
    runs.sort();
    runs[1]
}

/// Live heap bytes per window after inserting 100,000 windows of `threshold`.
fn bytes_per_window(threshold: u32) -> f64 {
    let region = Region::new(GLOBAL);
    let store = LocalCounterStore::new(1_000_000, T0);
    let s = spec(threshold);
    for i in 0..100_000 {
        store.record(key(1, i), &s, T0);
    }
    let change = region.change();
    let bytes = change.bytes_allocated as isize - change.bytes_deallocated as isize
        + change.bytes_reallocated;
    assert_eq!(store.len(), 100_000);
    bytes as f64 / 100_000.0
}

fn figures(_: &mut Criterion) {
    for max in [1_000_000, 100_000] {
        let (per_insert, evictions) = insert_million(max, 1_000_000);
        println!(
            "insert 1,000,000 new actors, max_windows {max}: {} ns/insert ({evictions} evictions)",
            per_insert.as_nanos()
        );
    }
    for threshold in [2, 10, 64, 1_000] {
        println!(
            "bytes per window, 100,000 windows of threshold {threshold}: {:.1}",
            bytes_per_window(threshold)
        );
    }
}

criterion_group!(benches, figures, record, threads, insert);
criterion_main!(benches);
