//! [`AgentBuilder`]: the agent's settings in code, validated by [`AgentBuilder::build`].
//!
//! Setters that take text (CIDRs, header names, rules JSON) never panic: the first bad value is
//! kept and returned by `build()` as an [`Error`] naming the setting and the value, the same way
//! [`Config::from_env`] names the variable.

use crate::notify::queue::NotifyQueue;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use parking_lot::Mutex;

use super::{stats, Agent, AgentInner, FailureLog};
use crate::action::{ActionStore, ResponseRenderer, Templates};
use crate::admin::{AdminApi, AdminServer};
use crate::clock::{Clock, CoarseClock};
use crate::config::{
    self, parse_admin_path, parse_admin_token, parse_cidrs, AdminListener, Config,
};
use crate::context::UserKeys;
use crate::counter::{CounterStore, LocalCounterStore};
use crate::error::{Error, Result};
use crate::event::pipeline::Pipeline;
use crate::event::redact::Redactor;
use crate::event::ring::{self, EventRing};
use crate::event::{EventSink, LogSink};
use crate::ip::{ClientIpResolver, CriticalIps};
use crate::notify::RetryPolicy;
use crate::notify::{LogNotifier, Notifier};
use crate::playbook::engine::PlaybookEngine;
use crate::playbook::{Playbook, PlaybookBuilder};
use crate::rules::{
    ActiveRules, FileStamp, Paranoia, RemoteSource, RulesDocument, RulesPoller, RulesSource,
    RulesWatcher, WafMode,
};
use crate::user::{UserIdMode, UserMonitoring, UserPolicy};

/// What a [`UserResolver`] sees of a request: everything but the body.
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestHead<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URI.
    pub uri: &'a Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The extensions, where an authentication layer may have put the user.
    pub extensions: &'a Extensions,
}

