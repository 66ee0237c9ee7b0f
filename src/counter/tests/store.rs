//! The store: its memory bound and eviction order, removal by slot, user ids, and inputs at the
//! edges (thresholds, periods, clocks going backwards).

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use super::{key, secs, spec, T0};
use crate::counter::arena;
use crate::counter::{
    ActorId, CounterKey, CounterStore, GroupSpec, LocalCounterStore, MemberSpec, Quiet, Record,
    Regroup,
};

fn fired(r: Record) -> bool {
    r.fired
}

#[test]
fn two_million_actors_never_exceed_the_bound() {
    let store = LocalCounterStore::new(100_000, T0);
    let s = spec(5, secs(3_600), Quiet::For(secs(600)));
    for i in 0..2_000_000u32 {
        // time moves 1 ms per actor: 200 s in all, so last-seen times differ
        store.record(key(1, i), &s, T0 + u64::from(i));
        if i % 50_000 == 0 {
            assert!(store.len() <= 100_000, "{} windows", store.len());
        }
    }
    assert!(store.len() <= 100_000, "{} windows", store.len());
    assert!(store.len() >= 80_000, "{} windows", store.len()); // evicts an eighth at a time
    assert!(
        store.evictions() >= 1_900_000,
        "{} evictions",
        store.evictions()
    );
    assert_eq!(store.len() as u64 + store.evictions(), 2_000_000);
    // the most recent actors are all still there
    assert!((1_990_000..2_000_000).all(|i| store.contains(&key(1, i))));
}

#[test]
fn expired_windows_go_first_then_the_least_recently_seen() {
    // one shard of 16: making room frees 2 (an eighth)
    let store = LocalCounterStore::with_shards(16, 1, T0);
    let short = spec(5, secs(1), Quiet::None);
    let long = spec(5, secs(3_600), Quiet::None);
    let quiet = spec(1, secs(1), Quiet::For(secs(3_600)));
    let forever = spec(1, secs(1), Quiet::Forever);
    // 0..3: short windows seen at 10 s (expired at 20 s) -- seen *later* than 3..13
    for i in 0..3 {
        store.record(key(0, i), &short, T0 + 10_000);
    }
    // 3..13: long windows seen at 0..9 s, in order
    for i in 3..13 {
        store.record(key(0, i), &long, T0 + u64::from(i - 3) * 1_000);
    }
    // 13: fired with a quiet hour; 14: fired forever; 15: long, seen at 11 s
    assert!(store.record(key(0, 13), &quiet, T0).fired);
    assert!(store.record(key(0, 14), &forever, T0).fired);
    store.record(key(0, 15), &long, T0 + 11_000);
    assert_eq!(store.len(), 16);

    // At 20 s: the three expired go, which is room enough (13 <= 14): nothing live goes.
    store.record(key(0, 100), &long, T0 + 20_000);
    assert!((0..3).all(|i| !store.contains(&key(0, i))));
    assert!((3..16).all(|i| store.contains(&key(0, i))));
    assert_eq!((store.len(), store.evictions()), (14, 3));

    // Fill up again; nothing is expired now, so the two least recently seen live ones go:
    // 13 and 14 (seen at 0 s, tied with 3; ties go in any order) or 3 -- any two of those three.
    store.record(key(0, 101), &long, T0 + 21_000);
    store.record(key(0, 102), &long, T0 + 22_000);
    store.record(key(0, 103), &long, T0 + 23_000);
    assert_eq!((store.len(), store.evictions()), (15, 5));
    let gone: Vec<u32> = [3, 13, 14]
        .into_iter()
        .filter(|&i| !store.contains(&key(0, i)))
        .collect();
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!((4..13)
        .chain([15, 100, 101, 102, 103])
        .all(|i| store.contains(&key(0, i))));

    // At 4,000 s every long window and the quiet one have expired; the forever one never does.
    store.record(key(0, 104), &long, T0 + 4_000_000);
    assert_eq!(store.len(), 16);
    store.record(key(0, 105), &long, T0 + 4_000_000);
    let forever_left = !gone.contains(&14);
    assert_eq!(store.contains(&key(0, 14)), forever_left);
    assert_eq!(store.len(), 2 + usize::from(forever_left));
}

