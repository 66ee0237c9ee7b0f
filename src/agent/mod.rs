//! [`Agent`]: owns the agent's state and offers the runtime API.
//!
//! An `Agent` is an `Arc` around [`AgentInner`]: cloning it is cheap, and every clone (the layer,
//! the services axum makes per connection, background threads through weak references) shares one
//! state. The state is built once by [`AgentBuilder`]; what changes at run time (rules, actions) is
//! published through atomic snapshot swaps so the request path never waits. Several agents may
//! live in one process; [`global`] holds the one the free functions fall back to.

mod builder;
mod event_build;

pub(crate) mod global;
mod inspect;
mod shutdown;
mod stats;
mod track;
mod waf;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ipnet::IpNet;
use parking_lot::Mutex;

pub(crate) use crate::failure::{guard, FailureKind, FailureLog};
pub use builder::{AgentBuilder, RequestHead, UserResolver};
pub(crate) use global::global;
pub(crate) use inspect::Inspection;
pub use stats::{RaspStats, RemoteRulesStats, Stats, WafStats};
pub(crate) use track::{marker, marker_ttl, Subject, UserRef};
pub(crate) use waf::WafStep;

use crate::action::{Action, ActionKind, ActionSource, ActionStore, Actor, ResponseRenderer};
use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::context::UserKeys;
use crate::error::{Error, Result};
use crate::event::pipeline::Pipeline;
use crate::event::redact::Redactor;
use crate::event::ring::EventRing;
use crate::event::{Event, EventSink};
use crate::ip::{ClientIpResolver, CriticalIps};
use crate::layer::SqreenLayer;

use crate::notify::PlaybookNotification;
use crate::playbook::engine::PlaybookEngine;
use crate::playbook::Playbook;
use crate::rules::{
    ActiveRules, Paranoia, RulesDocument, RulesPoller, RulesSource, RulesWatcher, WafMode,
};

/// The security agent. Create it with [`Agent::from_env`] or [`Agent::builder`], then add
/// [`Agent::layer`] to the app.
///
/// ```
/// let agent = sqreen::Agent::builder().build()?;
/// agent.block_ip("203.0.113.0/24".parse::<ipnet::IpNet>().unwrap(), None)?;
/// let layer = agent.layer(); // `Router::new()...layer(layer)`
/// # let _ = layer;
/// # Ok::<(), sqreen::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Agent {
    pub(crate) inner: Arc<AgentInner>,
}

/// The shared state behind an [`Agent`].
pub(crate) struct AgentInner {
    pub(crate) config: Config,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) resolver: ClientIpResolver,
    pub(crate) critical: CriticalIps,
    pub(crate) rules: ArcSwap<ActiveRules>,
    pub(crate) actions: ActionStore,
    pub(crate) renderer: ResponseRenderer,
    pub(crate) counters: stats::Counters,
    pub(crate) failures: Arc<FailureLog>,
    pub(crate) user_resolver: Option<UserResolver>,
    /// User monitoring mode, user id anonymization, automatic login tracking.
    pub(crate) users: crate::user::UserPolicy,
    pub(crate) watcher: Mutex<Option<RulesWatcher>>,
    /// The rules URL's poller (`SQREEN_RULES_URL`), when one runs.
    pub(crate) poller: Mutex<Option<RulesPoller>>,
    pub(crate) playbooks: PlaybookEngine,
    /// Playbooks given in code; the rules document's playbooks replace those with the same id.
    pub(crate) code_playbooks: Vec<Playbook>,
    pub(crate) events: Arc<dyn EventSink>,
    /// The notifier's queue and thread (none when the agent is disabled).
    pub(crate) notify: Option<crate::notify::queue::NotifyQueue>,
    pub(crate) redactor: Arc<Redactor>,
    pub(crate) pipeline: Option<Pipeline>,
    /// The recent events the admin API serves, fed by the pipeline (when `SQREEN_ADMIN_TOKEN`
    /// is set).
    pub(crate) recent: Option<Arc<EventRing>>,
    /// When the agent was built, by its clock.
    pub(crate) started: Millis,
    /// Cluster mode's sync with Redis, when `SQREEN_REDIS_URL` is set (started after the
    /// agent, which its thread holds weakly).
    pub(crate) cluster: std::sync::OnceLock<crate::cluster::Cluster>,
    /// The IP lists (`SQREEN_TOR_EXIT_LIST`, `SQREEN_DATACENTER_RANGES`) and their watcher,
    /// when a file is configured.
    pub(crate) intel: Option<crate::intel::IpIntel>,
    /// The admin API's own listener (`SQREEN_ADMIN_ADDR=ip:port`) and its address. The agent
    /// only stops it: the admin API depends on the agent, not the reverse.
    pub(crate) admin_server: std::sync::OnceLock<(std::net::SocketAddr, Box<dyn Background>)>,
}

