//! Recording what actors do (`track` and the built-in auth events) and carrying out the
//! playbooks that fire.
//!
//! A recorded event goes to the event sink, then to the playbook engine for its actors: the
//! request's client IP and user, or the actor given to `track_for`. Activity from a critical IP,
//! a pass-listed IP or a pass-listed user is recorded but never counted toward a playbook. A
//! firing puts its action in the action store at once (so the layer answers the actor's next
//! requests before the handler), replaces the current response when the actor is the request's
//! own, records `app.sqreen.playbook.triggered` and hands the notification to the notifier.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value};

use super::inspect::Reason;
use super::AgentInner;
use std::sync::Arc;

use crate::action::{Action, ActionChange, ActionKind, ActionSource, Actor};
use crate::cluster::counts::ClusterActor;
use crate::cluster::Announcement;
use crate::context::{PendingResponse, RequestContext, UserKeys};
use crate::duration::{format_duration, Lifetime};
use crate::event::names;
use crate::event::Event;
use crate::ip::actor::{actor_ip, actor_net};
use crate::notify::PlaybookNotification;
use crate::playbook::engine::{Actors, Facts, Firing, FiringActor};
use crate::playbook::model::IpFacts;
use crate::playbook::Playbook;
use crate::playbook::ResponseAction;
use crate::sdk::Verdict;

/// Who an event is about.
pub(crate) struct Subject<'a> {
    pub(crate) ctx: Option<&'a RequestContext>,
    pub(crate) ip: Option<IpAddr>,
    /// The user the event is counted for (the request's, or the one an auth event names).
    pub(crate) user: Option<UserRef<'a>>,
}

/// A user as the SDK knows it: by keys (in a request) or by canonical id (`track_for`).
#[derive(Clone, Copy)]
pub(crate) enum UserRef<'a> {
    Keys(&'a UserKeys),
    Id(&'a str),
}

impl UserRef<'_> {
    fn id(&self) -> std::borrow::Cow<'_, str> {
        match self {
            UserRef::Keys(keys) => keys.id_cow(),
            UserRef::Id(id) => std::borrow::Cow::Borrowed(id),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            UserRef::Keys(keys) => keys.is_empty(),
            UserRef::Id(id) => id.is_empty(),
        }
    }

    fn passlisted(&self, rules: &crate::rules::ActiveRules) -> bool {
        match self {
            UserRef::Keys(keys) => rules.user_passlisted(keys),
            UserRef::Id(id) => rules.user_pass.contains(*id),
        }
    }
}

impl AgentInner {
    /// What the IP intelligence files say of `ip`, as a playbook's `where` reads it (nothing
    /// without an address or without files).
    fn ip_facts(&self, ip: Option<IpAddr>) -> IpFacts {
        let (Some(intel), Some(ip)) = (&self.intel, ip) else {
            return IpFacts::default();
        };
        let found = intel.lookup(ip);
        IpFacts {
            is_tor: found.is_tor,
            datacenter: found.datacenter,
            country: found
                .geo
                .and_then(|g| g.code)
                .and_then(|code| IpFacts::country_code(&code)),
        }
    }

    /// Records `name` about `subject` and runs the playbooks it feeds.
    pub(crate) fn record_event(
        &self,
        name: &str,
        properties: Map<String, Value>,
        subject: Subject<'_>,
    ) -> Verdict {
        let now = self.now();
        let user_id = subject.user.as_ref().map(UserRef::id);
        if self.wants_events() {
            let event =
                self.build_event(name, properties, subject.ctx, subject.ip, subject.user, now);
            self.emit(event);
        }
        if self.playbooks.is_empty() || self.spared(&subject) {
            return Verdict::Proceed;
        }
        // IPv6 clients are counted and acted on by prefix (`ip::actor`)
        let prefix = self.ipv6_actor_prefix();
        // the IP intelligence of the full address, asked only by playbooks that filter on it
        let facts = || self.ip_facts(subject.ip);
        let actors = Actors {
            ip: subject.ip.map(|ip| actor_ip(ip, prefix)),
            user: user_id.as_deref(),
            facts: Some(Facts(&facts)),
        };
        let mut verdict = Verdict::Proceed;
        for firing in self.playbooks.observe(name, actors, now) {
            let Some(kind) = self.fire(&firing, subject.ip, prefix, now, FireMode::Request) else {
                continue;
            };
            if let Some(ctx) = subject.ctx {
                if is_request_actor(ctx, &firing.actor, prefix) {
                    let reason = match firing.actor {
                        FiringActor::Ip(_) => Reason::Ip,
                        FiringActor::User(_) => Reason::User,
                    };
                    if let Some(v) = self.enforce_now(ctx, kind, reason) {
                        verdict = v;
                    }
                }
            } else {
                verdict = Verdict::from(&kind);
            }
        }
        verdict
    }

