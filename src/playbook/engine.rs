//! [`PlaybookEngine`]: which playbooks an event feeds, and which of them fire.
//!
//! The playbooks in force are compiled into an immutable index (exact event names in a hash map,
//! `.*` prefixes in a short list) swapped atomically on reload, so the request path never waits.
//! Each enabled playbook owns a counter *slot*; a reload keeps the slot, and so the counts, of
//! every playbook whose id and trigger did not change, and drops the windows of the others.
//! Counting itself is the [`CounterStore`]'s job; carrying out a firing (action, event,
//! notification) is the agent's. Nothing here does I/O.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::model::{ActorKind, EventPattern, Playbook, ResponseAction, Trigger};
use crate::clock::Millis;
use crate::counter::{ActorId, CounterKey, CounterStore, Quiet, WindowSpec};
use crate::duration::Lifetime;
use crate::fasthash::FoldState;

/// A playbook ready to count.
#[derive(Debug)]
struct Compiled {
    slot: u32,
    playbook: Arc<Playbook>,
    spec: WindowSpec,
}

#[derive(Debug)]
struct Index {
    exact: HashMap<String, Vec<usize>, FoldState>,
    prefixed: Vec<usize>,
    all: Vec<Compiled>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            exact: HashMap::with_hasher(FoldState::random()),
            prefixed: Vec::new(),
            all: Vec::new(),
        }
    }
}

/// Hands out counter slots, keeping the slot of a playbook whose id and trigger are unchanged.
#[derive(Debug, Default)]
struct Slots {
    by_playbook: HashMap<(String, TriggerKey), u32>,
    next: u32,
}

/// The parts of a trigger that make its counts meaningful.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TriggerKey {
    event: String,
    threshold: u32,
    period_ms: u128,
    actor: ActorKind,
}

impl From<&Trigger> for TriggerKey {
    fn from(t: &Trigger) -> Self {
        TriggerKey {
            event: t.event.to_string(),
            threshold: t.threshold,
            period_ms: t.period.as_millis(),
            actor: t.actor,
        }
    }
}

/// Who did something: the actors an event may be counted for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Actors<'a> {
    /// The client IP (already checked not to be spared as critical).
    pub(crate) ip: Option<IpAddr>,
    /// The user's canonical id.
    pub(crate) user: Option<&'a str>,
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
}

impl PlaybookEngine {
    pub(crate) fn new(counters: Arc<dyn CounterStore>) -> Self {
        PlaybookEngine {
            index: ArcSwap::from_pointee(Index::default()),
            slots: Mutex::new(Slots::default()),
            counters,
        }
    }

    pub(crate) fn counters(&self) -> &dyn CounterStore {
        &*self.counters
    }

    /// Puts `playbooks` in force (disabled ones are skipped), keeping the counts of unchanged ones.
    pub(crate) fn install(&self, playbooks: &[Playbook]) {
        let mut slots = self.slots.lock();
        let mut index = Index::default();
        let mut live = HashMap::new();
        for playbook in playbooks.iter().filter(|p| p.enabled) {
            let key = (playbook.id.clone(), TriggerKey::from(&playbook.trigger));
            let slot = match slots.by_playbook.get(&key) {
                Some(slot) => *slot,
                None => {
                    let slot = slots.next;
                    slots.next = slots.next.wrapping_add(1);
                    slot
                }
            };
            live.insert(key, slot);
            let i = index.all.len();
            match &playbook.trigger.event {
                EventPattern::Exact(name) => index.exact.entry(name.clone()).or_default().push(i),
                EventPattern::Prefix(_) => index.prefixed.push(i),
            }
            index.all.push(Compiled {
                slot,
                spec: window_spec(playbook),
                playbook: Arc::new(playbook.clone()),
            });
        }
        let kept: std::collections::HashSet<u32> = live.values().copied().collect();
        slots.by_playbook = live;
        self.index.store(Arc::new(index));
        self.counters.retain_slots(&|slot| kept.contains(&slot));
    }

    /// True when no playbook is in force (the caller can skip building actors).
    pub(crate) fn is_empty(&self) -> bool {
        self.index.load().all.is_empty()
    }

