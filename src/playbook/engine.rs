//! [`PlaybookEngine`]: which playbooks an event feeds, and which of them fire.
//!
//! The playbooks in force are compiled into an immutable index (exact event names in a hash map,
//! `.*` prefixes in a short list) swapped atomically on reload, so the request path never waits.
//! Playbooks that count the same event pattern by the same actor kind over the same period form
//! a *group*, which owns one counter slot: one window per actor, updated once per event, in
//! which each playbook of the group fires at its own threshold with its own quiet time (see
//! [`GroupSpec`]). So an event costs one window update per group it feeds, however many
//! playbooks share the group. A reload keeps the slot, and so the counts, of every group whose
//! playbooks and thresholds did not change; a group that changed but kept its pattern, actor
//! kind and period gets a new slot and its windows are copied over (counts and each continuing
//! playbook's last firing kept); the windows of the other groups are dropped.
//! Counting itself is the [`CounterStore`]'s job; carrying out a firing (action, event,
//! notification) is the agent's. Nothing here does I/O.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::model::{ActorKind, EventPattern, IpFacts, IpFilter, Playbook, ResponseAction};
use crate::clock::Millis;
use crate::counter::{ActorId, CounterKey, CounterStore, GroupSpec, MemberSpec, Quiet, Regroup};
use crate::duration::Lifetime;
use crate::fasthash::FoldState;

/// A group of playbooks ready to count.
#[derive(Debug)]
struct Group {
    /// The group's id across processes (see [`GroupKey::uid`]) and its counting buckets, for
    /// the [`CountTap`].
    shared: SharedGroup,
    slot: u32,
    pattern: EventPattern,
    actor: ActorKind,
    /// Only events whose client IP this holds of are counted.
    filter: Option<IpFilter>,
    spec: Arc<GroupSpec>,
    /// The playbooks, by member index.
    playbooks: Box<[Arc<Playbook>]>,
    /// Where each playbook came in the list installed, exact patterns before prefixes: the
    /// order firings of one event are reported in.
    ranks: Box<[usize]>,
}

#[derive(Debug)]
struct Index {
    exact: HashMap<String, Vec<usize>, FoldState>,
    prefixed: Vec<usize>,
    groups: Vec<Group>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            exact: HashMap::with_hasher(FoldState::random()),
            prefixed: Vec::new(),
            groups: Vec::new(),
        }
    }
}

/// What makes playbooks share windows: the same events, by the same kind of actor, over the
/// same period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    event: String,
    actor: ActorKind,
    period_ms: u128,
    filter: Option<IpFilter>,
}

impl GroupKey {
    fn of(playbook: &Playbook) -> Self {
        let t = &playbook.trigger;
        GroupKey {
            event: t.event.to_string(),
            actor: t.actor,
            period_ms: t.period.as_millis(),
            filter: t.filter.clone(),
        }
    }

    /// The same number in every process for the same events, actor kind and period (the
    /// first 64 bits of a SHA-256 of them), so replicas count a group under one name.
    fn uid(&self) -> u64 {
        use sha2::{Digest, Sha256};
        let kind = match self.actor {
            ActorKind::Ip => "ip",
            ActorKind::User => "user",
        };
        let mut named = format!("{}\n{kind}\n{}", self.event, self.period_ms);
        // (groups without a filter keep the name they had before filters existed)
        if let Some(filter) = &self.filter {
            named.push('\n');
            named.push_str(&serde_json::to_string(filter).unwrap_or_default());
        }
        let digest = Sha256::digest(named);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }
}

/// How many buckets a period is cut into when counts are shared ([`SharedGroup`]).
pub(crate) const SHARED_BUCKETS: u64 = 10;

/// A group as other processes know it: its id and the buckets its counts are shared in.
///
/// A period of P ms is cut into buckets of `w = max(P / 10, 100)` ms; the counts of the last
/// `k = max(P / w, 1)` buckets (the current one included) are those within the period: they
/// cover between `(k - 1) * w` and `k * w <= P` ms, so for periods of a second or more an
/// event counts for at least nine tenths of the period (`9w`) and never longer than the
/// period (shorter periods: buckets of 100 ms, the counters' own resolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SharedGroup {
    pub(crate) uid: u64,
    pub(crate) bucket_ms: u64,
    pub(crate) buckets: u64,
    pub(crate) period_ms: u64,
}

