use super::*;
use crate::action::{ActionKind, ActionSource};

fn block(store: &ActionStore, actor: Actor, until: Option<Millis>) -> Action {
    Action {
        id: store.next_id(),
        actor,
        kind: ActionKind::Block,
        until,
        source: ActionSource::Api,
    }
}

#[test]
fn most_specific_active_action_wins() {
    let s = ActionStore::new();
    let wide = s.put(block(&s, Actor::Ip("10.0.0.0/8".parse().unwrap()), None), 0);
    let narrow = s.put(
        block(&s, Actor::Ip("10.1.0.0/16".parse().unwrap()), Some(100)),
        0,
    );
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    assert_eq!(s.lookup_ip(ip, 50).unwrap().id, narrow.id);
    // once the narrow one expires, the wide one still applies
    assert_eq!(s.lookup_ip(ip, 100).unwrap().id, wide.id);
    assert!(s.lookup_ip("11.0.0.1".parse().unwrap(), 0).is_none());
}

#[test]
fn users_put_replace_remove_and_expire() {
    let s = ActionStore::new();
    let a = s.put(block(&s, Actor::User("mallory".into()), Some(10)), 0);
    assert!(s.lookup_user("mallory", 9).is_some());
    assert!(s.lookup_user("mallory", 10).is_none());
    let b = s.put(block(&s, Actor::User("mallory".into()), None), 0);
    assert_eq!(s.lookup_user("mallory", 1_000).unwrap().id, b.id);
    assert!(!s.remove(a.id, 0), "replaced action is gone");
    assert!(s.remove(b.id, 0));
    assert!(s.lookup_user("mallory", 0).is_none());
}

#[test]
fn writes_drop_expired_entries_and_list_is_ordered() {
    let s = ActionStore::new();
    s.put(block(&s, Actor::User("a".into()), Some(5)), 0);
    s.put(
        block(&s, Actor::Ip("192.0.2.1/32".parse().unwrap()), None),
        0,
    );
    s.put(block(&s, Actor::User("b".into()), None), 10);
    let ids: Vec<_> = s.list(10).iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![2, 3]);
    assert_eq!(
        s.users.load(Ordering::Relaxed),
        1,
        "expired 'a' was dropped"
    );
}

#[test]
fn observers_see_changes_and_apply_replays_them() {
    let s = ActionStore::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    s.observe(move |c| sink.lock().push(c.clone()));
    let a = s.put(block(&s, Actor::User("x".into()), None), 0);
    assert_eq!(
        s.remove_actor(&Actor::User("x".into()), 0),
        1,
        "remove by actor"
    );
    let changes = seen.lock().clone();
    assert_eq!(
        changes,
        vec![
            ActionChange::Put(a.clone()),
            ActionChange::Removed(a.clone())
        ]
    );

    // the replica's own action 1 is not the replayed one: ids are each store's own
    let replica = ActionStore::new();
    let own = replica.put(block(&replica, Actor::User("y".into()), None), 0);
    assert_eq!(own.id, a.id);
    let replayed = replica.apply(&changes[0], 0).unwrap();
    assert_ne!(
        replayed.id, own.id,
        "a replayed action gets an id of the replica's"
    );
    assert_eq!(replica.lookup_user("x", 0).unwrap().id, replayed.id);
    assert!(replica.lookup_user("y", 0).is_some());
    // removed by actor, whatever its id there
    replica.apply(&changes[1], 0);
    assert!(replica.lookup_user("x", 0).is_none());
}

#[test]
fn a_full_store_drops_expired_actions_first_then_the_oldest() {
    let s = ActionStore::with_capacity(3);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    s.observe(move |c| sink.lock().push(c.clone()));
    let user = |n: &str| Actor::User(n.into());
    let a = s.put(block(&s, user("a"), None), 0);
    let b = s.put(block(&s, user("b"), Some(50)), 0);
    let c = s.put(block(&s, user("c"), None), 0);
    assert_eq!(s.len(), 3);
    // full, but b has expired: it goes, not the oldest
    let d = s.put(block(&s, user("d"), None), 60);
    let ids: Vec<_> = s.list(60).iter().map(|x| x.id).collect();
    assert_eq!(ids, vec![a.id, c.id, d.id]);
    assert_eq!(s.evictions(), 0);
    // full of active actions: the oldest (a) goes, and observers hear of it
    let e = s.put(block(&s, user("e"), None), 60);
    let ids: Vec<_> = s.list(60).iter().map(|x| x.id).collect();
    assert_eq!(ids, vec![c.id, d.id, e.id]);
    assert_eq!(s.evictions(), 1);
    assert!(s.lookup_user("a", 60).is_none());
    assert!(seen.lock().contains(&ActionChange::Evicted(a.clone())));
    // replacing an actor's action does not evict
    s.put(block(&s, user("c"), None), 60);
    assert_eq!((s.len(), s.evictions()), (3, 1));
    let _ = b;
}