    /// True when the subject's activity must not count toward playbooks: a critical IP (unless
    /// configured otherwise), or a pass-listed IP or user.
    fn spared(&self, subject: &Subject<'_>) -> bool {
        if subject.ctx.is_some_and(RequestContext::is_passlisted) {
            return true;
        }
        if let Some(ip) = subject.ip {
            if !self.config.playbooks_block_critical_ips && self.critical.is_critical(ip) {
                return true;
            }
        }
        let rules = self.rules.load();
        let ip_passlisted = subject.ctx.is_none()
            && !rules.ip_pass.is_empty()
            && subject.ip.is_some_and(|ip| rules.ip_pass.contains(ip));
        ip_passlisted
            || (!rules.user_pass.is_empty() && subject.user.is_some_and(|u| u.passlisted(&rules)))
    }

    /// A firing decided by the cluster's counts (`announce`: this replica won its marker; else
    /// another replica announces it and this one only applies the action).
    pub(crate) fn fire_shared(
        &self,
        playbook: Arc<Playbook>,
        actor: FiringActor,
        count: u64,
        now: crate::Millis,
        announce: bool,
    ) {
        let firing = Firing {
            playbook,
            actor,
            count,
        };
        let mode = if announce {
            FireMode::Announce
        } else {
            FireMode::Apply
        };
        self.fire(&firing, None, self.ipv6_actor_prefix(), now, mode);
    }

    /// Tells of a firing: its event, its notification.
    pub(crate) fn announce(&self, event: Option<Event>, notification: PlaybookNotification) {
        self.counters
            .playbooks_fired
            .fetch_add(1, Ordering::Relaxed);
        if let Some(event) = event {
            self.emit(event);
        }
        self.notify(notification);
    }

    /// Carries out a firing (its IP actor is keyed by `prefix`; `client_ip` is the full address
    /// the event names); returns the action applied to the actor, if any.
    fn fire(
        &self,
        firing: &Firing,
        client_ip: Option<IpAddr>,
        prefix: u8,
        now: crate::Millis,
        mode: FireMode,
    ) -> Option<ActionKind> {
        let playbook = &firing.playbook;
        let (kind, lifetime) = match &playbook.response {
            ResponseAction::None => (None, None),
            ResponseAction::Block { lifetime } => (Some(ActionKind::Block), Some(*lifetime)),
            ResponseAction::Redirect { url, lifetime } => {
                (Some(ActionKind::redirect_or_block(url)), Some(*lifetime))
            }
        };
        let actor = match &firing.actor {
            FiringActor::Ip(ip) => Actor::Ip(actor_net(*ip, prefix)),
            FiringActor::User(id) => Actor::User(id.clone()),
        };
        if let Some(kind) = &kind {
            let until = match lifetime {
                Some(Lifetime::For(d)) => Some(crate::duration::expiry(now, d)),
                _ => None,
            };
            let action = Action {
                id: self.actions.next_id(),
                actor: actor.clone(),
                kind: kind.clone(),
                until,
                source: ActionSource::Playbook(playbook.id.clone()),
            };
            match mode {
                // another replica's firing: its action reaches Redis from there
                FireMode::Apply => {
                    self.actions
                        .apply(&ActionChange::Put(Arc::new(action)), now);
                }
                FireMode::Request | FireMode::Announce => {
                    self.actions.put(action, now);
                }
            }
        }
        if mode == FireMode::Apply {
            return kind;
        }
        let action = describe(&playbook.response);
        let (ip, user) = match &firing.actor {
            FiringActor::Ip(ip) => (client_ip.or(Some(*ip)), None),
            FiringActor::User(id) => (None, Some(id.clone())),
        };
        let mut properties = Map::new();
        properties.insert("playbook".into(), playbook.id.clone().into());
        properties.insert("playbook_name".into(), playbook.name.clone().into());
        properties.insert("actor".into(), actor.to_string().into());
        properties.insert("event".into(), playbook.trigger.event.to_string().into());
        properties.insert("count".into(), firing.count.into());
        properties.insert("threshold".into(), playbook.trigger.threshold.into());
        properties.insert(
            "period".into(),
            format_duration(playbook.trigger.period).into(),
        );
        properties.insert("action".into(), action.clone().into());
        let event = self.wants_events().then(|| {
            let user = user.as_deref().map(UserRef::Id);
            self.build_event(names::PLAYBOOK_TRIGGERED, properties, None, ip, user, now)
        });
        let notification = PlaybookNotification {
            playbook_id: playbook.id.clone(),
            playbook_name: playbook.name.clone(),
            severity: playbook.notification.severity,
            frequency: playbook.notification.frequency,
            webhook: playbook.notification.webhook,
            slack: playbook.notification.slack,
            email: playbook.notification.email,
            actor: actor.to_string(),
            event: playbook.trigger.event.to_string(),
            count: firing.count,
            threshold: playbook.trigger.threshold,
            period: playbook.trigger.period,
            action,
            at: now,
        };
        match (mode, self.cluster.get()) {
            // several replicas may fire for one actor: the cluster says which one tells
            (FireMode::Request, Some(cluster)) => {
                let claim = Box::new(Announcement {
                    marker: marker(&playbook.id, &firing.actor),
                    ttl_ms: marker_ttl(playbook),
                    event,
                    notification,
                });
                if let Err(back) = cluster.claim(claim) {
                    self.announce(back.event, back.notification);
                }
            }
            _ => self.announce(event, notification),
        }
        kind
    }

