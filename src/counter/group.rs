//! [`GroupSpec`]: the counting rules of a window shared by several members (the playbooks that
//! count the same events by the same actors over the same period), converted to ticks once,
//! members sorted by threshold; and [`Layout`], the shape of the windows built for it. Plain
//! values: no atomics, no lock.

use std::time::Duration;

use super::time::{Params, BUCKETS};
use super::types::{MemberSpec, Quiet, WindowSpec};

/// The first fire word, after the count and the last-seen/expiry word.
pub(super) const FIRES: usize = 2;

/// The shape of a window: how many fire words, ring slots and whether it has time buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// Fire words, one per member.
    pub(super) fires: u32,
    /// Ring slots: the largest threshold of the members counted exactly (0 to 64; 0: no ring).
    pub(super) ring: u32,
    /// Bucket width in ticks when some member's threshold is above 64 (0: no buckets).
    pub(super) width: u32,
}

impl Layout {
    /// The first word of the ring.
    pub(super) fn ring_off(&self) -> usize {
        FIRES + self.fires as usize
    }

    /// The word holding the bucket width (the buckets follow it), or where the window ends.
    pub(super) fn bucket_off(&self) -> usize {
        self.ring_off() + self.ring.div_ceil(2) as usize
    }

    /// The number of words of a window of this layout.
    pub(super) fn len(&self) -> usize {
        self.bucket_off()
            + if self.width > 0 {
                1 + BUCKETS as usize
            } else {
                0
            }
    }

    /// What the top byte of the count word says about the layout: the ring size, and bit 7 set
    /// when the window has buckets. With the length of the window it fixes the layout.
    pub(super) fn tag(&self) -> u64 {
        u64::from(self.ring) | if self.width > 0 { 0x80 } else { 0 }
    }

    /// The layout of a window of `len` words whose count word carries `tag`.
    pub(super) fn of(tag: u64, width: u32, len: usize) -> Option<Layout> {
        let ring = (tag & 0x7F) as u32;
        let buckets = if tag & 0x80 != 0 {
            1 + BUCKETS as usize
        } else {
            0
        };
        let fixed = FIRES + ring.div_ceil(2) as usize + buckets;
        let fires = u32::try_from(len.checked_sub(fixed)?).ok()?;
        Some(Layout {
            fires,
            ring,
            width: if buckets > 0 { width.max(1) } else { 0 },
        })
    }
}

/// One member, in ticks: its parameters (the group's period, its own threshold and quiet time)
/// and its index in the list the group was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Member {
    pub(super) p: Params,
    pub(super) index: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Members {
    One([Member; 1]),
    Many(Box<[Member]>),
}

/// The counting rules of a window shared by several members: one period, and for each member a
/// threshold and a quiet time ([`MemberSpec`]).
///
/// Every member fires on its own, exactly as a window of its own with the same
/// [`WindowSpec`] would (same events, same times, same firings: the module docs' semantics hold
/// per member), but the events are stored once: the window keeps a ring as long as the largest
/// threshold up to 64, time buckets if some threshold is above 64, and one fire word per member.
/// Members are reported by their index in the list given to [`GroupSpec::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSpec {
    layout: Layout,
    /// Sorted by threshold: the members counted by the ring first (`..rings`), then by buckets.
    members: Members,
    rings: usize,
}

impl GroupSpec {
    /// The rules of a window counting events within `period` (rounded up to 100 ms, as in
    /// [`WindowSpec::period`]) for `members`.
    pub fn new(period: Duration, members: &[MemberSpec]) -> Self {
        let mut sorted: Vec<Member> = members
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                p: Params::new(&WindowSpec {
                    threshold: m.threshold,
                    period,
                    quiet: m.quiet,
                }),
                index: i as u32,
            })
            .collect();
        sorted.sort_by_key(|m| (m.p.threshold, m.index));
        Self::from_sorted(
            Params::new(&WindowSpec {
                threshold: 1,
                period,
                quiet: Quiet::None,
            }),
            match <[Member; 1]>::try_from(sorted.as_slice()) {
                Ok(one) => Members::One(one),
                Err(_) => Members::Many(sorted.into_boxed_slice()),
            },
        )
    }

    /// The rules of a window of its own: one member, index 0. Allocates nothing.
    pub fn single(spec: &WindowSpec) -> Self {
        let p = Params::new(spec);
        Self::from_sorted(p, Members::One([Member { p, index: 0 }]))
    }

    fn from_sorted(period: Params, members: Members) -> Self {
        let list = match &members {
            Members::One(one) => &one[..],
            Members::Many(many) => &many[..],
        };
        let rings = list.partition_point(|m| m.p.is_ring());
        let layout = Layout {
            fires: list.len() as u32,
            ring: list[..rings].last().map_or(0, |m| m.p.threshold),
            width: if rings < list.len() { period.width } else { 0 },
        };
        GroupSpec {
            layout,
            members,
            rings,
        }
    }

    /// How many members the group has.
    pub fn len(&self) -> usize {
        self.members().len()
    }

    /// Whether the group has no member (its windows only count events).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn layout(&self) -> Layout {
        self.layout
    }

    /// The members, sorted by threshold; member `k` owns fire word `FIRES + k`.
    pub(super) fn members(&self) -> &[Member] {
        match &self.members {
            Members::One(one) => one,
            Members::Many(many) => many,
        }
    }

    /// How many of [`members`](Self::members) (the first ones) are counted by the ring.
    pub(super) fn rings(&self) -> usize {
        self.rings
    }

    /// The position among the sorted members (and so the fire word) of the member given at
    /// `index` to [`GroupSpec::new`].
    pub(super) fn position(&self, index: usize) -> Option<usize> {
        self.members()
            .iter()
            .position(|m| m.index as usize == index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(threshold: u32) -> MemberSpec {
        MemberSpec {
            threshold,
            quiet: Quiet::None,
        }
    }

    #[test]
    fn layouts_hold_what_the_members_need() {
        let minute = Duration::from_secs(60);
        let g = GroupSpec::new(minute, &[member(10), member(3), member(1_000), member(64)]);
        assert_eq!(
            g.layout(),
            Layout {
                fires: 4,
                ring: 64,
                width: 19
            }
        );
        assert_eq!(g.rings(), 3);
        let order: Vec<u32> = g.members().iter().map(|m| m.index).collect();
        assert_eq!(order, [1, 0, 3, 2]);
        assert_eq!(g.position(2), Some(3));
        let l = g.layout();
        assert_eq!(l.len(), 2 + 4 + 32 + 33);
        assert_eq!(Layout::of(l.tag(), 19, l.len()), Some(l));
        // a window of its own has the layout it always had: a fire word, then ring or buckets
        let single = GroupSpec::single(&WindowSpec {
            threshold: 10,
            period: minute,
            quiet: Quiet::None,
        });
        assert_eq!(single.layout().len(), 3 + 5);
        assert_eq!(
            GroupSpec::new(minute, &[member(100)]).layout().len(),
            3 + 33
        );
        assert!(GroupSpec::new(minute, &[]).is_empty());
    }
}