#[test]
fn regroup_removes_exactly_the_dropped_slots() {
    let store = LocalCounterStore::new(10_000, T0);
    let s = spec(2, secs(60), Quiet::None);
    for slot in 0..6 {
        for i in 0..100 {
            store.record(key(slot, i), &s, T0);
        }
    }
    assert_eq!(store.len(), 600);
    store.regroup(&[], &|slot| slot % 2 == 1, T0);
    assert_eq!(store.len(), 300);
    for slot in 0..6 {
        assert!((0..100).all(|i| store.contains(&key(slot, i)) == (slot % 2 == 1)));
    }
    assert_eq!(store.evictions(), 0);
}

#[test]
fn small_bounds_use_fewer_shards_and_still_hold() {
    for max in [0, 1, 2, 3, 5, 63, 64, 65, 100] {
        let store = LocalCounterStore::new(max, T0);
        let s = spec(2, secs(60), Quiet::None);
        for i in 0..1_000 {
            store.record(key(0, i), &s, T0 + u64::from(i));
            assert!(
                store.len() <= max.max(1),
                "max {max}: {} windows",
                store.len()
            );
        }
        assert!(store.len() >= 1);
        assert_eq!(store.max_windows(), max.max(1));
    }
}

#[test]
fn thresholds_at_the_edges() {
    let store = LocalCounterStore::new(100, T0);
    let hour = secs(3_600);
    let firings = |slot: u32, threshold: u32, events: u32| -> usize {
        let s = spec(threshold, hour, Quiet::Forever);
        (0..events)
            .filter(|_| store.record(key(slot, 1), &s, T0).fired)
            .count()
    };
    let first_firing = |slot: u32, threshold: u32, events: u32| -> Option<u32> {
        let s = spec(threshold, hour, Quiet::Forever);
        (1..=events).find(|_| store.record(key(slot, 1), &s, T0).fired)
    };
    assert_eq!(first_firing(0, 0, 5), Some(1)); // 0 is taken as 1
    assert_eq!(first_firing(1, 1, 5), Some(1));
    assert_eq!(first_firing(2, 2, 5), Some(2));
    assert_eq!(first_firing(3, 64, 100), Some(64));
    assert_eq!(first_firing(4, 65, 100), Some(65));
    assert_eq!(first_firing(5, 1_000_000, 1_000_000), Some(1_000_000));
    assert_eq!(first_firing(6, u32::MAX, 10), None);
    assert_eq!(firings(7, 3, 100), 1); // forever: once
}

#[test]
fn a_threshold_of_two_needs_both_events_within_the_period() {
    let store = LocalCounterStore::new(100, T0);
    let s = spec(2, secs(1), Quiet::None);
    assert!(!fired(store.record(key(0, 1), &s, T0)));
    assert!(!fired(store.record(key(0, 1), &s, T0 + 1_000))); // 10 ticks apart: out
    assert!(fired(store.record(key(0, 1), &s, T0 + 1_950))); // 9 ticks apart: in
    assert!(!fired(store.record(key(0, 1), &s, T0 + 1_950))); // only 1 fresh event
    assert!(fired(store.record(key(0, 1), &s, T0 + 1_960))); // 2 fresh events
}

#[test]
fn zero_and_huge_periods() {
    let store = LocalCounterStore::new(100, T0);
    let zero = spec(2, Duration::ZERO, Quiet::None);
    assert!(!fired(store.record(key(0, 1), &zero, T0)));
    assert!(fired(store.record(key(0, 1), &zero, T0 + 99))); // same 100 ms step
    assert!(!fired(store.record(key(0, 1), &zero, T0 + 100)));
    assert!(!fired(store.record(key(0, 1), &zero, T0 + 200)));
    for (slot, threshold) in [(1, 2), (2, 100)] {
        let huge = spec(threshold, Duration::MAX, Quiet::For(Duration::MAX));
        let fired_at: Vec<u64> = (0..threshold as u64 + 5)
            .filter(|i| store.record(key(slot, 1), &huge, T0 + i * 86_400_000).fired)
            .collect();
        assert_eq!(fired_at, vec![threshold as u64 - 1]);
    }
}

