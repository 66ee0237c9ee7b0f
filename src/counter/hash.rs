//! The two hashes of a store, both keyed at random when the store is made: [`KeyHashBuilder`]
//! for its maps and shard choice (fast, for already compact keys), and [`UserHasher`], which
//! turns a canonical user id into a 128-bit [`ActorId`]. Neither can be aimed by someone who
//! does not know the keys: attacker-chosen IPv6 addresses do not pile into one shard or hash
//! chain, and user names cannot be chosen to share a window.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::types::ActorId;

/// Builds [`KeyHasher`]s with the store's random seed.
#[derive(Clone, Debug)]
pub(super) struct KeyHashBuilder {
    seed: u64,
    multiplier: u64,
}

impl KeyHashBuilder {
    /// A builder with fresh random keys.
    pub(super) fn random() -> Self {
        let [seed, multiplier]: [u64; 2] = rand::random();
        KeyHashBuilder {
            seed,
            multiplier: multiplier | 1,
        }
    }
}

impl BuildHasher for KeyHashBuilder {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            hash: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// A small, fast hasher for counter keys (two words of actor and a slot): each word is mixed in
/// with a folded 64×64→128-bit multiply by a secret odd multiplier (the high half xored into the
/// low half), which spreads every input bit over the low bits (bucket index), the middle bits
/// (shard) and the high bits (control byte) of the result.
pub(super) struct KeyHasher {
    hash: u64,
    multiplier: u64,
}

fn fold_mul(a: u64, b: u64) -> u64 {
    let product = u128::from(a).wrapping_mul(u128::from(b));
    (product as u64) ^ ((product >> 64) as u64)
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.hash = fold_mul(self.hash ^ n, self.multiplier);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Turns canonical user ids into [`ActorId`]s: two SipHash-1-3 hashes with different random keys
/// (std's `RandomState`), 128 bits in all.
#[derive(Debug)]
pub(super) struct UserHasher {
    high: RandomState,
    low: RandomState,
}

impl UserHasher {
    /// A hasher with fresh random keys.
    pub(super) fn new() -> Self {
        UserHasher {
            high: RandomState::new(),
            low: RandomState::new(),
        }
    }

    /// The actor id of a user.
    pub(super) fn id(&self, canonical_user_id: &str) -> ActorId {
        ActorId::from_bits([
            self.high.hash_one(canonical_user_id),
            self.low.hash_one(canonical_user_id),
        ])
    }
}
