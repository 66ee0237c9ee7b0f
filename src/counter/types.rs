//! The vocabulary of counting: who ([`ActorId`]), which window ([`CounterKey`]), by which rules
//! ([`WindowSpec`] for a window of its own, [`MemberSpec`] for each member of a shared window,
//! [`Quiet`]) and with what outcome ([`Record`]). Plain values, no behaviour beyond construction
//! and hashing.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use super::GroupSpec;

/// Identifies an actor compactly, in 128 bits: an IP address (IPv4 mapped into IPv6, so
/// `192.0.2.1` and `::ffff:192.0.2.1` are the same actor), or a user (a keyed 128-bit hash of its
/// canonical id, from [`CounterStore::user_id`](super::CounterStore::user_id)).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ActorId([u64; 2]);

impl ActorId {
    /// The actor id of an IP address: its IPv6 bits (IPv4 addresses IPv4-mapped).
    pub fn ip(ip: IpAddr) -> Self {
        let v6 = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        let bits = u128::from(v6);
        ActorId([(bits >> 64) as u64, bits as u64])
    }

    /// An actor id from 128 bits, high word first (for ids computed elsewhere, such as a
    /// cluster-mode store's user hash).
    pub fn from_bits(bits: [u64; 2]) -> Self {
        ActorId(bits)
    }

    /// The 128 bits of this id, high word first.
    pub fn bits(self) -> [u64; 2] {
        self.0
    }
}

// Hashed as two words (not as a length-prefixed slice, as the derive would): the store's hasher
// mixes whole words.
impl Hash for ActorId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
        state.write_u64(self.0[1]);
    }
}

/// The window an event is counted in: a counter slot and an actor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CounterKey {
    /// The counter slot (the engine hands one out per group of playbooks that count the same
    /// event pattern by the same actor kind over the same period).
    pub slot: u32,
    /// Who did it.
    pub actor: ActorId,
}

impl Hash for CounterKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.actor.hash(state);
        state.write_u32(self.slot);
    }
}

/// How long a window stays quiet after it fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quiet {
    /// Not at all: it fires again as soon as N events recorded after the firing are within the
    /// period.
    None,
    /// Not before this long after the firing (e.g. while the block it caused lasts), and then
    /// only for N events recorded after the firing. Rounded up to 100 ms; longer than about
    /// 3.4 years means forever.
    For(Duration),
    /// Never again (the response is permanent).
    Forever,
}

/// The counting rules of a window: "`threshold` or more events within `period`", and how long
/// to stay quiet after firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// N, the number of events that makes the window fire. Exact up to 64; above, counted in
    /// 32 time buckets (exact to within one bucket of the period). 0 is taken as 1.
    pub threshold: u32,
    /// The period the N events must fit in. Rounded up to 100 ms (0 is one 100 ms step), at most
    /// about 3.4 years.
    pub period: Duration,
    /// How long to stay quiet after a firing, as of this record.
    pub quiet: Quiet,
}

/// What recording one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The total number of events recorded in this window (exact, this one included).
    pub count: u64,
    /// Whether the window fired with this event (true for exactly one record per burst).
    pub fired: bool,
}

/// The rules of one member of a shared window (see [`GroupSpec`](super::GroupSpec)): it fires
/// at `threshold` events within the group's period, and then stays quiet for `quiet`, on its
/// own, as a window of its own would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    /// N, as in [`WindowSpec::threshold`].
    pub threshold: u32,
    /// How long to stay quiet after this member fired.
    pub quiet: Quiet,
}

/// A group whose windows move to another slot when the rules change (see
/// [`CounterStore::regroup`](super::CounterStore::regroup)): every window of slot `from`, built
/// for `old`, is copied into a window of slot `to` laid out for `new`.
#[derive(Clone, Copy, Debug)]
pub struct Regroup<'a> {
    /// The slot the windows are in.
    pub from: u32,
    /// The group they were built for.
    pub old: &'a GroupSpec,
    /// The slot they move to.
    pub to: u32,
    /// The group they are for from now on.
    pub new: &'a GroupSpec,
    /// For each member of `new` (by its index), the member of `old` it continues, if any: that
    /// member's last firing carries over (its quiet time and freshness hold on).
    pub continues: &'a [Option<usize>],
}