#[test]
fn ip_lookups_follow_prefixes_across_families() {
    let s = ActionStore::new();
    let net = |t: &str| Actor::Ip(t.parse().unwrap());
    s.put(block(&s, net("192.0.2.0/24"), None), 0);
    s.put(block(&s, net("2001:db8:1::/48"), None), 0);
    s.put(block(&s, net("2001:db8:1:2::/64"), None), 0);
    s.put(block(&s, net("::/0"), Some(10)), 0);
    let ip = |t: &str| t.parse::<IpAddr>().unwrap();
    let found = |t: &str, now| s.lookup_ip(ip(t), now).map(|a| a.actor.to_string());
    assert_eq!(found("192.0.2.200", 0).unwrap(), "ip 192.0.2.0/24");
    assert_eq!(found("::ffff:192.0.2.7", 0).unwrap(), "ip 192.0.2.0/24");
    assert_eq!(found("192.0.3.1", 0), None, "::/0 holds no IPv4");
    assert_eq!(found("2001:db8:1:2::9", 0).unwrap(), "ip 2001:db8:1:2::/64");
    assert_eq!(found("2001:db8:1:3::9", 0).unwrap(), "ip 2001:db8:1::/48");
    assert_eq!(found("2001:db9::1", 5).unwrap(), "ip ::/0");
    assert_eq!(found("2001:db9::1", 10), None);
    // a single address, both families
    s.put(block(&s, net("198.51.100.7/32"), None), 0);
    s.put(block(&s, net("2001:db8:ffff::7/128"), None), 0);
    assert!(found("198.51.100.7", 0).is_some());
    assert!(found("198.51.100.8", 0).is_none());
    assert_eq!(found("2001:db8:ffff::7", 0).unwrap(), "ip 2001:db8:ffff::7");
}

/// Random puts, removals and expiries agree with a plain model: every active action is found
/// where the model has it, the cap holds, and evictions go oldest first.
#[test]
fn random_operations_match_a_model() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(7);
    let cap = 40;
    let s = ActionStore::with_capacity(cap);
    // actor -> (id, until)
    let mut model: std::collections::BTreeMap<String, (u64, Option<Millis>)> = Default::default();
    for step in 0..5_000u64 {
        let now = step;
        let n = rng.random_range(0..80);
        let actor = if n % 2 == 0 {
            Actor::User(format!("u{n}"))
        } else {
            Actor::Ip(format!("10.0.{n}.0/24").parse().unwrap())
        };
        let key = actor.to_string();
        match rng.random_range(0..10) {
            0..=6 => {
                let until = rng.random_bool(0.5).then(|| now + rng.random_range(1..200));
                let a = s.put(block(&s, actor, until), now);
                model.retain(|_, (_, u)| u.is_none_or(|u| u > now));
                if !model.contains_key(&key) && model.len() >= cap {
                    let oldest = model.iter().min_by_key(|(_, (id, _))| *id).unwrap();
                    let oldest = oldest.0.clone();
                    model.remove(&oldest);
                }
                model.insert(key, (a.id, until));
            }
            7..=8 => {
                let removed = s.remove_actor(&actor, now) == 1;
                let was = model
                    .remove(&key)
                    .is_some_and(|(_, u)| u.is_none_or(|u| u > now));
                assert!(!was || removed, "step {step}");
            }
            _ => {}
        }
        assert!(s.len() <= cap);
        let listed: Vec<(String, u64)> = s
            .list(now)
            .iter()
            .map(|a| (a.actor.to_string(), a.id))
            .collect();
        let mut expected: Vec<(String, u64)> = model
            .iter()
            .filter(|(_, (_, u))| u.is_none_or(|u| u > now))
            .map(|(k, (id, _))| (k.clone(), *id))
            .collect();
        expected.sort_by_key(|(_, id)| *id);
        assert_eq!(listed, expected, "step {step}");
    }
    assert!(s.evictions() > 0);
}