impl SharedGroup {
    fn of(key: &GroupKey) -> SharedGroup {
        let period_ms = u64::try_from(key.period_ms).unwrap_or(u64::MAX).max(1);
        let bucket_ms = (period_ms / SHARED_BUCKETS).max(100);
        SharedGroup {
            uid: key.uid(),
            bucket_ms,
            buckets: (period_ms / bucket_ms).max(1),
            period_ms,
        }
    }

    /// The bucket `now` falls in.
    pub(crate) fn bucket(&self, now: Millis) -> u64 {
        now / self.bucket_ms
    }

    /// The first bucket within the period at `now`.
    pub(crate) fn first_bucket(&self, now: Millis) -> u64 {
        (self.bucket(now) + 1).saturating_sub(self.buckets)
    }
}

/// An actor as [`CountTap`] sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TapActor<'a> {
    Ip(IpAddr),
    User(&'a str),
}

/// Told of every event counted for a group (cluster mode shares the counts): must never
/// block or do I/O, and stay cheap.
pub(crate) trait CountTap: Send + Sync + std::fmt::Debug {
    fn counted(&self, group: &SharedGroup, actor: TapActor<'_>, now: Millis);
}

/// A group as installed: its slot, its counting rules, and its members' ids and thresholds.
#[derive(Debug)]
struct Installed {
    slot: u32,
    spec: Arc<GroupSpec>,
    members: Vec<(String, u32)>,
}

/// A group that changed but kept its pattern, actor kind and period: its windows move from slot
/// `from` (built for `old`) to slot `to` (for `new`); `continues[i]`: the member of `old` the
/// `i`-th member of `new` is (the same playbook id).
#[derive(Debug)]
struct Move {
    from: u32,
    old: Arc<GroupSpec>,
    to: u32,
    new: Arc<GroupSpec>,
    continues: Vec<Option<usize>>,
}

/// Hands out counter slots, keeping the slot of a group whose members are unchanged.
#[derive(Debug, Default)]
struct Slots {
    by_group: HashMap<GroupKey, Installed>,
    next: u32,
}

/// Who did something: the actors an event may be counted for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Actors<'a> {
    /// The client IP (already checked not to be spared as critical).
    pub(crate) ip: Option<IpAddr>,
    /// The user's canonical id.
    pub(crate) user: Option<&'a str>,
    /// What the IP intelligence says of the client IP, asked only when a group filters on it.
    pub(crate) facts: Option<Facts<'a>>,
}

/// The IP intelligence of an event's client IP, looked up on demand (once per event at most).
#[derive(Clone, Copy)]
pub(crate) struct Facts<'a>(pub(crate) &'a dyn Fn() -> IpFacts);

impl std::fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Facts")
    }
}

/// A playbook that fired for an actor.
#[derive(Debug, Clone)]
pub(crate) struct Firing {
    pub(crate) playbook: Arc<Playbook>,
    pub(crate) actor: FiringActor,
    /// Events counted in the window so far.
    pub(crate) count: u64,
}

/// The actor a playbook fired for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FiringActor {
    Ip(IpAddr),
    User(String),
}

/// Counts events for the playbooks in force and reports firings.
#[derive(Debug)]
pub(crate) struct PlaybookEngine {
    index: ArcSwap<Index>,
    slots: Mutex<Slots>,
    counters: Arc<dyn CounterStore>,
    tap: std::sync::OnceLock<Arc<dyn CountTap>>,
}

impl PlaybookEngine {
    pub(crate) fn new(counters: Arc<dyn CounterStore>) -> Self {
        PlaybookEngine {
            index: ArcSwap::from_pointee(Index::default()),
            slots: Mutex::new(Slots::default()),
            counters,
            tap: std::sync::OnceLock::new(),
        }
    }