#[test]
fn clocks_going_backwards_and_wild_times_never_panic() {
    let store = LocalCounterStore::new(50, T0);
    let nows = [
        T0,
        T0 - 1,
        0,
        T0 + 5_000,
        T0 + 1_000,
        u64::MAX,
        1,
        T0 + 1_000,
        u64::MAX - 1,
    ];
    let specs = [
        spec(1, secs(1), Quiet::None),
        spec(3, Duration::ZERO, Quiet::For(Duration::MAX)),
        spec(64, Duration::MAX, Quiet::Forever),
        spec(65, secs(60), Quiet::None),
        spec(
            u32::MAX,
            Duration::from_nanos(1),
            Quiet::For(Duration::from_nanos(1)),
        ),
    ];
    for round in 0..20u32 {
        for (i, s) in specs.iter().enumerate() {
            for &now in &nows {
                store.record(
                    key(i as u32, round % 3),
                    s,
                    now.wrapping_add(u64::from(round)),
                );
            }
        }
    }
    // An event stamped before the window's latest still counts (as if at `now`).
    let s = spec(3, secs(10), Quiet::None);
    assert!(!fired(store.record(key(9, 1), &s, T0 + 60_000)));
    assert!(!fired(store.record(key(9, 1), &s, T0 + 30_000)));
    assert!(fired(store.record(key(9, 1), &s, T0 + 30_000)));
    assert!(store.len() <= 50);
}

#[test]
fn a_changed_spec_replaces_the_window() {
    let store = LocalCounterStore::new(100, T0);
    let k = key(0, 1);
    let three = spec(3, secs(60), Quiet::None);
    store.record(k, &three, T0);
    assert_eq!(store.record(k, &three, T0).count, 2);
    // another threshold: a fresh ring
    let five = spec(5, secs(60), Quiet::None);
    assert_eq!(store.record(k, &five, T0).count, 1);
    assert_eq!(store.record(k, &five, T0).count, 2);
    // bucket mode, then another bucket width
    let many = spec(100, secs(60), Quiet::None);
    assert_eq!(store.record(k, &many, T0).count, 1);
    assert_eq!(
        store.record(k, &spec(200, secs(60), Quiet::None), T0).count,
        2
    ); // same width
    assert_eq!(
        store
            .record(k, &spec(100, secs(600), Quiet::None), T0)
            .count,
        1
    );
    assert_eq!(store.len(), 1);
    assert_eq!(store.evictions(), 0);
}

#[test]
fn firing_freshness_survives_billions_of_events() {
    // The firing position is kept in 32 bits and renormalised every 2^29 events; jump the count
    // over 5 * 2^29 positions (more than 2^31), stopping at each renormalisation point.
    let store = LocalCounterStore::new(10, T0);
    let k = key(0, 1);
    let s = spec(2, secs(60), Quiet::For(secs(10)));
    assert!(!fired(store.record(k, &s, T0)));
    assert!(fired(store.record(k, &s, T0)));
    for m in 1..=5u64 {
        store.with_window(&k, |w| w.set_count((m << 29) - 1));
        assert!(!fired(store.record(k, &s, T0 + 1_000))); // quiet
    }
    store.with_window(&k, |w| w.set_count((5 << 29) + 7));
    // quiet time over, both events of the ring within the period and recorded after the firing
    // (without renormalisation the 32-bit comparison would say they were not)
    assert!(fired(store.record(k, &s, T0 + 20_000)));
}

