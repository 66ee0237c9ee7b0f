//! Playbook counts shared between replicas.
//!
//! The request path: [`Tally`] is the playbook engine's [`CountTap`]. Each event counted for a
//! group adds one to a pending delta per (group, actor, bucket) in one of [`SHARDS`] small
//! maps, each behind its own lock held for one map update (no global lock, no I/O, an
//! allocation only for a user actor's first event in a round). The maps together hold at
//! most [`MAX_PENDING`] deltas; past that an event is still counted locally but not shared,
//! and counted in `deltas_dropped`.
//!
//! The sync thread, each round ([`super::sync`]): takes the pending deltas, and in one Lua
//! call per batch of 500 (group, actor) pairs adds them to Redis and reads back each pair's
//! cluster total within the period (every replica's events, this one's included). Only the
//! pairs counted here since the last round are read: the replica whose events bring a total
//! to a threshold is the one that reads it, right after writing them. Redis holds one hash per (group, actor), `<ns>:count:<group>:<actor>`,
//! with a field per (bucket, replica); a read drops the fields older than the period, and the
//! hash expires one period after its last write: Redis holds about one small hash per actor
//! active in the last period, with at most `buckets x replicas` fields.
//!
//! A total at or over a playbook's threshold fires it cluster-wide: the replica that sets the
//! Redis marker `<ns>:fired:<playbook>:<actor>` (`SET NX PX`, for as long as the playbook's
//! action lasts) fires and notifies; the others apply the action without an event or a
//! notification. A replica's own request-path firing (its local count alone reached the
//! threshold) applies its action at once, and its event and notification wait for the same
//! marker.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::fasthash::FoldState;
use crate::playbook::engine::{CountTap, SharedGroup, TapActor};

/// Pending-delta maps (each with its own lock).
pub(crate) const SHARDS: usize = 16;
/// Pending deltas held at most (all maps together).
pub(crate) const MAX_PENDING: usize = 100_000;

/// An actor as the cluster names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ClusterActor {
    Ip(IpAddr),
    User(String),
}

impl ClusterActor {
    /// Its part of a Redis key: the address (already cut to the actor prefix), or a SHA-256
    /// of the user id (bounded, and the same in every replica).
    pub(crate) fn key_part(&self) -> String {
        match self {
            ClusterActor::Ip(ip) => format!("ip:{ip}"),
            ClusterActor::User(id) => {
                let digest = Sha256::digest(id.as_bytes());
                format!("user:{}", hex::encode(&digest[..16]))
            }
        }
    }
}

/// A pending delta's key: the group, a hash of the actor, the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct DeltaKey {
    group: u64,
    actor: u64,
    bucket: u64,
}

/// A delta waiting for the sync thread.
#[derive(Clone, Debug)]
pub(crate) struct Delta {
    pub(crate) group: SharedGroup,
    pub(crate) actor: ClusterActor,
    pub(crate) bucket: u64,
    pub(crate) count: u64,
}

/// The pending deltas (the playbook engine's tap in cluster mode).
#[derive(Debug)]
pub(crate) struct Tally {
    shards: Box<[Mutex<HashMap<DeltaKey, Delta, FoldState>>]>,
    hasher: FoldState,
    held: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl Default for Tally {
    fn default() -> Self {
        let hasher = FoldState::random();
        Tally {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(hasher)))
                .collect(),
            hasher,
            held: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }
}

impl Tally {
    /// Takes every pending delta.
    pub(crate) fn take(&self) -> Vec<Delta> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let map = std::mem::replace(&mut *shard.lock(), HashMap::with_hasher(self.hasher));
            self.held.fetch_sub(map.len() as u64, Ordering::Relaxed);
            out.extend(map.into_values());
        }
        out
    }

    /// Puts back deltas that could not be written (Redis away), as far as room allows.
    pub(crate) fn restore(&self, deltas: Vec<Delta>) {
        for d in deltas {
            let actor = match &d.actor {
                ClusterActor::Ip(ip) => TapActor::Ip(*ip),
                ClusterActor::User(id) => TapActor::User(id),
            };
            self.add(&d.group, actor, d.bucket, d.count);
        }
    }

    fn add(&self, group: &SharedGroup, actor: TapActor<'_>, bucket: u64, count: u64) {
        use std::hash::BuildHasher;
        let actor_hash = match actor {
            TapActor::Ip(ip) => self.hasher.hash_one(ip),
            TapActor::User(id) => self.hasher.hash_one(id),
        };
        let key = DeltaKey {
            group: group.uid,
            actor: actor_hash,
            bucket,
        };
        let shard = &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS];
        let mut map = shard.lock();
        if let Some(d) = map.get_mut(&key) {
            let same = match (&d.actor, actor) {
                (ClusterActor::Ip(a), TapActor::Ip(b)) => *a == b,
                (ClusterActor::User(a), TapActor::User(b)) => a == b,
                _ => false,
            };
            if same {
                d.count += count;
                return;
            }
            // two actors with one 64-bit hash: the second is not shared this round
            self.dropped.fetch_add(count, Ordering::Relaxed);
            return;
        }
        if self.held.load(Ordering::Relaxed) >= MAX_PENDING as u64 {
            self.dropped.fetch_add(count, Ordering::Relaxed);
            return;
        }
        self.held.fetch_add(1, Ordering::Relaxed);
        let actor = match actor {
            TapActor::Ip(ip) => ClusterActor::Ip(ip),
            TapActor::User(id) => ClusterActor::User(id.to_owned()),
        };
        map.insert(
            key,
            Delta {
                group: *group,
                actor,
                bucket,
                count,
            },
        );
    }
}