    /// Sets the tap told of every event counted (once; later calls are ignored).
    pub(crate) fn set_tap(&self, tap: Arc<dyn CountTap>) {
        let _ = self.tap.set(tap);
    }

    /// The playbooks of the group with this [`SharedGroup::uid`] now.
    pub(crate) fn shared_group(&self, uid: u64) -> Option<Vec<Arc<Playbook>>> {
        let index = self.index.load();
        let group = index.groups.iter().find(|g| g.shared.uid == uid)?;
        Some(group.playbooks.to_vec())
    }

    pub(crate) fn counters(&self) -> &dyn CounterStore {
        &*self.counters
    }

    /// Puts `playbooks` in force (disabled ones are skipped), keeping the counts of the groups
    /// that stay (`now`: the time of the reload).
    pub(crate) fn install(&self, playbooks: &[Playbook], now: Millis) {
        let mut slots = self.slots.lock();
        // The groups, in the order their first playbook comes.
        let mut keys: HashMap<GroupKey, usize> = HashMap::new();
        let mut grouped: Vec<(GroupKey, Vec<(usize, &Playbook)>)> = Vec::new();
        let enabled: Vec<&Playbook> = playbooks.iter().filter(|p| p.enabled).collect();
        for (i, playbook) in enabled.iter().enumerate() {
            let key = GroupKey::of(playbook);
            let rank = match playbook.trigger.event {
                EventPattern::Exact(_) => i,
                EventPattern::Prefix(_) => enabled.len() + i,
            };
            let g = *keys.entry(key.clone()).or_insert_with(|| {
                grouped.push((key, Vec::new()));
                grouped.len() - 1
            });
            grouped[g].1.push((rank, playbook));
        }
        let mut index = Index::default();
        let mut installed = HashMap::new();
        let mut moves: Vec<Move> = Vec::new();
        for (key, members) in grouped {
            let first = members[0].1;
            let specs: Vec<MemberSpec> = members.iter().map(|(_, p)| member_spec(p)).collect();
            let spec = Arc::new(GroupSpec::new(first.trigger.period, &specs));
            let ids: Vec<(String, u32)> = members
                .iter()
                .map(|(_, p)| (p.id.clone(), p.trigger.threshold))
                .collect();
            let same = slots.by_group.get(&key).filter(|old| old.members == ids);
            let slot = match same {
                Some(old) => old.slot,
                None => {
                    let slot = slots.next;
                    slots.next = slots.next.wrapping_add(1);
                    if let Some(old) = slots.by_group.get(&key) {
                        // the same events, actors and period: the windows move to the new slot
                        let continues = ids
                            .iter()
                            .map(|(id, _)| old.members.iter().position(|(o, _)| o == id))
                            .collect();
                        moves.push(Move {
                            from: old.slot,
                            old: old.spec.clone(),
                            to: slot,
                            new: spec.clone(),
                            continues,
                        });
                    }
                    slot
                }
            };
            let g = index.groups.len();
            match &first.trigger.event {
                EventPattern::Exact(name) => index.exact.entry(name.clone()).or_default().push(g),
                EventPattern::Prefix(_) => index.prefixed.push(g),
            }
            index.groups.push(Group {
                shared: SharedGroup::of(&key),
                slot,
                pattern: first.trigger.event.clone(),
                actor: first.trigger.actor,
                filter: first.trigger.filter.clone(),
                spec: spec.clone(),
                playbooks: members
                    .iter()
                    .map(|(_, p)| Arc::new((*p).clone()))
                    .collect(),
                ranks: members.iter().map(|(rank, _)| *rank).collect(),
            });
            installed.insert(
                key,
                Installed {
                    slot,
                    spec,
                    members: ids,
                },
            );
        }
        let kept: HashSet<u32> = installed.values().map(|g| g.slot).collect();
        slots.by_group = installed;
        self.index.store(Arc::new(index));
        let moves: Vec<Regroup<'_>> = moves
            .iter()
            .map(|m| Regroup {
                from: m.from,
                old: &m.old,
                to: m.to,
                new: &m.new,
                continues: &m.continues,
            })
            .collect();
        self.counters
            .regroup(&moves, &|slot| kept.contains(&slot), now);
    }