#[test]
fn user_ids_are_stable_per_store_and_keyed_per_store() {
    let a = LocalCounterStore::new(10, T0);
    let b = LocalCounterStore::new(10, T0);
    assert_eq!(a.user_id("alice"), a.user_id("alice"));
    assert_ne!(a.user_id("alice"), a.user_id("alice "));
    assert_ne!(a.user_id("alice"), b.user_id("alice"));
    assert_ne!(a.user_id("").bits()[0], a.user_id("").bits()[1]);
}

#[test]
fn ip_actor_ids_fold_ipv4_mapped_addresses() {
    let v4: IpAddr = "192.0.2.1".parse().unwrap();
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
    assert_eq!(ActorId::ip(v4), ActorId::ip(mapped));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    assert_eq!(ActorId::ip(v6).bits(), [0x2001_0db8_0000_0000, 1]);
    let k = CounterKey {
        slot: 1,
        actor: ActorId::ip(v6),
    };
    assert_ne!(k, CounterKey { slot: 2, ..k });
}

#[test]
fn windows_are_small() {
    let store = LocalCounterStore::new(10, T0);
    let bytes = |threshold: u32| {
        let k = key(threshold, 1);
        store.record(k, &spec(threshold, secs(60), Quiet::None), T0);
        store.with_window(&k, |w| w.heap_bytes()).unwrap_or(0)
    };
    assert_eq!(bytes(1), 32);
    assert_eq!(bytes(2), 32);
    assert_eq!(bytes(10), 64);
    assert_eq!(bytes(64), 280);
    assert_eq!(bytes(65), 288);
    assert_eq!(
        std::mem::size_of::<(CounterKey, super::super::arena::Slot)>(),
        32
    );
}

fn member(threshold: u32, quiet: Quiet) -> MemberSpec {
    MemberSpec { threshold, quiet }
}

/// Records one event in a group window; returns the indexes of the members that fired.
fn record_group(store: &LocalCounterStore, k: CounterKey, g: &GroupSpec, now: u64) -> Vec<usize> {
    let mut fired = Vec::new();
    store.record_group(k, g, now, &mut |i, _| fired.push(i));
    fired
}

#[test]
fn regroup_copies_counts_and_firings_into_the_new_layout() {
    let store = LocalCounterStore::new(100, T0);
    let q = Quiet::For(secs(600));
    let old = GroupSpec::new(secs(60), &[member(3, q), member(3, Quiet::None)]);
    let k = key(0, 1);
    assert!(record_group(&store, k, &old, T0).is_empty());
    assert!(record_group(&store, k, &old, T0).is_empty());
    // member 1 goes from 3 to 4; a member of threshold 2 joins (it counts the events held)
    let new = GroupSpec::new(
        secs(60),
        &[member(2, Quiet::None), member(3, q), member(4, Quiet::None)],
    );
    let moved = Regroup {
        from: 0,
        old: &old,
        to: 1,
        new: &new,
        continues: &[None, Some(0), Some(1)],
    };
    store.regroup(&[moved], &|slot| slot == 1, T0);
    assert!(!store.contains(&k));
    let k1 = key(1, 1);
    assert_eq!(store.with_window(&k1, |w| w.count()), Some(2));
    assert_eq!(record_group(&store, k1, &new, T0), [0, 1]);
    assert_eq!(record_group(&store, k1, &new, T0), [2]);
    // member 1 (was 0) keeps its firing: quiet; moving to buckets keeps the counts too
    let buckets = GroupSpec::new(secs(60), &[member(3, q), member(100, Quiet::None)]);
    let moved = Regroup {
        from: 1,
        old: &new,
        to: 2,
        new: &buckets,
        continues: &[Some(1), None],
    };
    store.regroup(&[moved], &|slot| slot == 2, T0);
    let k2 = key(2, 1);
    assert_eq!(store.with_window(&k2, |w| w.count()), Some(4));
    for _ in 0..95 {
        assert!(record_group(&store, k2, &buckets, T0 + 1_000).is_empty());
    }
    assert_eq!(record_group(&store, k2, &buckets, T0 + 1_000), [1]); // 4 copied + 96
    assert_eq!(store.len(), 1);
}