/// A thread the builder started for the agent (the admin listener) that the agent stops.
pub(crate) trait Background: Send + Sync {
    /// Tells it to stop; does not wait.
    fn stop(&self);
    /// Tells it to stop and waits until it has.
    fn stop_and_wait(&self);
}

impl std::fmt::Debug for AgentInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rules = self.rules.load();
        f.debug_struct("Agent")
            .field("disabled", &self.config.disabled)
            .field("rules_version", &rules.version)
            .field("rules_source", &rules.source)
            .field("actions", &self.actions)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// An agent configured from the `SQREEN_*` environment variables (and the rules file they
    /// name). A malformed value is an error naming the variable and the value.
    pub fn from_env() -> Result<Agent> {
        AgentBuilder::from_config(Config::from_env()?).build()
    }

    /// A builder with the default settings (not the environment's; see
    /// [`AgentBuilder::from_env`]).
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// The tower layer that protects a service with this agent; for an axum `Router`,
    /// `agent.layer().axum()` (see `SqreenLayer::axum`).
    pub fn layer(&self) -> SqreenLayer {
        SqreenLayer::new(self.clone())
    }

    /// The settings the agent was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Blocks an IP network (a single address is fine: `ip.into()`), for `duration` or for good.
    /// Returns the action's id. Replaces any earlier action on the same network.
    ///
    /// A `duration` over ten years ([`MAX_DURATION`](crate::duration::MAX_DURATION)) is an error
    /// naming `duration` (`None` is for good), as for every method that adds an action.
    pub fn block_ip(&self, net: impl Into<IpNet>, duration: Option<Duration>) -> Result<u64> {
        self.act(Actor::Ip(net.into()), ActionKind::Block, duration)
    }

    /// Redirects an IP network to `url` (an `http(s)://` URL or a path starting with `/`; anything
    /// else makes the action a block), for `duration` or for good. Returns the action's id.
    pub fn redirect_ip(
        &self,
        net: impl Into<IpNet>,
        url: &str,
        duration: Option<Duration>,
    ) -> Result<u64> {
        self.act(
            Actor::Ip(net.into()),
            ActionKind::redirect_or_block(url),
            duration,
        )
    }

    /// Lifts the actions on exactly this network (not on wider or narrower ones, nor the rules
    /// document's deny list). True if there was one. An IPv6 network narrower than the actor
    /// prefix names that prefix's network, as when the action was added.
    pub fn unblock_ip(&self, net: impl Into<IpNet>) -> bool {
        let now = self.inner.now();
        let actor = self.inner.actor_scope(Actor::Ip(net.into()));
        self.inner.actions.remove_actor(&actor, now) > 0
    }

    /// Blocks a user, by canonical id or by the value of one of its keys (see [`UserKeys`]).
    /// With `SQREEN_USER_ID_MODE=anonymized`, give the raw id (it is hashed) or the hash events
    /// show (64 lowercase hex digits, taken as is).
    pub fn block_user(&self, user: &str, duration: Option<Duration>) -> Result<u64> {
        self.act(
            Actor::User(user.trim().to_owned()),
            ActionKind::Block,
            duration,
        )
    }

    /// Redirects a user to `url`, like [`redirect_ip`](Self::redirect_ip).
    pub fn redirect_user(&self, user: &str, url: &str, duration: Option<Duration>) -> Result<u64> {
        self.act(
            Actor::User(user.trim().to_owned()),
            ActionKind::redirect_or_block(url),
            duration,
        )
    }

    /// Lifts the actions on this user (raw id or hash, as for [`block_user`](Self::block_user)).
    /// True if there was one.
    pub fn unblock_user(&self, user: &str) -> bool {
        let now = self.inner.now();
        let id = self.inner.users.operator_id(user.trim()).into_owned();
        self.inner.actions.remove_actor(&Actor::User(id), now) > 0
    }

    /// The id under which the agent counts, stores, matches and shows the user whose canonical
    /// id (see [`UserKeys::id`]) is `id`: `id` itself, or with `SQREEN_USER_ID_MODE=anonymized`
    /// its salted SHA-256 in lowercase hex, as events and playbook actions show it.
    ///
    /// ```
    /// let agent = sqreen::Agent::builder()
    ///     .user_id_mode(sqreen::UserIdMode::Anonymized)
    ///     .user_id_salt("a salt of 16 characters or more")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(agent.user_id("alice@example.com").len(), 64);
    /// ```
    pub fn user_id(&self, id: &str) -> String {
        self.inner.users.user_id(id).into_owned()
    }

    /// Lifts the action with this id. True if it was active.
    pub fn remove_action(&self, id: u64) -> bool {
        self.inner.actions.remove(id, self.inner.now())
    }

    /// The runtime actions in force (not the rules document's deny lists), ordered by id.
    pub fn actions(&self) -> Vec<Arc<Action>> {
        self.inner.actions.list(self.inner.now())
    }

    /// The store of runtime actions, to observe or replay its changes.
    pub fn action_store(&self) -> &ActionStore {
        &self.inner.actions
    }

    /// Reloads the rules file named by `SQREEN_RULES_PATH` now. On error the rules in force stay.
    pub fn reload_rules(&self) -> Result<()> {
        match &self.inner.config.rules_path {
            Some(path) => self.inner.reload_rules_file(path),
            None => Err(Error::config(
                "SQREEN_RULES_PATH",
                "",
                "no rules file is configured",
            )),
        }
    }

    /// Puts `document` in force now, in place of the current rules. With a rules URL, it stays
    /// in force until the URL serves a document different from the one in force.
    pub fn set_rules(&self, document: RulesDocument) {
        self.inner.install_rules(document, RulesSource::Code);
    }

    /// The `version` of the rules document in force, if it has one.
    pub fn rules_version(&self) -> Option<String> {
        self.inner.rules.load().version.clone()
    }

    /// Where the rules in force came from (the file, the rules URL, its disk cache, code...).
    pub fn rules_source(&self) -> RulesSource {
        self.inner.rules.load().source.clone()
    }

    /// The WAF mode in force: the rules document's `waf.mode` if it states one, else the
    /// environment's (`SQREEN_WAF_MODE`).
    pub fn waf_mode(&self) -> WafMode {
        self.inner
            .rules
            .load()
            .waf
            .mode
            .unwrap_or(self.inner.config.waf_mode)
    }

    /// The WAF paranoia level in force: the rules document's `waf.paranoia` if it states one,
    /// else the environment's (`SQREEN_WAF_PARANOIA`).
    pub fn waf_paranoia(&self) -> Paranoia {
        self.inner
            .rules
            .load()
            .waf
            .paranoia
            .unwrap_or(self.inner.config.waf_paranoia)
    }

    /// The playbooks in force: those given in code, then the rules document's (which replace
    /// code playbooks with the same id).
    pub fn playbooks(&self) -> Vec<Playbook> {
        self.inner.playbooks_in_force()
    }

    /// True when `ip` is critical (see [`crate::ip::CriticalIps`]) for this agent.
    pub fn is_critical_ip(&self, ip: IpAddr) -> bool {
        self.inner.critical.is_critical(ip)
    }

    /// A snapshot of the agent's counters.
    pub fn stats(&self) -> Stats {
        let counters = self.inner.playbooks.counters();
        let mut stats = self.inner.counters.snapshot(
            self.inner.failures.count(),
            counters.len() as u64,
            counters.evictions(),
        );
        stats.actions_evicted = self.inner.actions.evictions();
        stats.notifications_dropped = self.inner.notify.as_ref().map_or(0, |q| q.dropped());
        if let Some(cluster) = self.inner.cluster.get() {
            stats.cluster = cluster.stats(self.inner.now());
        }
        if let Some(pipeline) = &self.inner.pipeline {
            stats.events = pipeline.stats();
        }
        stats.admin_unauthorized = self
            .inner
            .counters
            .admin_unauthorized
            .load(std::sync::atomic::Ordering::Relaxed);
        if let Some(intel) = &self.inner.intel {
            stats.ip_lists = intel.stats();
        }
        stats
    }

    fn act(&self, actor: Actor, kind: ActionKind, duration: Option<Duration>) -> Result<u64> {
        let actor = self.inner.actor_scope(actor);
        if let Some(d) = duration {
            crate::duration::check_max("duration", d)
                .map_err(|reason| Error::config("duration", format!("{}s", d.as_secs()), reason))?;
        }
        let now = self.inner.now();
        let actor = match actor {
            Actor::User(id) => Actor::User(self.inner.users.operator_id(&id).into_owned()),
            ip => ip,
        };
        let action = Action {
            id: self.inner.actions.next_id(),
            actor,
            kind,
            until: duration.map(|d| crate::duration::expiry(now, d)),
            source: ActionSource::Api,
        };
        tracing::info!(target: "sqreen", actor = %action.actor, kind = ?action.kind, until = ?action.until, "action added");
        Ok(self.inner.actions.put(action, now).id)
    }
}