    /// Replaces the current response with `kind` (unless the request is the redirect's own
    /// target or on the redirect pass list); returns the verdict for the handler.
    fn enforce_now(
        &self,
        ctx: &RequestContext,
        kind: ActionKind,
        reason: Reason,
    ) -> Option<Verdict> {
        let rules = self.rules.load();
        if self.exempt(&rules, &kind, ctx.path()) {
            return None;
        }
        self.denied(ctx, &kind, reason);
        let verdict = Verdict::from(&kind);
        *ctx.inner().pending.lock() = Some(PendingResponse::Action(kind));
        Some(verdict)
    }
}

/// How a firing is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FireMode {
    /// On the request path, from this replica's own counts: the action at once; the event and
    /// the notification at once too, or in cluster mode once this replica wins the firing's
    /// marker.
    Request,
    /// From the cluster's counts, this replica having won the marker: everything at once.
    Announce,
    /// From the cluster's counts, another replica announcing it: the action only.
    Apply,
}

/// The cluster marker of a playbook's firing for an actor: `<playbook>:<actor>`.
pub(crate) fn marker(playbook: &str, actor: &FiringActor) -> String {
    let actor = match actor {
        FiringActor::Ip(ip) => ClusterActor::Ip(*ip),
        FiringActor::User(id) => ClusterActor::User(id.clone()),
    };
    format!("{playbook}:{}", actor.key_part())
}

/// How long a firing's marker holds: as long as the playbook's action (it stays quiet
/// meanwhile), or one period for a playbook without one.
pub(crate) fn marker_ttl(playbook: &Playbook) -> u64 {
    let d = match &playbook.response {
        ResponseAction::None => playbook.trigger.period,
        ResponseAction::Block { lifetime } | ResponseAction::Redirect { lifetime, .. } => {
            match lifetime {
                Lifetime::For(d) => *d,
                Lifetime::Permanent => crate::duration::MAX_DURATION,
            }
        }
    };
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// True when the firing's actor is the request's client IP (its actor prefix) or user.
fn is_request_actor(ctx: &RequestContext, actor: &FiringActor, prefix: u8) -> bool {
    match actor {
        FiringActor::Ip(ip) => ctx.client_ip().map(|c| actor_ip(c, prefix)) == Some(*ip),
        FiringActor::User(id) => ctx.user_shared().is_some_and(|u| u.id_cow() == id.as_str()),
    }
}

fn describe(response: &ResponseAction) -> String {
    match response {
        ResponseAction::None => "none".to_owned(),
        ResponseAction::Block { lifetime } => match lifetime {
            Lifetime::Permanent => "block permanently".to_owned(),
            Lifetime::For(_) => format!("block for {lifetime}"),
        },
        ResponseAction::Redirect { url, lifetime } => match lifetime {
            Lifetime::Permanent => format!("redirect to {url} permanently"),
            Lifetime::For(_) => format!("redirect to {url} for {lifetime}"),
        },
    }
}
