//! [`ActionStore`]: the actions decided at run time, looked up on every request.
//!
//! Readers load an immutable snapshot through `arc-swap` (wait-free: a reader never waits on a
//! writer). Writers serialise on a private mutex, copy the snapshot, change the copy and publish it,
//! dropping expired entries as they go. So a lookup costs one snapshot load plus one probe per
//! prefix length present (see [`crate::ip::PrefixMap`]), whatever the number of actions, and a
//! write costs O(actions): right for actions decided by operators and playbooks, which are rare
//! next to requests. Expiry is checked at lookup; there is no timer per entry.
//!
//! Every change is also reported to the observers registered with [`ActionStore::observe`], and
//! [`ActionStore::apply`] replays a change: the seam a cluster mode uses to share actions between
//! replicas without this type knowing about it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::model::{Action, Actor};
use crate::clock::Millis;
use crate::ip::PrefixMap;

/// A change to the store, as reported to observers and accepted by [`ActionStore::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum ActionChange {
    /// An action was added; it replaces any action on the same actor.
    Put(Arc<Action>),
    /// The action with this id was removed.
    Removed(u64),
}

type Observer = Box<dyn Fn(&ActionChange) + Send + Sync>;

#[derive(Clone, Default)]
struct Snapshot {
    ips: PrefixMap<Arc<Action>>,
    users: HashMap<String, Arc<Action>>,
}

/// The runtime actions on IP networks and users.
pub struct ActionStore {
    snapshot: ArcSwap<Snapshot>,
    writer: Mutex<()>,
    next_id: AtomicU64,
    observers: Mutex<Vec<Observer>>,
}

impl Default for ActionStore {
    fn default() -> Self {
        ActionStore {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            writer: Mutex::new(()),
            next_id: AtomicU64::new(1),
            observers: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for ActionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let snap = self.snapshot.load();
        f.debug_struct("ActionStore")
            .field("ips", &snap.ips.len())
            .field("users", &snap.users.len())
            .finish()
    }
}

impl ActionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh action id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The active action on the most specific network containing `ip`, if any.
    pub fn lookup_ip(&self, ip: IpAddr, now: Millis) -> Option<Arc<Action>> {
        let snap = self.snapshot.load();
        if snap.ips.is_empty() {
            return None;
        }
        let found = snap
            .ips
            .matches(ip)
            .map(|(_, a)| a)
            .find(|a| a.is_active(now))
            .cloned();
        found
    }

    /// The active action on the user with canonical id or key value `id`, if any.
    pub fn lookup_user(&self, id: &str, now: Millis) -> Option<Arc<Action>> {
        let snap = self.snapshot.load();
        snap.users.get(id).filter(|a| a.is_active(now)).cloned()
    }

    /// True when no action at all is stored (lets the caller skip reading the clock).
    pub fn is_empty(&self) -> bool {
        let snap = self.snapshot.load();
        snap.ips.is_empty() && snap.users.is_empty()
    }

    /// True when no user action is stored (lets the caller skip building candidate ids).
    pub fn has_user_actions(&self) -> bool {
        !self.snapshot.load().users.is_empty()
    }

    /// Adds `action`, replacing any action on the same actor; returns it as stored.
    pub fn put(&self, action: Action, now: Millis) -> Arc<Action> {
        let action = Arc::new(action);
        self.write(now, |snap| insert(snap, action.clone()));
        self.notify(&ActionChange::Put(action.clone()));
        action
    }

    /// Removes the action with this id; true if it was there.
    pub fn remove(&self, id: u64, now: Millis) -> bool {
        let removed = self.write(now, |snap| remove_where(snap, |a| a.id == id));
        if removed {
            self.notify(&ActionChange::Removed(id));
        }
        removed
    }

    /// Removes every action on exactly this actor; returns how many were removed.
    pub fn remove_actor(&self, actor: &Actor, now: Millis) -> usize {
        let mut ids = Vec::new();
        self.write(now, |snap| {
            let found = match actor {
                Actor::Ip(net) => snap.ips.remove(net),
                Actor::User(id) => snap.users.remove(id),
            };
            ids.extend(found.map(|a| a.id));
        });
        for id in &ids {
            self.notify(&ActionChange::Removed(*id));
        }
        ids.len()
    }

    /// Replays a change reported by another store (observers are not called again).
    pub fn apply(&self, change: &ActionChange, now: Millis) {
        match change {
            ActionChange::Put(action) => {
                self.next_id.fetch_max(action.id + 1, Ordering::Relaxed);
                self.write(now, |snap| insert(snap, action.clone()));
            }
            ActionChange::Removed(id) => {
                self.write(now, |snap| remove_where(snap, |a| a.id == *id));
            }
        }
    }

    /// Calls `observer` after every change made through [`put`](Self::put),
    /// [`remove`](Self::remove) or [`remove_actor`](Self::remove_actor). Observers run on the
    /// writer's thread: they must be quick and must not call back into the store.
    pub fn observe(&self, observer: impl Fn(&ActionChange) + Send + Sync + 'static) {
        self.observers.lock().push(Box::new(observer));
    }

    /// The actions active at `now`, ordered by id.
    pub fn list(&self, now: Millis) -> Vec<Arc<Action>> {
        let snap = self.snapshot.load();
        let mut all: Vec<_> = snap
            .ips
            .iter()
            .map(|(_, a)| a)
            .chain(snap.users.values())
            .filter(|a| a.is_active(now))
            .cloned()
            .collect();
        all.sort_by_key(|a| a.id);
        all
    }

    fn write<R>(&self, now: Millis, change: impl FnOnce(&mut Snapshot) -> R) -> R {
        let _guard = self.writer.lock();
        let mut next = Snapshot::clone(&self.snapshot.load());
        remove_where(&mut next, |a| !a.is_active(now));
        let result = change(&mut next);
        self.snapshot.store(Arc::new(next));
        result
    }

    fn notify(&self, change: &ActionChange) {
        for observer in self.observers.lock().iter() {
            observer(change);
        }
    }
}

fn insert(snap: &mut Snapshot, action: Arc<Action>) {
    match &action.actor {
        Actor::Ip(net) => {
            snap.ips.insert(*net, action.clone());
        }
        Actor::User(id) => {
            snap.users.insert(id.clone(), action.clone());
        }
    }
}

/// Removes the actions matching `pred`; true if any was removed.
fn remove_where(snap: &mut Snapshot, pred: impl Fn(&Action) -> bool) -> bool {
    let doomed: Vec<_> = snap
        .ips
        .iter()
        .filter(|(_, a)| pred(a))
        .map(|(net, _)| net)
        .collect();
    for net in &doomed {
        snap.ips.remove(net);
    }
    let users_before = snap.users.len();
    snap.users.retain(|_, a| !pred(a));
    !doomed.is_empty() || snap.users.len() != users_before
}

#[cfg(test)]
mod tests {
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
        assert_eq!(s.snapshot.load().users.len(), 1, "expired 'a' was dropped");
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
            vec![ActionChange::Put(a.clone()), ActionChange::Removed(a.id)]
        );

        let replica = ActionStore::new();
        replica.apply(&changes[0], 0);
        assert!(replica.lookup_user("x", 0).is_some());
        assert!(
            replica.next_id() > a.id,
            "ids do not collide after a replay"
        );
        replica.apply(&changes[1], 0);
        assert!(replica.lookup_user("x", 0).is_none());
    }
}
