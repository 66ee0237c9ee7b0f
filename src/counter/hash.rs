//! The two hashes of a store, both keyed at random when the store is made: the crate's
//! `FoldState` for its maps and shard choice (fast, for already compact keys), and [`UserHasher`], which
//! turns a canonical user id into a 128-bit [`ActorId`]. Neither can be aimed by someone who
//! does not know the keys: attacker-chosen IPv6 addresses do not pile into one shard or hash
//! chain, and user names cannot be chosen to share a window.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::types::ActorId;

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