    /// True when no playbook is in force (the caller can skip building actors).
    pub(crate) fn is_empty(&self) -> bool {
        self.index.load().groups.is_empty()
    }

    /// Counts `event` for `actors` once in every group it feeds; returns the playbooks that
    /// fired.
    pub(crate) fn observe(&self, event: &str, actors: Actors<'_>, now: Millis) -> Vec<Firing> {
        let index = self.index.load();
        let mut firings = Vec::new();
        let mut ranks = Vec::new();
        let exact = index.exact.get(event).map(Vec::as_slice).unwrap_or(&[]);
        let prefixed = index
            .prefixed
            .iter()
            .filter(|&&g| index.groups[g].pattern.matches(event));
        let mut facts: Option<IpFacts> = None;
        for &g in exact.iter().chain(prefixed) {
            let group = &index.groups[g];
            if let Some(filter) = &group.filter {
                let known =
                    *facts.get_or_insert_with(|| actors.facts.map(|f| f.0()).unwrap_or_default());
                if !filter.matches(&known) {
                    continue;
                }
            }
            let (actor_id, actor) = match (group.actor, actors.ip, actors.user) {
                (ActorKind::Ip, Some(ip), _) => (ActorId::ip(ip), Some(ip)),
                (ActorKind::User, _, Some(user)) => (self.counters.user_id(user), None),
                _ => continue,
            };
            if let Some(tap) = self.tap.get() {
                let who = match (actor, actors.user) {
                    (Some(ip), _) => TapActor::Ip(ip),
                    (None, Some(user)) => TapActor::User(user),
                    (None, None) => continue,
                };
                tap.counted(&group.shared, who, now);
            }
            let key = CounterKey {
                slot: group.slot,
                actor: actor_id,
            };
            self.counters
                .record_group(key, &group.spec, now, &mut |member, count| {
                    let actor = match (actor, actors.user) {
                        (Some(ip), _) => FiringActor::Ip(ip),
                        (None, Some(user)) => FiringActor::User(user.to_owned()),
                        (None, None) => return,
                    };
                    firings.push(Firing {
                        playbook: group.playbooks[member].clone(),
                        actor,
                        count,
                    });
                    ranks.push(group.ranks[member]);
                });
        }
        if firings.len() > 1 {
            // In the order of the playbooks installed, as when each had a window of its own.
            let mut ranked: Vec<(usize, Firing)> = ranks.into_iter().zip(firings).collect();
            ranked.sort_by_key(|(rank, _)| *rank);
            firings = ranked.into_iter().map(|(_, f)| f).collect();
        }
        firings
    }
}