impl CountTap for Tally {
    fn counted(&self, group: &SharedGroup, actor: TapActor<'_>, now: Millis) {
        self.add(group, actor, group.bucket(now), 1);
    }
}

/// Adds the deltas, then reads the totals. `KEYS`: the hashes written (one per delta), then
/// the hashes read. `ARGV[1]`: this replica; `ARGV[2]`: the number of deltas; then per delta
/// its bucket, count and time to live (ms); then per read the first bucket within the period.
/// Returns one total per read (fields older than the period are dropped as they are read).
pub(crate) const SYNC_COUNTS: &str = r"
local replica = ARGV[1]
local writes = tonumber(ARGV[2])
local a = 3
for i = 1, writes do
  redis.call('HINCRBY', KEYS[i], ARGV[a] .. ':' .. replica, ARGV[a + 1])
  redis.call('PEXPIRE', KEYS[i], ARGV[a + 2])
  a = a + 3
end
local totals = {}
for i = writes + 1, #KEYS do
  local first = tonumber(ARGV[a])
  a = a + 1
  local fields = redis.call('HGETALL', KEYS[i])
  local total = 0
  for j = 1, #fields, 2 do
    local bucket = tonumber(string.match(fields[j], '^(%d+):'))
    if bucket == nil or bucket < first then
      redis.call('HDEL', KEYS[i], fields[j])
    else
      total = total + tonumber(fields[j + 1])
    end
  end
  totals[#totals + 1] = total
end
return totals
";

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> SharedGroup {
        SharedGroup {
            uid: 9,
            bucket_ms: 1_000,
            buckets: 10,
            period_ms: 10_000,
        }
    }

    #[test]
    fn deltas_add_up_per_actor_and_bucket() {
        let t = Tally::default();
        let g = group();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for now in [1_000, 1_500, 1_999, 2_000] {
            t.counted(&g, TapActor::Ip(ip), now);
        }
        t.counted(&g, TapActor::User("alice"), 1_000);
        t.counted(&g, TapActor::User("alice"), 1_000);
        let mut taken: Vec<(String, u64, u64)> = t
            .take()
            .into_iter()
            .map(|d| (d.actor.key_part(), d.bucket, d.count))
            .collect();
        taken.sort();
        let alice = ClusterActor::User("alice".into()).key_part();
        assert_eq!(
            taken,
            [
                ("ip:192.0.2.1".to_owned(), 1, 3),
                ("ip:192.0.2.1".to_owned(), 2, 1),
                (alice, 1, 2)
            ]
        );
        assert!(t.take().is_empty());
    }

    #[test]
    fn pending_deltas_are_bounded_and_what_is_left_out_is_counted() {
        let t = Tally::default();
        let g = group();
        for i in 0..(MAX_PENDING as u32 + 10) {
            t.counted(&g, TapActor::Ip(IpAddr::from(i.to_be_bytes())), 0);
        }
        assert_eq!(t.dropped.load(Ordering::Relaxed), 10);
        let taken = t.take();
        assert_eq!(taken.len(), MAX_PENDING);
        // room again once taken; restored deltas keep their counts
        t.restore(taken);
        assert_eq!(t.take().len(), MAX_PENDING);
    }

    #[test]
    fn user_keys_are_bounded_and_the_same_everywhere() {
        let long = "x".repeat(10_000);
        let key = ClusterActor::User(long.clone()).key_part();
        assert_eq!(key.len(), "user:".len() + 32);
        assert_eq!(key, ClusterActor::User(long).key_part());
        assert_ne!(key, ClusterActor::User("y".into()).key_part());
    }
}