impl AgentInner {
    pub(crate) fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// The prefix length IPv6 actors are keyed by: the rules document's, else the config's.
    pub(crate) fn ipv6_actor_prefix(&self) -> u8 {
        self.rules
            .load()
            .ipv6_actor_prefix
            .unwrap_or(self.config.ipv6_actor_prefix)
    }

    /// An action's actor as the store keys it: an IPv6 network narrower than the actor prefix
    /// widened to it (see [`crate::ip::actor`]), any network truncated to its prefix.
    pub(crate) fn actor_scope(&self, actor: Actor) -> Actor {
        match actor {
            Actor::Ip(net) => Actor::Ip(crate::ip::actor::widen(net, self.ipv6_actor_prefix())),
            user => user,
        }
    }

    /// True when recording an event is worth building it.
    pub(crate) fn wants_events(&self) -> bool {
        self.pipeline.is_some() || self.events.wants_events()
    }

    /// Hands an event to the user's sink and to the pipeline; never blocks.
    pub(crate) fn emit(&self, event: Event) {
        if self.events.wants_events() {
            // the application's sink: a panic there must not cut short the agent's work on this
            // request (counts, firings, actions, notifications): it is counted, and that is all
            let sink = std::panic::AssertUnwindSafe(|| self.events.record(&event));
            if std::panic::catch_unwind(sink).is_err() {
                self.failures.record(FailureKind::EventSink, false);
            }
        }
        if let Some(pipeline) = &self.pipeline {
            pipeline.send_event(event);
        }
    }