#[test]
fn a_window_counts_once_per_member_against_the_bound() {
    let store = LocalCounterStore::new(10_000, T0);
    let ten: Vec<MemberSpec> = (1..=10).map(|n| member(n, Quiet::None)).collect();
    let group = GroupSpec::new(secs(60), &ten);
    for i in 0..5_000 {
        record_group(&store, key(0, i), &group, T0 + u64::from(i));
    }
    // 10 members per window: at most 1,000 windows, as 10 windows of their own per actor would
    // (each shard keeps 13 to 15 windows of its 156 members' share)
    assert!(store.len() <= 1_000, "{}", store.len());
    assert!(store.len() >= 800, "{}", store.len());
    assert_eq!(store.evictions(), 5_000 - store.len() as u64);
    // the most recent actors are the ones kept
    assert!(store.contains(&key(0, 4_999)));
    assert!(!store.contains(&key(0, 0)));
    // a window heavier than its shard's share is still held, alone in its shard
    let tiny = LocalCounterStore::new(8, T0);
    for i in 0..20 {
        record_group(&tiny, key(0, i), &group, T0 + u64::from(i));
        assert!(tiny.len() <= 8);
    }
    assert!(tiny.contains(&key(0, 19)));
    let k = key(0, 19);
    let fired: usize = (0..9)
        .map(|_| record_group(&tiny, k, &group, T0 + 20).len())
        .sum();
    // 10 events within one tick: member n fires 10 / n times (the first event's firing of
    // member 1 not counted here)
    let expected: u32 = (1..=10).map(|n| 10 / n).sum::<u32>() - 1;
    assert_eq!(fired, expected as usize);
}

#[test]
fn shards_fill_their_tables() {
    use crate::counter::store::{shard_count, table_capacity};
    for max in [
        1, 2, 7, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 123_457,
    ] {
        let n = shard_count(max, 128);
        assert!((1..=128).contains(&n), "max {max}: {n} shards");
        // the smallest table holding the largest share, and how full the shares make it
        let share = max.div_ceil(n);
        let buckets = (2..40)
            .map(|b| 1usize << b)
            .find(|&b| table_capacity(b) >= share)
            .unwrap();
        let fill = max as f64 / (n * table_capacity(buckets)) as f64;
        if max >= 100_000 {
            assert!(n > 64, "max {max}: {n} shards");
            assert!(fill > 0.98, "max {max}: {n} shards, tables {fill:.3} full");
        }
        // a table that size is what std's map allocates for the share, and holds it
        let map: std::collections::HashMap<u32, ()> =
            std::collections::HashMap::with_capacity(share);
        assert_eq!(map.capacity(), table_capacity(buckets), "max {max}");
    }
    assert_eq!(shard_count(16, 1), 1);
    assert_eq!(shard_count(100, 128), 34);
}

#[test]
fn shard_choice_is_uniform() {
    use crate::counter::store::shard_index;
    use std::hash::BuildHasher;
    let hasher = crate::fasthash::FoldState::random();
    for shards in [1, 3, 64, 70, 112, 128] {
        let mut counts = vec![0u32; shards];
        let n = 200_000u32;
        for i in 0..n {
            counts[shard_index(hasher.hash_one(key(1, i)), shards)] += 1;
        }
        let mean = f64::from(n) / shards as f64;
        for (s, &c) in counts.iter().enumerate() {
            // binomial: sd = sqrt(mean) (at most 54 here); 6 sd
            assert!(
                (f64::from(c) - mean).abs() < 6.0 * mean.sqrt() + 1.0,
                "{shards} shards: shard {s} got {c}, mean {mean:.0}"
            );
        }
    }
}