/// A playbook's rules within its group: its threshold, and how long it stays quiet after firing
/// (as long as the response lasts, so an active block is not re-fired).
fn member_spec(playbook: &Playbook) -> MemberSpec {
    let quiet = match &playbook.response {
        ResponseAction::None => Quiet::None,
        ResponseAction::Block { lifetime } | ResponseAction::Redirect { lifetime, .. } => {
            match lifetime {
                Lifetime::For(d) => Quiet::For(*d),
                Lifetime::Permanent => Quiet::Forever,
            }
        }
    };
    MemberSpec {
        threshold: playbook.trigger.threshold,
        quiet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counter::LocalCounterStore;
    use std::time::Duration;

    /// An engine whose store never evicts in these tests: its shards hold about 1,500 windows'
    /// weight each, and the heaviest window here weighs 100 (a group of 100 playbooks).
    fn engine() -> PlaybookEngine {
        PlaybookEngine::new(Arc::new(LocalCounterStore::new(100_000, 0)))
    }

    fn playbook(id: &str, event: &str, threshold: u32, actor: ActorKind) -> Playbook {
        Playbook::on(event)
            .id(id)
            .threshold(threshold)
            .within(Duration::from_secs(60))
            .by(actor)
            .respond(ResponseAction::block_for(Duration::from_secs(600)))
            .build()
            .unwrap()
    }

    const IP: Actors<'static> = Actors {
        ip: Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1))),
        user: Some("alice"),
        facts: None,
    };

    #[test]
    fn exact_and_prefix_playbooks_fire_for_their_actor() {
        let e = engine();
        e.install(
            &[
                playbook("a", "login.failed", 2, ActorKind::Ip),
                playbook("b", "app.sqreen.attack.*", 1, ActorKind::User),
            ],
            0,
        );
        assert!(e.observe("login.failed", IP, 1_000).is_empty());
        let fired = e.observe("login.failed", IP, 2_000);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].playbook.id, "a");
        assert_eq!(fired[0].actor, FiringActor::Ip(IP.ip.unwrap()));
        let fired = e.observe("app.sqreen.attack.sqli", IP, 2_000);
        assert_eq!(fired[0].actor, FiringActor::User("alice".into()));
        assert!(e.observe("other", IP, 2_000).is_empty());
        let no_user = Actors {
            ip: IP.ip,
            user: None,
            facts: None,
        };
        assert!(e
            .observe("app.sqreen.attack.xss", no_user, 3_000)
            .is_empty());
    }

    fn fired_ids(firings: Vec<Firing>) -> Vec<String> {
        firings.into_iter().map(|f| f.playbook.id.clone()).collect()
    }

    #[test]
    fn playbooks_on_one_event_share_one_window_per_actor_and_fire_at_their_own_threshold() {
        let e = engine();
        // 100 playbooks on one event, listed from the highest threshold down (ring and buckets)
        let playbooks: Vec<Playbook> = (1..=100)
            .rev()
            .map(|n| playbook(&format!("n{n}"), "x", n, ActorKind::Ip))
            .collect();
        e.install(&playbooks, 0);
        let other = Actors {
            ip: Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2))),
            user: None,
            facts: None,
        };
        for k in 1..=100 {
            assert_eq!(fired_ids(e.observe("x", IP, 1_000)), vec![format!("n{k}")]);
            assert_eq!(e.observe("x", other, 1_000).len(), 1, "event {k}");
        }
        // each fired once and stays quiet while its block lasts
        assert!(e.observe("x", IP, 2_000).is_empty());
        assert_eq!(e.counters().len(), 2); // one window per actor, not 200
                                           // another actor kind or period is another group: windows of their own
        let mut more = playbooks.clone();
        more.push(playbook("by-user", "x", 2, ActorKind::User));
        let mut hourly = playbook("hourly", "x", 2, ActorKind::Ip);
        hourly.trigger.period = Duration::from_secs(3_600);
        more.push(hourly);
        e.install(&more, 3_000);
        assert_eq!(
            e.counters().len(),
            2,
            "the unchanged group keeps its windows"
        );
        let fired = fired_ids(e.observe("x", IP, 3_000));
        assert!(fired.is_empty(), "{fired:?}");
        assert_eq!(fired_ids(e.observe("x", IP, 3_000)), ["by-user", "hourly"]);
        assert_eq!(e.counters().len(), 4);
        // a group that goes frees its windows
        e.install(&playbooks[..1], 4_000);
        assert_eq!(e.counters().len(), 2);
        e.install(&[], 5_000);
        assert_eq!(e.counters().len(), 0);
    }

    #[test]
    fn a_reload_keeps_the_counts_of_the_groups_that_stay() {
        let e = engine();
        let a = playbook("a", "x", 3, ActorKind::Ip);
        let b = playbook("b", "x", 3, ActorKind::Ip);
        e.install(&[a.clone(), b.clone()], 0);
        e.observe("x", IP, 1_000);
        e.observe("x", IP, 1_100);
        // b's threshold changes (3 -> 4): the group (event, actor kind, period) stays, and so
        // do its two events; a fires at its third, b at its fourth
        let b4 = playbook("b", "x", 4, ActorKind::Ip);
        e.install(&[a.clone(), b4.clone()], 1_150);
        assert_eq!(fired_ids(e.observe("x", IP, 1_200)), ["a"]);
        assert_eq!(fired_ids(e.observe("x", IP, 1_300)), ["b"]);
        assert_eq!(e.counters().len(), 1);
        // a 65th playbook moves the group to buckets; a and b keep their firings (quiet)
        let c = playbook("c", "x", 65, ActorKind::Ip);
        e.install(&[a.clone(), b4.clone(), c], 1_350);
        for _ in 0..60 {
            assert!(e.observe("x", IP, 1_400).is_empty());
        }
        assert_eq!(fired_ids(e.observe("x", IP, 1_400)), ["c"]); // 4 + 61 events
                                                                 // a changed period is another group: it starts from zero
        let mut a_hourly = a;
        a_hourly.trigger.period = Duration::from_secs(3_600);
        e.install(&[a_hourly], 1_500);
        assert!(e.observe("x", IP, 1_600).is_empty());
        assert!(e.observe("x", IP, 1_600).is_empty());
        assert_eq!(fired_ids(e.observe("x", IP, 1_600)), ["a"]);
        assert_eq!(e.counters().len(), 1);
    }

    #[test]
    fn prefix_playbooks_share_a_window_and_an_exact_one_keeps_its_own() {
        let e = engine();
        e.install(
            &[
                playbook("any-2", "app.sqreen.attack.*", 2, ActorKind::Ip),
                playbook("sqli-1", "app.sqreen.attack.sqli", 1, ActorKind::Ip),
                playbook("any-1", "app.sqreen.attack.*", 1, ActorKind::Ip),
            ],
            0,
        );
        // exact playbooks are reported first, then prefixes, each in the order installed
        assert_eq!(
            fired_ids(e.observe("app.sqreen.attack.sqli", IP, 1_000)),
            ["sqli-1", "any-1"]
        );
        assert_eq!(
            fired_ids(e.observe("app.sqreen.attack.xss", IP, 1_000)),
            ["any-2"]
        );
        assert!(e.observe("app.sqreen.attack", IP, 1_000).is_empty());
        assert_eq!(e.counters().len(), 2); // the prefix group's window and the exact one's
    }

    #[test]
    fn shared_buckets_cover_at_least_nine_tenths_of_the_period_and_never_more() {
        for period_ms in [1u128, 99, 1_000, 60_000, 600_000, 86_400_000, 3_600_001] {
            let key = GroupKey {
                event: "login.failed".into(),
                actor: ActorKind::Ip,
                period_ms,
                filter: None,
            };
            let g = SharedGroup::of(&key);
            let p = period_ms as u64;
            assert!(g.bucket_ms >= 100 && g.buckets >= 1 && g.buckets <= SHARED_BUCKETS);
            let epoch = 1_765_000_000_000u64; // December 2025, in ms
            for now in [epoch, epoch + g.bucket_ms - 1, epoch + 123_456_789] {
                // the buckets read cover [first * w, now]: never longer than the period, and
                // for periods of a second or more at least nine tenths of it
                let covered = now - g.first_bucket(now) * g.bucket_ms;
                assert!(covered < p.max(g.bucket_ms), "{p} {now}: {covered}");
                if p >= 1_000 {
                    assert!(covered * 10 >= (p - 9) * 9, "{p} {now}: {covered}");
                }
            }
        }
        // the same group has the same id in every process; another period is another group
        let a = GroupKey {
            event: "x".into(),
            actor: ActorKind::Ip,
            period_ms: 60_000,
            filter: None,
        };
        let b = GroupKey {
            period_ms: 60_001,
            ..a.clone()
        };
        // (the first 8 bytes of SHA-256("x\nip\n60000"), as any other process computes them)
        assert_eq!(a.uid(), 0xbfd8_981b_90e5_08d9);
        assert_ne!(a.uid(), b.uid());
        // a `where` filter makes another group
        let c = GroupKey {
            filter: Some(crate::playbook::IpFilter {
                is_tor: Some(true),
                ..Default::default()
            }),
            ..a.clone()
        };
        assert_ne!(a.uid(), c.uid());
    }

    #[test]
    fn disabled_playbooks_do_not_count() {
        let e = engine();
        let mut p = playbook("a", "x", 1, ActorKind::Ip);
        p.enabled = false;
        e.install(&[p], 0);
        assert!(e.is_empty());
        assert!(e.observe("x", IP, 0).is_empty());
    }
}