    /// Hands a playbook notification to the notifier's thread and to the pipeline; never
    /// blocks, never runs the notifier here.
    pub(crate) fn notify(&self, notification: PlaybookNotification) {
        if let Some(queue) = &self.notify {
            queue.send(notification.clone());
        }
        if let Some(pipeline) = &self.pipeline {
            pipeline.send_notification(notification);
        }
    }

    /// Loads, validates and installs the rules file; on error logs it and keeps the rules in force.
    pub(crate) fn reload_rules_file(&self, path: &Path) -> Result<()> {
        match RulesDocument::load(path) {
            Ok(doc) => {
                self.install_rules(doc, RulesSource::File(path.to_owned()));
                Ok(())
            }
            Err(e) => {
                stats::Counters::bump(&self.counters.rules_rejected);
                let version = self.rules.load().version.clone();
                tracing::warn!(target: "sqreen", error = %e, in_force = ?version, "rules file rejected; the previous rules stay in force");
                Err(e)
            }
        }
    }

    pub(crate) fn install_rules(&self, doc: RulesDocument, source: RulesSource) {
        let mut active = ActiveRules::compile(doc, source);
        self.users.prepare_rules(&mut active);
        self.playbooks.install(
            &merge_playbooks(&self.code_playbooks, &active.playbooks),
            self.now(),
        );
        self.rules.store(Arc::new(active));
        self.warm_up_waf();
        self.log_rules("rules in force");
        stats::Counters::bump(&self.counters.rules_loaded);
    }