#[test]
fn churn_keeps_the_bound_and_the_tables_their_size() {
    // 112 shards of 892-893: every table 1,024 buckets (896 windows) once full; churn with
    // evictions and removals never makes one grow, and the store never exceeds its bound.
    let store = LocalCounterStore::new(100_000, T0);
    let s = spec(10, secs(3_600), Quiet::None);
    let other = spec(3, secs(3_600), Quiet::None);
    for i in 0..600_000u32 {
        store.record(key(1, i), &s, T0 + u64::from(i));
        if i % 7 == 0 {
            // a window replaced by one of another group: a removal and an insert
            store.record(key(1, i / 2), &other, T0 + u64::from(i));
        }
        if i % 25_000 == 0 {
            assert!(store.len() <= 100_000, "{} windows", store.len());
        }
    }
    assert!(store.len() <= 100_000, "{} windows", store.len());
    assert!(store.len() >= 85_000, "{} windows", store.len());
    assert!(
        store.table_capacities().iter().all(|&c| c <= 896),
        "{:?}",
        store.table_capacities()
    );
}

#[test]
fn churn_reuses_the_words_of_evicted_windows() {
    // Windows of 8 words (64 bytes) in chunks of 1,024 words: a full shard takes the chunks
    // that its share of windows fill (112 shards of 892-893: 7,144 words, 7 chunks).
    let store = LocalCounterStore::new(100_000, T0);
    let shards = store.table_capacities().len();
    let chunk = (arena::CHUNK_WORDS + 7) * 8;
    let ten = spec(10, secs(3_600), Quiet::None);
    for i in 0..200_000u32 {
        store.record(key(1, i), &ten, T0 + u64::from(i));
    }
    let full = store.arena_bytes();
    let share = 100_000usize.div_ceil(shards);
    assert!(
        full <= shards * (share * 8).div_ceil(arena::CHUNK_WORDS) * chunk,
        "{full} bytes"
    );
    for i in 200_000..400_000u32 {
        store.record(key(1, i), &ten, T0 + u64::from(i));
    }
    assert_eq!(
        store.arena_bytes(),
        full,
        "evicted windows' words are reused"
    );
    // Windows of another length (threshold 3: 5 words) take over: the words of the old length
    // are let go once they outweigh the live windows', so the arenas stay within about twice
    // what the windows hold.
    let three = spec(3, secs(3_600), Quiet::None);
    for i in 400_000..700_000u32 {
        store.record(key(1, i), &three, T0 + u64::from(i));
    }
    assert!(store.len() <= 100_000);
    assert!(
        store.arena_bytes() <= 2 * 100_000 * 5 * 8 + 2 * shards * chunk,
        "{} bytes",
        store.arena_bytes()
    );
}

#[test]
fn windows_longer_than_a_chunk_count_and_are_evicted_like_others() {
    // 1,100 members, thresholds 1 to 1,100 (64 in the ring, the rest in buckets): 1,172 words,
    // more than a chunk's 1,024, so each window has an allocation of its own in the arena.
    let members: Vec<MemberSpec> = (1..=1_100).map(|n| member(n, Quiet::None)).collect();
    let group = GroupSpec::new(secs(60), &members);
    assert!(group.layout().len() > arena::CHUNK_WORDS);
    let store = LocalCounterStore::new(4_000, T0);
    let k = key(0, 1);
    let fired: usize = (0..70)
        .map(|_| record_group(&store, k, &group, T0).len())
        .sum();
    // 70 events at one time: member n fires once per n of them
    assert_eq!(fired, (1..=1_100).map(|n| 70 / n).sum::<usize>());
    assert_eq!(store.with_window(&k, |w| w.count()), Some(70));
    // A store of one shard holds one such window (heavier than the share: held alone), and
    // the next one takes its words: no new allocation, no rebuild of the arena.
    let one = LocalCounterStore::new(1, T0);
    let words = |k: &CounterKey| one.with_window(k, |w| w.cells().as_ptr() as usize);
    record_group(&one, key(0, 1), &group, T0);
    let first = words(&key(0, 1));
    let bytes = one.arena_bytes();
    for i in 2..50 {
        record_group(&one, key(0, i), &group, T0 + u64::from(i));
        assert_eq!(one.len(), 1);
        assert_eq!(words(&key(0, i)), first);
    }
    assert_eq!(one.arena_bytes(), bytes);
    assert_eq!(one.evictions(), 48);
}