/// A function that tells who the user of a request is, run by the layer before the handler; a
/// user it names is checked against the user lists and actions as `identify` would.
pub type UserResolver = Arc<dyn Fn(&RequestHead<'_>) -> Option<UserKeys> + Send + Sync>;

/// Builds an [`Agent`]. Start from [`Agent::builder`] (defaults) or [`AgentBuilder::from_env`].
///
/// ```
/// use std::time::Duration;
/// let agent = sqreen::Agent::builder()
///     .trusted_proxies(["10.0.0.0/8"])
///     .ip_header("CF-Connecting-IP")
///     .rules_json(r#"{"ip_denylist": ["203.0.113.0/24"]}"#)
///     .build()
///     .unwrap();
/// assert!(agent.config().ip_header.is_some());
/// ```
pub struct AgentBuilder {
    config: Config,
    clock: Arc<dyn Clock>,
    rules: Option<RulesDocument>,
    templates: Option<Templates>,
    redirect_status: StatusCode,
    user_resolver: Option<UserResolver>,
    rules_poll_interval: Duration,
    rules_url_policy: RetryPolicy,
    playbooks: Vec<Playbook>,
    events: Arc<dyn EventSink>,
    notifier: Arc<dyn Notifier>,
    counters: Option<Arc<dyn CounterStore>>,
    error: Option<Error>,
}

impl Default for AgentBuilder {
    fn default() -> Self {
        AgentBuilder::from_config(Config::default())
    }
}

impl std::fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("config", &self.config)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    /// A builder starting from the `SQREEN_*` environment variables.
    pub fn from_env() -> Result<Self> {
        Ok(AgentBuilder::from_config(Config::from_env()?))
    }

    /// A builder starting from `config`.
    pub fn from_config(config: Config) -> Self {
        AgentBuilder {
            config,
            clock: Arc::new(CoarseClock),
            rules: None,
            templates: None,
            redirect_status: StatusCode::SEE_OTHER,
            user_resolver: None,
            rules_poll_interval: Duration::from_secs(1),
            rules_url_policy: crate::rules::remote::default_policy(),
            playbooks: Vec::new(),
            events: Arc::new(LogSink),
            notifier: Arc::new(LogNotifier),
            counters: None,
            error: None,
        }
    }

    /// Changes any setting of the [`Config`].
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// `SQREEN_DISABLE`: pass everything through untouched.
    pub fn disabled(self, disabled: bool) -> Self {
        self.configure(|c| c.disabled = disabled)
    }

    /// `SQREEN_TRUSTED_PROXIES`: the peers whose forwarded headers are believed (CIDRs or
    /// addresses). An empty list trusts no proxy.
    pub fn trusted_proxies<I, S>(mut self, nets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = join(nets);
        match parse_cidrs(&joined) {
            Ok(set) => self.config.trusted_proxies = set,
            Err(reason) => self.fail(Error::config("trusted_proxies", joined, reason)),
        }
        self
    }

    /// `SQREEN_CRITICAL_IPS`: extra critical networks, e.g. your load balancers.
    pub fn critical_ips<I, S>(mut self, nets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = join(nets);
        match parse_cidrs(&joined) {
            Ok(set) => self.config.critical_ips = set,
            Err(reason) => self.fail(Error::config("critical_ips", joined, reason)),
        }
        self
    }

    /// `SQREEN_IP_HEADER`: the one header that names the client.
    pub fn ip_header(mut self, name: &str) -> Self {
        match http::HeaderName::from_bytes(name.trim().as_bytes()) {
            Ok(h) => self.config.ip_header = Some(h),
            Err(_) => self.fail(Error::config(
                "ip_header",
                name,
                "not a valid HTTP header name",
            )),
        }
        self
    }

    /// `SQREEN_WAF_MODE`.
    pub fn waf_mode(self, mode: WafMode) -> Self {
        self.configure(|c| c.waf_mode = mode)
    }

    /// `SQREEN_WAF_PARANOIA`: which of the WAF's rules run (see [`Paranoia`]).
    pub fn waf_paranoia(self, paranoia: Paranoia) -> Self {
        self.configure(|c| c.waf_paranoia = paranoia)
    }

    /// `SQREEN_FAIL_CLOSED`: answer 503 when the agent fails internally.
    pub fn fail_closed(self, fail_closed: bool) -> Self {
        self.configure(|c| c.fail_closed = fail_closed)
    }

    /// `SQREEN_RULES_PATH`: the rules file, loaded at build and reloaded when it changes.
    pub fn rules_path(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.configure(|c| c.rules_path = Some(path))
    }

    /// Rules given in code (used instead of the rules file at start-up).
    pub fn rules(mut self, document: RulesDocument) -> Self {
        self.rules = Some(document);
        self
    }

    /// Rules given in code as JSON (the rules document format).
    pub fn rules_json(mut self, json: &str) -> Self {
        match RulesDocument::parse(json) {
            Ok(doc) => self.rules = Some(doc),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Block page templates, HTML and JSON, with `{rid}` placeholders (instead of the files of
    /// `SQREEN_BLOCK_HTML_PATH` / `SQREEN_BLOCK_JSON_PATH`).
    pub fn block_templates(mut self, html: &str, json: &str) -> Self {
        self.templates = Some(Templates::new(html, json));
        self
    }

    /// The status of redirects: 303 (default), 301, 302 or 307.
    pub fn redirect_status(mut self, status: StatusCode) -> Self {
        if matches!(status.as_u16(), 301 | 302 | 303 | 307) {
            self.redirect_status = status;
        } else {
            self.fail(Error::config(
                "redirect_status",
                status.as_str(),
                "expected 301, 302, 303 or 307",
            ));
        }
        self
    }

    /// The clock (a [`crate::ManualClock`] in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A function run before the handler that tells who the user is (e.g. from a session or an
    /// authentication layer's extension). Its users are checked like [`crate::identify`]'s.
    pub fn user_resolver(
        mut self,
        f: impl Fn(&RequestHead<'_>) -> Option<UserKeys> + Send + Sync + 'static,
    ) -> Self {
        self.user_resolver = Some(Arc::new(f));
        self
    }

    /// `SQREEN_USER_MONITORING`: `Automatic` also takes the user from an
    /// [`crate::AuthenticatedUser`] extension, HTTP Basic credentials and bearer JWTs; `Off`
    /// handles no user at all (see the README's "Automatic user monitoring").
    pub fn user_monitoring(self, mode: UserMonitoring) -> Self {
        self.configure(|c| c.user_monitoring = mode)
    }

    /// `SQREEN_JWT_USER_CLAIM`: the JWT claim that names the user (default `sub`).
    pub fn jwt_user_claim(mut self, claim: &str) -> Self {
        match config::field_name(claim) {
            Ok(claim) => self.config.jwt_user_claim = claim,
            Err(reason) => self.fail(Error::config("jwt_user_claim", claim, reason)),
        }
        self
    }

    /// `SQREEN_LOGIN_PATH` and `SQREEN_LOGIN_USER_FIELD`: track logins on `POST path`
    /// automatically, the user named by the form or JSON field `user_field`.
    pub fn login_tracking(mut self, path: &str, user_field: &str) -> Self {
        match config::login_path(path) {
            Ok(path) => self.config.login_path = Some(path),
            Err(reason) => self.fail(Error::config("login_tracking", path, reason)),
        }
        match config::field_name(user_field) {
            Ok(field) => self.config.login_user_field = field,
            Err(reason) => self.fail(Error::config("login_tracking", user_field, reason)),
        }
        self
    }

    /// `SQREEN_USER_ID_MODE`: key users by raw id or by salted hash.
    pub fn user_id_mode(self, mode: UserIdMode) -> Self {
        self.configure(|c| c.user_id_mode = mode)
    }

    /// `SQREEN_USER_ID_SALT`: the salt of anonymized user ids, at least 16 characters (without
    /// it, a random salt is drawn at start and hashes change at every restart).
    pub fn user_id_salt(mut self, salt: &str) -> Self {
        match config::user_id_salt(salt) {
            Ok(salt) => self.config.user_id_salt = Some(salt),
            Err(reason) => self.fail(Error::config("user_id_salt", "<hidden>", reason)),
        }
        self
    }

    /// How often the rules file is checked for changes (default 1 s, at most
    /// `SQREEN_RULES_REFRESH_SECS`). A check reads only the file's metadata.
    pub fn rules_poll_interval(mut self, every: Duration) -> Self {
        self.rules_poll_interval = every.max(Duration::from_millis(10));
        self
    }

    /// `SQREEN_RULES_URL`: fetch the rules document from this `http(s)://` URL, every
    /// [`rules_refresh`](Self::rules_refresh), instead of a rules file (setting both is an error
    /// at build). See the README's "Remote rules".
    pub fn rules_url(mut self, url: &str) -> Self {
        match crate::config::parse_url(url) {
            Ok(url) => self.config.rules_url = Some(url),
            Err(reason) => self.fail(Error::config("rules_url", url, reason)),
        }
        self
    }

    /// `SQREEN_REDIS_URL`: cluster mode, sharing runtime actions with the other replicas
    /// through this Redis (`redis://[user:password@]host[:port][/db]`, or `rediss://` with the
    /// `tls` feature). See the README's "Several replicas". A bad URL is an error at build,
    /// shown without its password; an unreachable Redis is not (the agent starts degraded and
    /// keeps trying).
    pub fn redis(mut self, url: &str) -> Self {
        match crate::cluster::RedisUrl::parse(url) {
            Ok(url) => self.config.redis_url = Some(url),
            Err(reason) => self.fail(Error::config("redis", crate::cluster::redact(url), reason)),
        }
        self
    }

    /// `SQREEN_TOR_EXIT_LIST`: a file of Tor exit addresses (the bulk exit list format: one
    /// address a line, `#` comments), read at build (an unreadable or bad file is an error) and
    /// reloaded when it changes (a bad new version is logged and the previous list stays).
    /// Events get `ip_meta.is_tor`. The agent never fetches the list: keep the file up to date.
    pub fn tor_exit_list(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.configure(|c| c.tor_exit_list = Some(path))
    }

    /// `SQREEN_DATACENTER_RANGES`: a file of CIDRs, one a line, each optionally followed by a
    /// provider name (`3.5.140.0/22 aws`), `#` comments; read at build (a bad file is an error)
    /// and reloaded when it changes (a bad new version is logged, the previous ranges stay).
    /// Events get `ip_meta.datacenter` and `provider`.
    pub fn datacenter_ranges(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.configure(|c| c.datacenter_ranges = Some(path))
    }

    /// `SQREEN_GEOIP_DB`: a MaxMind DB file (GeoLite2/GeoIP2 City or Country, DB-IP Lite,
    /// IPinfo), read into memory and verified at build (a corrupt file is an error) and
    /// reloaded when it changes (a corrupt new version is logged, the previous one stays).
    /// Events get `ip_meta.geo` (`code`, `city`, `point`) and `ip_meta.asn`.
    pub fn geoip_db(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.configure(|c| c.geoip_db = Some(path))
    }

    /// `SQREEN_SMTP_URL`: the SMTP server of email notifications:
    /// `smtps://user:password@host[:port]` (TLS), `smtp://user:password@host[:port]?tls=required`
    /// (STARTTLS) or `smtp://host[:port]` (a local relay); see
    /// [`SmtpUrl`](crate::notify::email::SmtpUrl). Needs [`email_from`](Self::email_from) and
    /// [`email_to`](Self::email_to). A bad URL is an error at build, shown without its user
    /// and password; an unreachable server is not (emails are retried).
    pub fn smtp(mut self, url: &str) -> Self {
        match crate::notify::email::SmtpUrl::parse(url) {
            Ok(url) => self.config.smtp_url = Some(url),
            Err(reason) => self.fail(Error::config(
                "smtp",
                crate::notify::email::redact(url),
                reason,
            )),
        }
        self
    }

    /// `SQREEN_EMAIL_FROM`: the sender of email notifications (`sqreen@example.com` or
    /// `Sqreen <sqreen@example.com>`).
    pub fn email_from(mut self, address: &str) -> Self {
        match crate::notify::email::EmailAddress::parse(address) {
            Ok(address) => self.config.email_from = Some(address),
            Err(reason) => self.fail(Error::config("email_from", address, reason)),
        }
        self
    }

    /// `SQREEN_EMAIL_TO`: the recipients of email notifications (1 to 50 addresses).
    pub fn email_to<I, S>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list = join(addresses);
        match crate::notify::email::EmailAddress::parse_list(&list) {
            Ok(to) => self.config.email_to = to,
            Err(reason) => self.fail(Error::config("email_to", list, reason)),
        }
        self
    }

    /// `SQREEN_CLUSTER_SYNC_MS`: how often a replica syncs with Redis (default 100 ms; 10 ms
    /// to 60 s, else an error at build).
    pub fn cluster_sync(mut self, every: Duration) -> Self {
        self.config.cluster_sync = every;
        self
    }

    /// `SQREEN_CLUSTER_NAMESPACE`: the prefix of every Redis key (default `sqreen`), so that
    /// several apps share one Redis without seeing each other's actions.
    pub fn cluster_namespace(mut self, namespace: &str) -> Self {
        match crate::cluster::check_namespace(namespace) {
            Ok(ns) => self.config.cluster_namespace = ns,
            Err(reason) => self.fail(Error::config("cluster_namespace", namespace, reason)),
        }
        self
    }

    /// `SQREEN_RULES_CACHE_PATH`: where the rules URL's last good document is kept (written
    /// atomically), to be used at a start while the URL is down. Its directory must exist.
    pub fn rules_cache_path(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.configure(|c| c.rules_cache_path = Some(path))
    }

    /// `SQREEN_RULES_SECRET`: documents from the rules URL (and its disk cache) are refused
    /// unless they carry a valid [`crate::rules::remote::SIGNATURE_HEADER`].
    pub fn rules_secret(mut self, secret: &str) -> Self {
        if secret.trim().is_empty() {
            self.fail(Error::config("rules_secret", "", "must not be empty"));
        } else {
            self.config.rules_secret = Some(secret.to_owned());
        }
        self
    }

    /// `SQREEN_RULES_REFRESH_SECS` (default 30 s): how often the rules URL is polled, and the
    /// longest wait between two checks of the rules file. Shorter than a second in tests, if you
    /// like (at least 10 ms).
    pub fn rules_refresh(self, every: Duration) -> Self {
        let every = every.max(Duration::from_millis(10));
        self.configure(|c| c.rules_refresh = every)
    }

    /// Timeouts and failure backoff of the rules URL. Default: connect 2 s, whole request 10 s;
    /// after the n-th failure in a row (connection error, timeout, status other than 200 and 304)
    /// the next poll waits between half and all of `first_backoff × 2^(n−1)` (1 s at first),
    /// capped at `max_backoff` (5 minutes).
    pub fn rules_url_policy(mut self, policy: RetryPolicy) -> Self {
        self.rules_url_policy = policy;
        self
    }

    /// Adds a playbook written in code (see [`Playbook::on`]). A rules-document playbook with the
    /// same id replaces it while the document is in force.
    pub fn playbook(mut self, playbook: PlaybookBuilder) -> Self {
        match playbook.build() {
            Ok(p) if self.playbooks.iter().any(|q| q.id == p.id) => self.fail(Error::rules(
                format!("playbook {:?}: id", p.id),
                "duplicate id",
            )),
            Ok(p) => self.playbooks.push(p),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Where events go (default: debug log lines). Called on the request path: must not block.
    pub fn event_sink(mut self, sink: impl EventSink) -> Self {
        self.events = Arc::new(sink);
        self
    }

    /// Where playbook notifications go (default: a log line each). Called on the agent's
    /// `sqreen-notify` thread, never on the request path, one notification at a time (a bounded
    /// queue: a notifier slower than the playbooks fire loses the newest, counted in
    /// `Stats::notifications_dropped`); a panic there is caught and counted.
    pub fn notifier(mut self, notifier: impl Notifier) -> Self {
        self.notifier = Arc::new(notifier);
        self
    }

    /// `SQREEN_ADMIN_TOKEN`: serves the admin API (health, metrics, events, actions, the Events
    /// Explorer) to requests that carry `Authorization: Bearer <token>`. At least 16 characters.
    pub fn admin_token(mut self, token: &str) -> Self {
        match parse_admin_token(token) {
            Ok(token) => self.config.admin_token = Some(token),
            // the value is a secret: the error does not repeat it
            Err(reason) => self.fail(Error::config("admin_token", "(hidden)", reason)),
        }
        self
    }

    /// `SQREEN_ADMIN_PATH`: where the admin API is served (default `/_sqreen`).
    pub fn admin_path(mut self, path: &str) -> Self {
        match parse_admin_path(path) {
            Ok(path) => self.config.admin_path = path,
            Err(reason) => self.fail(Error::config("admin_path", path, reason)),
        }
        self
    }

    /// `SQREEN_ADMIN_ADDR`: which listener serves the admin API (default: the application's own,
    /// through the layer). With [`AdminListener::Addr`] the agent serves it on that address
    /// itself, and the build fails if the address cannot be bound.
    pub fn admin_listener(mut self, listener: AdminListener) -> Self {
        self.config.admin_listener = listener;
        self
    }

    /// The store of playbook counters (default: in-process, bounded by `SQREEN_MAX_ACTORS`).
    pub fn counter_store(mut self, store: Arc<dyn CounterStore>) -> Self {
        self.counters = Some(store);
        self
    }

    /// Validates everything and starts the agent (and its rules watcher, if a rules file is set,
    /// or its rules URL poller). With a rules URL, the rules at start are the disk cache's
    /// document if there is a good one, else those given in code, else none; the URL's document
    /// replaces them as soon as it answers (build does not wait for it).
    pub fn build(self) -> Result<Agent> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let config = self.config;
        config.validate()?;
        let templates = match self.templates {
            Some(t) => t,
            None => Templates::from_files(
                config.block_html_path.as_deref(),
                config.block_json_path.as_deref(),
            )?,
        };
        let users = UserPolicy::new(&config);
        let remote = RemoteSource::from_config(&config, self.rules_url_policy)?;
        let cold = remote
            .as_ref()
            .map(RemoteSource::cold_start)
            .unwrap_or_default();
        let (cached, cached_entry) = match cold.cached {
            Some((entry, doc, source)) => (Some((doc, source)), Some(entry)),
            None => (None, None),
        };
        let (mut rules, stamp) = match (cached, self.rules, &config.rules_path) {
            (Some((doc, source)), _, _) => (ActiveRules::compile(doc, source), None),
            (None, Some(doc), _) => (ActiveRules::compile(doc, RulesSource::Code), None),
            (None, None, Some(path)) => {
                let stamp = FileStamp::of(path);
                let doc = RulesDocument::load(path).map_err(|e| match e.place() {
                    Some(_) => e,
                    None => Error::config(
                        "SQREEN_RULES_PATH",
                        path.display().to_string(),
                        e.to_string(),
                    ),
                })?;
                let source = RulesSource::File(path.clone());
                (ActiveRules::compile(doc, source), stamp)
            }
            (None, None, None) => (ActiveRules::empty(), None),
        };
        users.prepare_rules(&mut rules);
        let watch = match (&rules.source, config.disabled) {
            (RulesSource::File(path), false) => Some(path.clone()),
            _ => None,
        };
        let poll = self.rules_poll_interval.min(config.rules_refresh);
        // a disabled agent starts no thread: not even the coarse clock's, which the first
        // reading of the default clock would start (SDK calls on it still may, later)
        let now = if config.disabled {
            crate::clock::SystemClock.now_ms()
        } else {
            self.clock.now_ms()
        };
        let counters = self
            .counters
            .unwrap_or_else(|| Arc::new(LocalCounterStore::new(config.max_actors, now)));
        let playbooks = PlaybookEngine::new(counters);
        // the recent events the admin API serves, kept when there is an admin API
        let recent = (!config.disabled && config.admin_token.is_some()).then(|| {
            Arc::new(EventRing::new(
                ring::DEFAULT_CAPACITY,
                ring::DEFAULT_MAX_BYTES,
            ))
        });
        let pipeline = if config.disabled {
            None
        } else {
            Pipeline::start(&config, self.clock.clone(), recent.clone())?
        };
        playbooks.install(
            &super::merge_playbooks(&self.playbooks, &rules.playbooks),
            now,
        );
        let intel = if config.disabled {
            None
        } else {
            crate::intel::IpIntel::start(&config, poll)?
        };
        let failures = Arc::new(FailureLog::default());
        // the notifier runs on a thread of its own, never on the request path
        let notify = if config.disabled {
            None
        } else {
            Some(
                NotifyQueue::start(self.notifier, config.event_queue, failures.clone())
                    .map_err(|e| Error::io("the sqreen-notify thread", e))?,
            )
        };
        let inner = Arc::new(AgentInner {
            resolver: ClientIpResolver::new(
                config.trusted_proxies.clone(),
                config.ip_header.clone(),
            ),
            critical: CriticalIps::new(config.critical_ips.clone()),
            rules: ArcSwap::from_pointee(rules),
            actions: ActionStore::with_capacity(config.max_actions),
            renderer: ResponseRenderer::new(templates, self.redirect_status),
            counters: stats::Counters::default(),
            failures,
            user_resolver: self.user_resolver,
            redactor: Arc::new(Redactor::new(
                redacted_keys(&config, &users),
                config.strip_sensitive_value_regex.clone(),
            )),
            users,
            watcher: Mutex::new(None),
            poller: Mutex::new(None),
            playbooks,
            code_playbooks: self.playbooks,
            events: self.events,
            notify,
            pipeline,
            recent,
            started: now,
            cluster: std::sync::OnceLock::new(),
            admin_server: std::sync::OnceLock::new(),
            intel,
            clock: self.clock,
            config,
        });
        stats::Counters::bump(&inner.counters.rules_loaded);
        if let Some(path) = watch {
            let watcher = RulesWatcher::start(Arc::downgrade(&inner), path.clone(), poll, stamp)
                .map_err(|e| Error::io(path.display().to_string(), e))?;
            *inner.watcher.lock() = Some(watcher);
        }
        if cold.refused {
            stats::Counters::bump(&inner.counters.rules_remote.cache_errors);
        }
        if let (Some(remote), false) = (remote, inner.config.disabled) {
            let poller = RulesPoller::start(Arc::downgrade(&inner), remote, cached_entry)
                .map_err(|e| Error::io("the sqreen-rules-url thread", e))?;
            *inner.poller.lock() = Some(poller);
        }
        if let (Some(url), false) = (&inner.config.redis_url, inner.config.disabled) {
            let settings = crate::cluster::Settings {
                url: url.clone(),
                sync: inner.config.cluster_sync,
                namespace: inner.config.cluster_namespace.clone(),
            };
            let cluster = crate::cluster::Cluster::start(settings, Arc::downgrade(&inner))
                .map_err(|e| Error::io("the sqreen-cluster thread", e))?;
            let _ = inner.cluster.set(cluster);
        }
        if let AdminListener::Addr(addr) = inner.config.admin_listener {
            if let Some(admin) = AdminApi::new(&inner.config) {
                let server = AdminServer::start(addr, admin, Arc::downgrade(&inner))
                    .map_err(|e| Error::io(format!("SQREEN_ADMIN_ADDR {addr}"), e))?;
                let _ = inner.admin_server.set((server.addr(), Box::new(server)));
            } else if !inner.config.disabled {
                tracing::warn!(target: "sqreen", %addr, "SQREEN_ADMIN_ADDR is set but SQREEN_ADMIN_TOKEN is not: no admin API is served");
            }
        }
        inner.warm_up_waf();
        inner.log_rules("agent started");
        if inner.config.disabled {
            tracing::info!(target: "sqreen", "agent disabled (SQREEN_DISABLE): requests pass through untouched");
        }
        Ok(Agent { inner })
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }
}

/// The redacted keys: `SQREEN_STRIP_SENSITIVE_KEY_REGEX`, and with anonymized user ids the login
/// route's user field too, so the raw id does not show in the login events' parameters.
fn redacted_keys(config: &Config, users: &UserPolicy) -> regex::Regex {
    let keys = &config.strip_sensitive_key_regex;
    if !users.is_anonymized() || config.login_path.is_none() {
        return keys.clone();
    }
    let field = regex::escape(&config.login_user_field);
    // both parts are valid patterns; should the union still fail, keep the configured one
    regex::Regex::new(&format!("(?:{})|(?i:^{field}$)", keys.as_str()))
        .unwrap_or_else(|_| keys.clone())
}

fn join<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_setter_values_surface_at_build() {
        let err = Agent::builder()
            .trusted_proxies(["10.0.0.0/8", "nope"])
            .build()
            .unwrap_err();
        assert_eq!(err.variable(), Some("trusted_proxies"));
        let err = Agent::builder()
            .ip_header("bad header")
            .build()
            .unwrap_err();
        assert_eq!(err.variable(), Some("ip_header"));
        let err = Agent::builder()
            .rules_json(r#"{"ip_denylist": ["x"]}"#)
            .build()
            .unwrap_err();
        assert_eq!(err.place(), Some("ip_denylist[0]"));
        let err = Agent::builder()
            .redirect_status(StatusCode::OK)
            .build()
            .unwrap_err();
        assert_eq!(err.variable(), Some("redirect_status"));
    }

    #[test]
    fn missing_rules_file_is_an_error_naming_it() {
        let err = Agent::builder()
            .rules_path("/nonexistent/sqreen-rules.json")
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/sqreen-rules.json"),
            "{err}"
        );
    }

    #[test]
    fn waf_mode_from_rules_wins_over_config_and_falls_back() {
        let agent = Agent::builder()
            .waf_mode(WafMode::Monitor)
            .rules_json(r#"{"waf": {"mode": "block"}}"#)
            .build()
            .unwrap();
        assert_eq!(agent.waf_mode(), WafMode::Block);
        agent.set_rules(RulesDocument::parse("{}").unwrap());
        assert_eq!(agent.waf_mode(), WafMode::Monitor);
    }
}