    /// Builds the WAF's tables when the rules in force put it on (see [`crate::waf::warm_up`]).
    pub(crate) fn warm_up_waf(&self) {
        let mode = self.rules.load().waf.mode.unwrap_or(self.config.waf_mode);
        if mode != WafMode::Off && !self.config.disabled {
            crate::waf::warm_up();
        }
    }

    /// Logs what the rules in force hold.
    pub(crate) fn log_rules(&self, message: &str) {
        let rules = self.rules.load();
        tracing::info!(
            target: "sqreen",
            version = ?rules.version,
            source = %rules.source,
            ip_denylist = rules.ip_deny.len(),
            ip_passlist = rules.ip_pass.len(),
            user_denylist = rules.user_deny.len(),
            playbooks = self.playbooks_in_force().len(),
            "{message}"
        );
        if self.config.smtp_url.is_none() && !self.config.disabled {
            for place in email_without_smtp(&self.code_playbooks, &rules.playbooks) {
                tracing::warn!(
                    target: "sqreen",
                    %place,
                    "{place}: email is true, but SQREEN_SMTP_URL is not set: no email will be sent for this playbook",
                );
            }
        }
    }

    pub(crate) fn playbooks_in_force(&self) -> Vec<Playbook> {
        merge_playbooks(&self.code_playbooks, &self.rules.load().playbooks)
    }

    /// The active runtime action on this user, trying its canonical id and each key value.
    pub(crate) fn user_action(&self, user: &UserKeys, now: Millis) -> Option<Arc<Action>> {
        if !self.actions.has_user_actions() {
            return None;
        }
        user.match_candidates()
            .find_map(|c| self.actions.lookup_user(&c, now))
    }
}

/// Where playbooks in force ask for email: `playbooks[i].notification.email` in the rules
/// document, `playbook "id" (code): notification.email` for a playbook written in code. A
/// notification channel that is not configured is a warning, not an error: one rules document
/// serves every environment, and a staging without SMTP must not lose its security rules.
fn email_without_smtp(code: &[Playbook], document: &[Playbook]) -> Vec<String> {
    let from_code = code
        .iter()
        .filter(|c| c.notification.email && !document.iter().any(|d| d.id == c.id))
        .map(|c| format!("playbook {:?} (code): notification.email", c.id));
    let from_document = document
        .iter()
        .enumerate()
        .filter(|(_, d)| d.notification.email)
        .map(|(i, _)| format!("playbooks[{i}].notification.email"));
    from_code.chain(from_document).collect()
}

/// Code playbooks, then the document's; a document playbook replaces a code one with its id.
pub(crate) fn merge_playbooks(code: &[Playbook], document: &[Playbook]) -> Vec<Playbook> {
    code.iter()
        .filter(|c| !document.iter().any(|d| d.id == c.id))
        .chain(document)
        .cloned()
        .collect()
}
