//! The runtime action store with 100,000 actions in force: adding one (replacing an actor's
//! action, and a new actor in a full store, which evicts the oldest), and the per-request
//! lookups (an address that is blocked, one that is not).
//!
//! Run: `cargo bench --bench actions`.

use std::net::{IpAddr, Ipv4Addr};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sqreen::action::{Action, ActionKind, ActionSource, ActionStore, Actor};

const IN_FORCE: u32 = 100_000;

fn block(store: &ActionStore, ip: u32, until: Option<u64>) -> Action {
    Action {
        id: store.next_id(),
        actor: Actor::ip(IpAddr::V4(Ipv4Addr::from(ip))),
        kind: ActionKind::Block,
        until,
        source: ActionSource::Api,
    }
}

/// A store of capacity `cap` holding `IN_FORCE` blocks on 10.0.0.0 onwards, half of them
/// expiring far in the future, half permanent.
fn filled(cap: usize) -> ActionStore {
    let store = ActionStore::with_capacity(cap);
    for i in 0..IN_FORCE {
        let until = (i % 2 == 0).then_some(u64::MAX / 2);
        store.put(block(&store, 0x0a00_0000 + i, until), 0);
    }
    assert_eq!(store.len(), IN_FORCE as usize);
    store
}

fn bench_actions(c: &mut Criterion) {
    let mut group = c.benchmark_group("actions_100k");
    let store = filled(2 * IN_FORCE as usize);
    let mut n = 0u32;
    group.bench_function("put_replace", |b| {
        b.iter(|| {
            n = (n + 1) % 1024;
            black_box(store.put(block(&store, 0x0a00_0000 + n, Some(1 << 40)), 1));
        })
    });
    let full = filled(IN_FORCE as usize);
    let mut m = 0u32;
    group.bench_function("put_new_evicting", |b| {
        b.iter(|| {
            m = m.wrapping_add(1);
            black_box(full.put(block(&full, 0xc000_0000 + m, None), 1));
        })
    });
    assert!(full.evictions() > 0);
    assert_eq!(full.len(), IN_FORCE as usize);
    let hit = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 77_777));
    let miss = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    group.bench_function("lookup_hit", |b| {
        b.iter(|| black_box(store.lookup_ip(black_box(hit), 1)))
    });
    group.bench_function("lookup_miss", |b| {
        b.iter(|| black_box(store.lookup_ip(black_box(miss), 1)))
    });
    group.finish();
}

criterion_group!(benches, bench_actions);
criterion_main!(benches);