    /// Counts `event` for `actors` in every playbook it feeds; returns the playbooks that fired.
    pub(crate) fn observe(&self, event: &str, actors: Actors<'_>, now: Millis) -> Vec<Firing> {
        let index = self.index.load();
        let mut firings = Vec::new();
        let exact = index.exact.get(event).map(Vec::as_slice).unwrap_or(&[]);
        let prefixed = index
            .prefixed
            .iter()
            .filter(|&&i| index.all[i].playbook.trigger.event.matches(event));
        for &i in exact.iter().chain(prefixed) {
            let compiled = &index.all[i];
            let actor_id = match compiled.playbook.trigger.actor {
                ActorKind::Ip => match actors.ip {
                    Some(ip) => ActorId::ip(ip),
                    None => continue,
                },
                ActorKind::User => match actors.user {
                    Some(user) => self.counters.user_id(user),
                    None => continue,
                },
            };
            let key = CounterKey {
                slot: compiled.slot,
                actor: actor_id,
            };
            let record = self.counters.record(key, &compiled.spec, now);
            if record.fired {
                let actor = match (compiled.playbook.trigger.actor, actors.ip, actors.user) {
                    (ActorKind::Ip, Some(ip), _) => FiringActor::Ip(ip),
                    (_, _, Some(user)) => FiringActor::User(user.to_owned()),
                    _ => continue,
                };
                firings.push(Firing {
                    playbook: compiled.playbook.clone(),
                    actor,
                    count: record.count,
                });
            }
        }
        firings
    }
}

/// The counting rules of a playbook: its threshold and period, and how long its window stays
/// quiet after firing (as long as the response lasts, so an active block is not re-fired).
fn window_spec(playbook: &Playbook) -> WindowSpec {
    let quiet = match &playbook.response {
        ResponseAction::None => Quiet::None,
        ResponseAction::Block { lifetime } | ResponseAction::Redirect { lifetime, .. } => {
            match lifetime {
                Lifetime::For(d) => Quiet::For(*d),
                Lifetime::Permanent => Quiet::Forever,
            }
        }
    };
    WindowSpec {
        threshold: playbook.trigger.threshold,
        period: playbook.trigger.period,
        quiet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counter::LocalCounterStore;
    use std::time::Duration;

    fn engine() -> PlaybookEngine {
        PlaybookEngine::new(Arc::new(LocalCounterStore::new(1_000, 0)))
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
    };

    #[test]
    fn exact_and_prefix_playbooks_fire_for_their_actor() {
        let e = engine();
        e.install(&[
            playbook("a", "login.failed", 2, ActorKind::Ip),
            playbook("b", "app.sqreen.attack.*", 1, ActorKind::User),
        ]);
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
        };
        assert!(e
            .observe("app.sqreen.attack.xss", no_user, 3_000)
            .is_empty());
    }

    #[test]
    fn reload_keeps_counts_of_unchanged_playbooks_only() {
        let e = engine();
        let a = playbook("a", "x", 3, ActorKind::Ip);
        let b = playbook("b", "x", 3, ActorKind::Ip);
        e.install(&[a.clone(), b.clone()]);
        e.observe("x", IP, 1_000);
        e.observe("x", IP, 1_100);
        // b's trigger changes (threshold 3 -> 4): its count starts again; a keeps its two events
        let b4 = playbook("b", "x", 4, ActorKind::Ip);
        e.install(&[a, b4]);
        let fired: Vec<_> = e
            .observe("x", IP, 1_200)
            .into_iter()
            .map(|f| f.playbook.id.clone())
            .collect();
        assert_eq!(fired, vec!["a"]);
        assert_eq!(e.counters().len(), 2);
    }

    #[test]
    fn disabled_playbooks_do_not_count() {
        let e = engine();
        let mut p = playbook("a", "x", 1, ActorKind::Ip);
        p.enabled = false;
        e.install(&[p]);
        assert!(e.is_empty());
        assert!(e.observe("x", IP, 0).is_empty());
    }
}