/// A write that panics midway publishes nothing and leaves the store as it was: the
/// shards readers see and the writers' book agree, and the store goes on working.
#[test]
fn a_panic_inside_a_write_keeps_the_old_state() {
    let s = ActionStore::with_capacity(3);
    let a = s.put(
        block(&s, Actor::Ip("192.0.2.1/32".parse().unwrap()), Some(500)),
        0,
    );
    s.put(block(&s, Actor::User("u".into()), None), 0);
    let half = block(&s, Actor::Ip("192.0.2.0/24".parse().unwrap()), None);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.write(|w| {
            // the id and expiry books and the maps changed, then the write fails
            w.remove_id(a.id);
            w.insert(Arc::new(half.clone()));
            panic!("injected");
        })
    }));
    assert!(caught.is_err());
    // nothing of the failed write is visible, and the book matches the shards again
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(s.lookup_ip(ip, 1).unwrap().id, a.id);
    assert!(s.lookup_ip("192.0.2.9".parse().unwrap(), 1).is_none());
    assert_eq!(s.len(), 2);
    {
        let book = s.book.lock();
        assert_eq!(book.by_id.len(), 2);
        assert_eq!(book.expiring.len(), 1);
        assert_eq!(book.lengths.0[usize::from(V4_LEN + 32)], 1);
        assert_eq!(book.lengths.0[usize::from(V4_LEN + 24)], 0);
        assert_eq!(book.users, 1);
        assert!(book.present == s.present());
    }
    // and it goes on: the cap and eviction work from the restored book
    s.put(block(&s, Actor::User("v".into()), None), 1);
    s.put(block(&s, Actor::User("w".into()), None), 1);
    assert_eq!(s.len(), 3);
    assert_eq!(s.evictions(), 1);
    assert!(s.lookup_ip(ip, 1).is_none(), "the oldest, a, was evicted");
}

/// A write copies only the shards it changes: the others are the very ones readers had.
#[test]
fn a_write_copies_only_the_shards_it_changes() {
    let s = ActionStore::with_capacity(1_000);
    let ip = |i: u32| Actor::ip(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
    for i in 0..1_000 {
        s.put(block(&s, ip(i), None), 0);
    }
    let shards = || -> Vec<usize> { (0..s.shards.count()).map(|i| s.shards.address(i)).collect() };
    let changed = |before: &[usize], after: &[usize]| {
        before.iter().zip(after).filter(|(b, a)| b != a).count()
    };
    assert_eq!(s.shards.count(), 256);
    // replacing an action copies its shard
    let before = shards();
    s.put(block(&s, ip(7), None), 0);
    assert_eq!(changed(&before, &shards()), 1);
    // a new actor in the full store: its shard and the evicted one's
    let before = shards();
    s.put(block(&s, ip(5_000), None), 0);
    assert_eq!(s.evictions(), 1);
    assert!((1..=2).contains(&changed(&before, &shards())));
    // a removal copies one shard; removing what is not stored copies none
    let before = shards();
    assert_eq!(s.remove_actor(&ip(9), 0), 1);
    assert_eq!(changed(&before, &shards()), 1);
    let before = shards();
    assert_eq!(s.remove_actor(&ip(9), 0), 0);
    assert_eq!(changed(&before, &shards()), 0);
}

/// Shards grow with the capacity, about four actions each when full, up to a bound.
#[test]
fn shards_follow_the_capacity() {
    for (cap, count) in [
        (1, 1),
        (3, 1),
        (40, 16),
        (100_000, 32_768),
        (usize::MAX, 1 << 17),
    ] {
        assert_eq!(Shards::for_capacity(cap).count(), count, "{cap}");
    }
}

/// A listing taken while writes evict and add never shows half a write: a full store of
/// permanent actions always lists exactly its capacity, and lookups of actors no write touches
/// always succeed.
#[test]
fn listings_and_lookups_during_writes_see_whole_writes() {
    const CAP: usize = 64;
    let s = Arc::new(ActionStore::with_capacity(CAP));
    let user = |n: u32| Actor::User(format!("u{n}"));
    for n in 1..CAP as u32 {
        s.put(block(&s, user(n), None), 0);
    }
    s.put(
        block(&s, Actor::Ip("192.0.2.0/24".parse().unwrap()), None),
        0,
    );
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (s, done) = (s.clone(), done.clone());
        std::thread::spawn(move || {
            for n in CAP as u32..20_000 {
                s.put(block(&s, user(n), None), 0);
                // the network stays: put back as the newest before it is the oldest
                if n % 32 == 0 {
                    s.put(
                        block(&s, Actor::Ip("192.0.2.0/24".parse().unwrap()), None),
                        0,
                    );
                }
            }
            done.store(true, Ordering::Release);
        })
    };
    let mut listings = 0;
    while !done.load(Ordering::Acquire) {
        assert_eq!(s.list(0).len(), CAP);
        assert!(s.lookup_ip("192.0.2.77".parse().unwrap(), 0).is_some());
        listings += 1;
    }
    writer.join().unwrap();
    assert!(listings > 0);
    assert_eq!(s.list(0).len(), CAP);
    assert!(s.evictions() > 19_000);
}
