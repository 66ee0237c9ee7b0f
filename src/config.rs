//! [`Config`]: every setting of the agent, read from `SQREEN_*` environment variables or set in code.
//!
//! Parsing is strict: a malformed value is an [`Error`] that names the variable and the value,
//! never a silent default. An unknown `SQREEN_*` variable is most likely a typo, so it is logged
//! as a warning. Settings that a rules document states (e.g. `waf.mode`) win over these at run time;
//! this module only knows the start-up values. It performs no I/O beyond reading the environment.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use http::HeaderName;
use regex::Regex;

use crate::error::{Error, Result};
use crate::ip::{parse_net, ClientIpResolver, IpSet};
use crate::rules::{Paranoia, WafMode};
use crate::user::mode::{UserIdMode, UserMonitoring};

/// Default for `SQREEN_STRIP_SENSITIVE_KEY_REGEX`: keys whose values never leave the process.
pub const DEFAULT_SENSITIVE_KEY_REGEX: &str = r"(?i)(passw(or)?d|passphrase|secret|authorization|api[-_ ]?key|access[-_ ]?token|token|cookie|session)";
/// Default for `SQREEN_STRIP_SENSITIVE_VALUE_REGEX`: payment card numbers.
pub const DEFAULT_SENSITIVE_VALUE_REGEX: &str = r"^(?:\d[ -]?){12,18}\d$";

/// Every `SQREEN_*` variable the agent reads, in the order of `docs/configuration.md`.
pub const ENV_VARS: &[&str] = &[
    "SQREEN_DISABLE",
    "SQREEN_APP_NAME",
    "SQREEN_RULES_PATH",
    "SQREEN_RULES_URL",
    "SQREEN_RULES_REFRESH_SECS",
    "SQREEN_RULES_CACHE_PATH",
    "SQREEN_RULES_SECRET",
    "SQREEN_IP_HEADER",
    "SQREEN_TRUSTED_PROXIES",
    "SQREEN_CRITICAL_IPS",
    "SQREEN_TOR_EXIT_LIST",
    "SQREEN_DATACENTER_RANGES",
    "SQREEN_GEOIP_DB",
    "SQREEN_PLAYBOOKS_BLOCK_CRITICAL_IPS",
    "SQREEN_WAF_MODE",
    "SQREEN_WAF_BUDGET_US",
    "SQREEN_WAF_PARANOIA",
    "SQREEN_RASP_MODE",
    "SQREEN_MAX_BODY_BYTES",
    "SQREEN_MAX_ACTORS",
    "SQREEN_IPV6_ACTOR_PREFIX",
    "SQREEN_MAX_ACTIONS",
    "SQREEN_REDIS_URL",
    "SQREEN_CLUSTER_SYNC_MS",
    "SQREEN_CLUSTER_NAMESPACE",
    "SQREEN_EVENTS_PATH",
    "SQREEN_EVENT_QUEUE",
    "SQREEN_WEBHOOK_URL",
    "SQREEN_WEBHOOK_SECRET",
    "SQREEN_WEBHOOK_EVENTS",
    "SQREEN_SLACK_WEBHOOK_URL",
    "SQREEN_SMTP_URL",
    "SQREEN_EMAIL_FROM",
    "SQREEN_EMAIL_TO",
    "SQREEN_BLOCK_HTML_PATH",
    "SQREEN_BLOCK_JSON_PATH",
    "SQREEN_FAIL_CLOSED",
    "SQREEN_STRIP_SENSITIVE_KEY_REGEX",
    "SQREEN_STRIP_SENSITIVE_VALUE_REGEX",
    "SQREEN_ADMIN_TOKEN",
    "SQREEN_ADMIN_PATH",
    "SQREEN_ADMIN_ADDR",
    "SQREEN_USER_MONITORING",
    "SQREEN_JWT_USER_CLAIM",
    "SQREEN_LOGIN_PATH",
    "SQREEN_LOGIN_USER_FIELD",
    "SQREEN_USER_ID_MODE",
    "SQREEN_USER_ID_SALT",
];

/// Variables that belong to the crate's examples, not to the agent (not warned about).
/// `SQREEN_LOG` is the quickstart's log filter: the agent logs through `tracing` and the
/// application's subscriber decides what is shown.
const EXAMPLE_VARS: &[&str] = &[
    "SQREEN_DEMO_ADDR",
    "SQREEN_DEMO_RECEIVER_ADDR",
    "SQREEN_LOG",
];

/// Which events go to the webhook (`SQREEN_WEBHOOK_EVENTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WebhookEvents {
    /// Attacks, scanner hits, playbook responses, digests.
    #[default]
    Security,
    /// Every event.
    All,
}

/// The agent's settings. Build one with [`Config::from_env`] or start from [`Config::default`];
/// [`crate::AgentBuilder`] offers the same settings as methods.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// `SQREEN_DISABLE`: the layer passes everything through untouched.
    pub disabled: bool,
    /// `SQREEN_APP_NAME`: put on events and notifications.
    pub app_name: String,
    /// `SQREEN_RULES_PATH`: the local rules document.
    pub rules_path: Option<PathBuf>,
    /// `SQREEN_RULES_URL`: a remote rules source.
    pub rules_url: Option<String>,
    /// `SQREEN_RULES_REFRESH_SECS`: how often rules sources are checked at most.
    pub rules_refresh: Duration,
    /// `SQREEN_RULES_CACHE_PATH`: where the last good document of the rules URL is kept for a
    /// cold start.
    pub rules_cache_path: Option<PathBuf>,
    /// `SQREEN_RULES_SECRET`: documents from the rules URL must carry an HMAC-SHA256 of their
    /// body keyed with it.
    pub rules_secret: Option<String>,
    /// `SQREEN_IP_HEADER`: the one header that names the client.
    pub ip_header: Option<HeaderName>,
    /// `SQREEN_TRUSTED_PROXIES`: peers whose forwarded headers are believed.
    pub trusted_proxies: IpSet,
    /// `SQREEN_CRITICAL_IPS`: extra critical networks (load balancers).
    pub critical_ips: IpSet,
    /// `SQREEN_PLAYBOOKS_BLOCK_CRITICAL_IPS`: let playbooks act on critical IPs.
    pub playbooks_block_critical_ips: bool,
    /// `SQREEN_TOR_EXIT_LIST`: a file of Tor exit addresses (one a line, `#` comments), read at
    /// start and reloaded when it changes; events get `ip_meta.is_tor`.
    pub tor_exit_list: Option<PathBuf>,
    /// `SQREEN_DATACENTER_RANGES`: a file of CIDRs, each with an optional provider name, read at
    /// start and reloaded when it changes; events get `ip_meta.datacenter` and `provider`.
    pub datacenter_ranges: Option<PathBuf>,
    /// `SQREEN_GEOIP_DB`: a MaxMind DB file (GeoLite2/GeoIP2, DB-IP Lite, IPinfo), verified at
    /// start and reloaded when it changes; events get `ip_meta.geo` and `ip_meta.asn`.
    pub geoip_db: Option<PathBuf>,
    /// `SQREEN_WAF_MODE`.
    pub waf_mode: WafMode,
    /// `SQREEN_WAF_BUDGET_US`: time budget of one WAF evaluation.
    pub waf_budget: Duration,
    /// `SQREEN_WAF_PARANOIA`: which of the WAF's rules run, 1 (default) or 2 (see
    /// [`Paranoia`](crate::rules::Paranoia)).
    pub waf_paranoia: Paranoia,
    /// `SQREEN_RASP_MODE`: what a RASP check that finds an exploit does (default `block`; see
    /// [`crate::rasp`]); the rules document's `rasp.mode` wins.
    pub rasp_mode: WafMode,
    /// `SQREEN_MAX_BODY_BYTES`: largest body the WAF reads.
    pub max_body_bytes: usize,
    /// `SQREEN_MAX_ACTORS`: counter windows kept (a window shared by several playbooks counts
    /// once per playbook).
    pub max_actors: usize,
    /// `SQREEN_IPV6_ACTOR_PREFIX`: the prefix length (`32..=128`, default 64) IPv6 clients are
    /// counted, fired on and acted on by (see [`crate::ip::actor`]); the rules document's
    /// `ipv6_actor_prefix` wins.
    pub ipv6_actor_prefix: u8,
    /// `SQREEN_MAX_ACTIONS`: runtime actions kept (default 100,000); a full store drops expired
    /// actions first, then the oldest.
    pub max_actions: usize,
    /// `SQREEN_REDIS_URL`: cluster mode, actions shared with the other replicas through this
    /// Redis (see [`crate::cluster`]); shown with its password redacted.
    pub redis_url: Option<crate::cluster::url::RedisUrl>,
    /// `SQREEN_CLUSTER_SYNC_MS`: how often a replica syncs with Redis (default 100 ms,
    /// 10 ms to 60 s).
    pub cluster_sync: Duration,
    /// `SQREEN_CLUSTER_NAMESPACE`: the prefix of every Redis key (default `sqreen`), so
    /// several apps can share one Redis.
    pub cluster_namespace: String,
    /// `SQREEN_EVENTS_PATH`: JSON-lines event log.
    pub events_path: Option<PathBuf>,
    /// `SQREEN_EVENT_QUEUE`: events held for the background sinks before dropping.
    pub event_queue: usize,
    /// `SQREEN_WEBHOOK_URL`.
    pub webhook_url: Option<String>,
    /// `SQREEN_WEBHOOK_SECRET`: signs webhook bodies.
    pub webhook_secret: Option<String>,
    /// `SQREEN_WEBHOOK_EVENTS`.
    pub webhook_events: WebhookEvents,
    /// `SQREEN_SLACK_WEBHOOK_URL`.
    pub slack_webhook_url: Option<String>,
    /// `SQREEN_SMTP_URL`: the SMTP server of email notifications (see
    /// [`SmtpUrl`](crate::notify::email::SmtpUrl)); shown without its user and password.
    pub smtp_url: Option<crate::notify::email::SmtpUrl>,
    /// `SQREEN_EMAIL_FROM`: the sender of email notifications (required with `smtp_url`).
    pub email_from: Option<crate::notify::email::EmailAddress>,
    /// `SQREEN_EMAIL_TO`: their recipients, a comma-separated list (required with `smtp_url`).
    pub email_to: Vec<crate::notify::email::EmailAddress>,
    /// `SQREEN_BLOCK_HTML_PATH`: block page template.
    pub block_html_path: Option<PathBuf>,
    /// `SQREEN_BLOCK_JSON_PATH`: block JSON template.
    pub block_json_path: Option<PathBuf>,
    /// `SQREEN_FAIL_CLOSED`: an internal failure answers 503 instead of passing.
    pub fail_closed: bool,
    /// `SQREEN_STRIP_SENSITIVE_KEY_REGEX`.
    pub strip_sensitive_key_regex: Regex,
    /// `SQREEN_STRIP_SENSITIVE_VALUE_REGEX`.
    pub strip_sensitive_value_regex: Regex,
    /// `SQREEN_ADMIN_TOKEN`: enables the admin API.
    pub admin_token: Option<String>,
    /// `SQREEN_ADMIN_PATH`.
    pub admin_path: String,
    /// `SQREEN_ADMIN_ADDR`: which listener serves the admin API.
    pub admin_listener: AdminListener,
    /// `SQREEN_USER_MONITORING`: how the agent learns the user of a request.
    pub user_monitoring: UserMonitoring,
    /// `SQREEN_JWT_USER_CLAIM`: the JWT claim naming the user in automatic monitoring.
    pub jwt_user_claim: String,
    /// `SQREEN_LOGIN_PATH`: the route (`POST`) whose logins are tracked automatically.
    pub login_path: Option<String>,
    /// `SQREEN_LOGIN_USER_FIELD`: the form or JSON field naming the user on the login route.
    pub login_user_field: String,
    /// `SQREEN_USER_ID_MODE`: users keyed by raw id or salted hash.
    pub user_id_mode: UserIdMode,
    /// `SQREEN_USER_ID_SALT`: the salt of anonymized user ids (random at start when unset).
    pub user_id_salt: Option<String>,
}

/// Secrets (the admin token, the webhook and rules secrets, the user id salt) are shown as
/// `<redacted>`, so a configuration can be logged.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("disabled", &self.disabled)
            .field("app_name", &self.app_name)
            .field("rules_path", &self.rules_path)
            .field("rules_url", &self.rules_url)
            .field("rules_refresh", &self.rules_refresh)
            .field("rules_cache_path", &self.rules_cache_path)
            .field(
                "rules_secret",
                &self.rules_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("ip_header", &self.ip_header)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("critical_ips", &self.critical_ips)
            .field("tor_exit_list", &self.tor_exit_list)
            .field("datacenter_ranges", &self.datacenter_ranges)
            .field("geoip_db", &self.geoip_db)
            .field(
                "playbooks_block_critical_ips",
                &self.playbooks_block_critical_ips,
            )
            .field("waf_mode", &self.waf_mode)
            .field("waf_budget", &self.waf_budget)
            .field("waf_paranoia", &self.waf_paranoia)
            .field("rasp_mode", &self.rasp_mode)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_actors", &self.max_actors)
            .field("ipv6_actor_prefix", &self.ipv6_actor_prefix)
            .field("max_actions", &self.max_actions)
            .field("redis_url", &self.redis_url)
            .field("cluster_sync", &self.cluster_sync)
            .field("cluster_namespace", &self.cluster_namespace)
            .field("events_path", &self.events_path)
            .field("event_queue", &self.event_queue)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("webhook_events", &self.webhook_events)
            .field("slack_webhook_url", &self.slack_webhook_url)
            .field("smtp_url", &self.smtp_url)
            .field("email_from", &self.email_from)
            .field("email_to", &self.email_to)
            .field("block_html_path", &self.block_html_path)
            .field("block_json_path", &self.block_json_path)
            .field("fail_closed", &self.fail_closed)
            .field("strip_sensitive_key_regex", &self.strip_sensitive_key_regex)
            .field(
                "strip_sensitive_value_regex",
                &self.strip_sensitive_value_regex,
            )
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("admin_path", &self.admin_path)
            .field("admin_listener", &self.admin_listener)
            .field("user_monitoring", &self.user_monitoring)
            .field("jwt_user_claim", &self.jwt_user_claim)
            .field("login_path", &self.login_path)
            .field("login_user_field", &self.login_user_field)
            .field("user_id_mode", &self.user_id_mode)
            .field(
                "user_id_salt",
                &self.user_id_salt.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            disabled: false,
            app_name: "app".to_owned(),
            rules_path: None,
            rules_url: None,
            rules_refresh: Duration::from_secs(30),
            rules_cache_path: None,
            rules_secret: None,
            ip_header: None,
            trusted_proxies: ClientIpResolver::default_trusted_proxies(),
            critical_ips: IpSet::new(),
            playbooks_block_critical_ips: false,
            tor_exit_list: None,
            datacenter_ranges: None,
            geoip_db: None,
            waf_mode: WafMode::Monitor,
            waf_budget: Duration::from_micros(1000),
            waf_paranoia: Paranoia::default(),
            rasp_mode: WafMode::Block,
            max_body_bytes: 65_536,
            max_actors: 1_000_000,
            ipv6_actor_prefix: crate::ip::actor::DEFAULT_PREFIX,
            max_actions: crate::action::DEFAULT_MAX_ACTIONS,
            redis_url: None,
            cluster_sync: crate::cluster::url::DEFAULT_SYNC,
            cluster_namespace: crate::cluster::url::DEFAULT_NAMESPACE.to_owned(),
            events_path: None,
            event_queue: 10_000,
            webhook_url: None,
            webhook_secret: None,
            webhook_events: WebhookEvents::Security,
            slack_webhook_url: None,
            smtp_url: None,
            email_from: None,
            email_to: Vec::new(),
            block_html_path: None,
            block_json_path: None,
            fail_closed: false,
            strip_sensitive_key_regex: Regex::new(DEFAULT_SENSITIVE_KEY_REGEX)
                .expect("built-in regex"),
            strip_sensitive_value_regex: Regex::new(DEFAULT_SENSITIVE_VALUE_REGEX)
                .expect("built-in regex"),
            admin_token: None,
            admin_path: "/_sqreen".to_owned(),
            admin_listener: AdminListener::App,
            user_monitoring: UserMonitoring::Advanced,
            jwt_user_claim: "sub".to_owned(),
            login_path: None,
            login_user_field: "username".to_owned(),
            user_id_mode: UserIdMode::Raw,
            user_id_salt: None,
        }
    }
}

impl Config {
    /// Reads every `SQREEN_*` variable of the process environment.
    pub fn from_env() -> Result<Config> {
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("SQREEN_")
                && !ENV_VARS.contains(&name.as_ref())
                && !EXAMPLE_VARS.contains(&name.as_ref())
            {
                tracing::warn!(target: "sqreen", variable = %name, "unknown SQREEN_* variable ignored (a typo?)");
            }
        }
        Config::from_lookup(|name| match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(v)) => Err(Error::config(
                name,
                v.to_string_lossy(),
                "the value is not valid UTF-8",
            )),
        })
    }

    /// Reads the settings from `lookup` (a variable name to its value, `None` when unset), e.g. a
    /// map in tests. Unset variables keep their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Result<Option<String>>) -> Result<Config> {
        let mut c = Config::default();
        let env = Env { lookup: &lookup };
        env.parse("SQREEN_DISABLE", &mut c.disabled, parse_bool)?;
        env.parse("SQREEN_APP_NAME", &mut c.app_name, non_empty)?;
        env.parse_opt("SQREEN_RULES_PATH", &mut c.rules_path, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse_opt("SQREEN_RULES_URL", &mut c.rules_url, parse_url)?;
        env.parse("SQREEN_RULES_REFRESH_SECS", &mut c.rules_refresh, |v| {
            positive(v).and_then(|n| bounded(Duration::from_secs(n)))
        })?;
        env.parse_opt("SQREEN_RULES_CACHE_PATH", &mut c.rules_cache_path, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse_opt("SQREEN_RULES_SECRET", &mut c.rules_secret, non_empty)?;
        env.parse_opt("SQREEN_IP_HEADER", &mut c.ip_header, |v| {
            HeaderName::from_str(v.trim()).map_err(|_| "not a valid HTTP header name".to_owned())
        })?;
        env.parse(
            "SQREEN_TRUSTED_PROXIES",
            &mut c.trusted_proxies,
            parse_cidrs,
        )?;
        env.parse("SQREEN_CRITICAL_IPS", &mut c.critical_ips, parse_cidrs)?;
        env.parse(
            "SQREEN_PLAYBOOKS_BLOCK_CRITICAL_IPS",
            &mut c.playbooks_block_critical_ips,
            parse_bool,
        )?;
        env.parse_opt("SQREEN_TOR_EXIT_LIST", &mut c.tor_exit_list, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse_opt("SQREEN_DATACENTER_RANGES", &mut c.datacenter_ranges, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse_opt("SQREEN_GEOIP_DB", &mut c.geoip_db, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse("SQREEN_WAF_MODE", &mut c.waf_mode, |v| {
            WafMode::from_str(v.trim())
                .map_err(|_| "expected one of off, monitor, block".to_owned())
        })?;
        env.parse("SQREEN_WAF_BUDGET_US", &mut c.waf_budget, |v| {
            positive(v).and_then(|n| bounded(Duration::from_micros(n)))
        })?;
        env.parse("SQREEN_WAF_PARANOIA", &mut c.waf_paranoia, |v| {
            Paranoia::from_str(v.trim()).map_err(|e| e.to_string())
        })?;
        env.parse("SQREEN_RASP_MODE", &mut c.rasp_mode, |v| {
            WafMode::from_str(v.trim())
                .map_err(|_| "expected one of off, monitor, block".to_owned())
        })?;
        env.parse("SQREEN_MAX_BODY_BYTES", &mut c.max_body_bytes, |v| {
            unsigned(v).map(|n| n as usize)
        })?;
        env.parse("SQREEN_MAX_ACTORS", &mut c.max_actors, |v| {
            positive(v).map(|n| n as usize)
        })?;
        env.parse("SQREEN_MAX_ACTIONS", &mut c.max_actions, |v| {
            positive(v).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        })?;
        env.parse("SQREEN_IPV6_ACTOR_PREFIX", &mut c.ipv6_actor_prefix, |v| {
            let v = v.trim();
            let n = v.strip_prefix('/').unwrap_or(v);
            unsigned(n).and_then(crate::ip::actor::check_prefix)
        })?;
        if let Some(url) = lookup("SQREEN_REDIS_URL")? {
            // the value is shown redacted: it may hold a password
            let parsed = crate::cluster::url::RedisUrl::parse(&url).map_err(|reason| {
                Error::config(
                    "SQREEN_REDIS_URL",
                    crate::cluster::url::redact(&url),
                    reason,
                )
            })?;
            c.redis_url = Some(parsed);
        }
        env.parse("SQREEN_CLUSTER_SYNC_MS", &mut c.cluster_sync, |v| {
            positive(v).and_then(|n| crate::cluster::url::check_sync(Duration::from_millis(n)))
        })?;
        env.parse(
            "SQREEN_CLUSTER_NAMESPACE",
            &mut c.cluster_namespace,
            crate::cluster::url::check_namespace,
        )?;
        env.parse_opt("SQREEN_EVENTS_PATH", &mut c.events_path, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse("SQREEN_EVENT_QUEUE", &mut c.event_queue, |v| {
            positive(v).map(|n| n as usize)
        })?;
        env.parse_opt("SQREEN_WEBHOOK_URL", &mut c.webhook_url, parse_url)?;
        env.parse_opt("SQREEN_WEBHOOK_SECRET", &mut c.webhook_secret, non_empty)?;
        env.parse("SQREEN_WEBHOOK_EVENTS", &mut c.webhook_events, |v| match v
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "security" => Ok(WebhookEvents::Security),
            "all" => Ok(WebhookEvents::All),
            _ => Err("expected security or all".to_owned()),
        })?;
        env.parse_opt(
            "SQREEN_SLACK_WEBHOOK_URL",
            &mut c.slack_webhook_url,
            parse_url,
        )?;
        if let Some(url) = lookup("SQREEN_SMTP_URL")? {
            // the value is shown redacted: it may hold a user and a password
            let parsed = crate::notify::email::SmtpUrl::parse(&url).map_err(|reason| {
                Error::config(
                    "SQREEN_SMTP_URL",
                    crate::notify::email::redact(&url),
                    reason,
                )
            })?;
            c.smtp_url = Some(parsed);
        }
        env.parse_opt(
            "SQREEN_EMAIL_FROM",
            &mut c.email_from,
            crate::notify::email::EmailAddress::parse,
        )?;
        env.parse(
            "SQREEN_EMAIL_TO",
            &mut c.email_to,
            crate::notify::email::EmailAddress::parse_list,
        )?;
        env.parse_opt("SQREEN_BLOCK_HTML_PATH", &mut c.block_html_path, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse_opt("SQREEN_BLOCK_JSON_PATH", &mut c.block_json_path, |v| {
            non_empty(v).map(PathBuf::from)
        })?;
        env.parse("SQREEN_FAIL_CLOSED", &mut c.fail_closed, parse_bool)?;
        env.parse(
            "SQREEN_STRIP_SENSITIVE_KEY_REGEX",
            &mut c.strip_sensitive_key_regex,
            parse_regex,
        )?;
        env.parse(
            "SQREEN_STRIP_SENSITIVE_VALUE_REGEX",
            &mut c.strip_sensitive_value_regex,
            parse_regex,
        )?;
        env.parse_opt("SQREEN_ADMIN_TOKEN", &mut c.admin_token, parse_admin_token)?;
        env.parse("SQREEN_ADMIN_PATH", &mut c.admin_path, parse_admin_path)?;
        env.parse(
            "SQREEN_ADMIN_ADDR",
            &mut c.admin_listener,
            AdminListener::from_str,
        )?;
        env.parse(
            "SQREEN_USER_MONITORING",
            &mut c.user_monitoring,
            UserMonitoring::from_str,
        )?;
        env.parse("SQREEN_JWT_USER_CLAIM", &mut c.jwt_user_claim, field_name)?;
        env.parse_opt("SQREEN_LOGIN_PATH", &mut c.login_path, login_path)?;
        env.parse(
            "SQREEN_LOGIN_USER_FIELD",
            &mut c.login_user_field,
            field_name,
        )?;
        env.parse(
            "SQREEN_USER_ID_MODE",
            &mut c.user_id_mode,
            UserIdMode::from_str,
        )?;
        if let Some(salt) = lookup("SQREEN_USER_ID_SALT")? {
            // the salt is a secret: the error does not repeat it
            let salt = user_id_salt(&salt)
                .map_err(|reason| Error::config("SQREEN_USER_ID_SALT", "<hidden>", reason))?;
            c.user_id_salt = Some(salt);
        }
        Ok(c)
    }
}

/// Reads variables through the lookup function and turns parse failures into named errors.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Result<Option<String>>,
}

impl Env<'_> {
    fn parse<T>(
        &self,
        name: &str,
        slot: &mut T,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<()> {
        if let Some(value) = (self.lookup)(name)? {
            *slot = parse(&value).map_err(|reason| Error::config(name, &value, reason))?;
        }
        Ok(())
    }

    fn parse_opt<T>(
        &self,
        name: &str,
        slot: &mut Option<T>,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<()> {
        if let Some(value) = (self.lookup)(name)? {
            *slot = Some(parse(&value).map_err(|reason| Error::config(name, &value, reason))?);
        }
        Ok(())
    }
}

pub(crate) fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

fn non_empty(v: &str) -> std::result::Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(v.to_owned())
    }
}

fn unsigned(v: &str) -> std::result::Result<u64, String> {
    v.trim()
        .parse::<u64>()
        .map_err(|_| "expected a non-negative integer".to_owned())
}

/// A duration of at most ten years ([`MAX_DURATION`](crate::duration::MAX_DURATION)).
fn bounded(d: Duration) -> std::result::Result<Duration, String> {
    if d > crate::duration::MAX_DURATION {
        return Err(crate::duration::TOO_LONG.to_owned());
    }
    Ok(d)
}

impl Config {
    /// Checks what code may have set out of range (the environment is checked as it is read):
    /// durations at most ten years. The error names the variable the field mirrors.
    pub(crate) fn validate(&self) -> Result<()> {
        for (variable, d) in [
            ("SQREEN_RULES_REFRESH_SECS", self.rules_refresh),
            ("SQREEN_WAF_BUDGET_US", self.waf_budget),
        ] {
            bounded(d).map_err(|reason| Error::config(variable, format!("{d:?}"), reason))?;
        }
        crate::cluster::url::check_sync(self.cluster_sync).map_err(|reason| {
            Error::config(
                "SQREEN_CLUSTER_SYNC_MS",
                self.cluster_sync.as_millis().to_string(),
                reason,
            )
        })?;
        crate::cluster::url::check_namespace(&self.cluster_namespace).map_err(|reason| {
            Error::config("SQREEN_CLUSTER_NAMESPACE", &self.cluster_namespace, reason)
        })?;
        self.validate_email()
    }

    /// Email needs all three settings or none: an SMTP server without a sender or recipients
    /// (or the reverse) is a mistake, reported at start-up rather than as emails never sent.
    fn validate_email(&self) -> Result<()> {
        let missing = |variable: &str, reason: &str| Err(Error::config(variable, "", reason));
        match (&self.smtp_url, &self.email_from, self.email_to.is_empty()) {
            (None, None, true) | (Some(_), Some(_), false) => Ok(()),
            (Some(_), None, _) => missing("SQREEN_EMAIL_FROM", "required with SQREEN_SMTP_URL"),
            (Some(_), Some(_), true) => missing("SQREEN_EMAIL_TO", "required with SQREEN_SMTP_URL"),
            (None, _, _) => missing(
                "SQREEN_SMTP_URL",
                "required with SQREEN_EMAIL_FROM and SQREEN_EMAIL_TO",
            ),
        }
    }
}

fn positive(v: &str) -> std::result::Result<u64, String> {
    match unsigned(v) {
        Ok(0) | Err(_) => Err("expected a positive integer".to_owned()),
        Ok(n) => Ok(n),
    }
}

pub(crate) fn parse_url(v: &str) -> std::result::Result<String, String> {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !v.contains(char::is_whitespace) => Ok(v.to_owned()),
        _ => Err("expected an http:// or https:// URL".to_owned()),
    }
}

/// A comma-separated list of CIDRs or addresses; an empty value is an empty set.
pub(crate) fn parse_cidrs(v: &str) -> std::result::Result<IpSet, String> {
    let mut set = IpSet::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        set.insert(parse_net(item)?, ());
    }
    Ok(set)
}

/// A JWT claim or body field name: non-empty, trimmed.
pub(crate) fn field_name(v: &str) -> std::result::Result<String, String> {
    let v = v.trim();
    if v.is_empty() || v.chars().any(char::is_control) {
        Err("expected a field name".to_owned())
    } else {
        Ok(v.to_owned())
    }
}

/// A request path such as `/login`.
pub(crate) fn login_path(v: &str) -> std::result::Result<String, String> {
    let v = v.trim();
    if v.starts_with('/') && !v.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        Ok(v.to_owned())
    } else {
        Err("expected a path such as /login".to_owned())
    }
}

/// A salt for anonymized user ids: at least 16 characters, so hashes cannot be reversed by
/// hashing a list of likely ids with a guessable salt.
pub(crate) fn user_id_salt(v: &str) -> std::result::Result<String, String> {
    if v.chars().count() < 16 {
        Err("the salt must be at least 16 characters".to_owned())
    } else {
        Ok(v.to_owned())
    }
}

fn parse_regex(v: &str) -> std::result::Result<Regex, String> {
    Regex::new(v).map_err(|e| format!("not a valid regular expression: {e}"))
}

/// `SQREEN_ADMIN_TOKEN`: at least 16 characters.
pub(crate) fn parse_admin_token(v: &str) -> std::result::Result<String, String> {
    if v.len() < 16 {
        Err("the admin token must be at least 16 characters".to_owned())
    } else {
        Ok(v.to_owned())
    }
}

/// `SQREEN_ADMIN_PATH`: an absolute path without whitespace, trailing slashes removed.
pub(crate) fn parse_admin_path(v: &str) -> std::result::Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    if v.starts_with('/') && v.len() > 1 && !v.contains(char::is_whitespace) {
        Ok(v.to_owned())
    } else {
        Err("expected a path such as /_sqreen".to_owned())
    }
}

/// Where the admin API (`SQREEN_ADMIN_TOKEN`) is served: `SQREEN_ADMIN_ADDR`, or
/// [`crate::AgentBuilder::admin_listener`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AdminListener {
    /// The layer answers the admin path on the application's own listener (`app`, the default).
    #[default]
    App,
    /// The agent serves the admin API on this address itself, on a thread of its own
    /// (`127.0.0.1:9901`, `[::1]:9901`; port 0 picks a free one, see
    /// [`crate::Agent::admin_addr`]). The layer passes the admin path to the application
    /// like any other path.
    Addr(std::net::SocketAddr),
    /// Nobody serves it on its own (`mounted`): the application mounts
    /// [`crate::Agent::admin_service`] (or `admin_router`) on a listener of its choice. The layer
    /// passes the admin path to the application like any other path.
    Mounted,
}

impl AdminListener {
    /// True when the layer answers the admin path on the application's listener.
    pub fn on_app_listener(self) -> bool {
        self == AdminListener::App
    }
}

impl FromStr for AdminListener {
    type Err = String;

    fn from_str(v: &str) -> std::result::Result<Self, String> {
        let v = v.trim();
        if v.eq_ignore_ascii_case("app") {
            return Ok(AdminListener::App);
        }
        if v.eq_ignore_ascii_case("mounted") {
            return Ok(AdminListener::Mounted);
        }
        v.parse().map(AdminListener::Addr).map_err(|_| {
            "expected an IP address and port (`127.0.0.1:9901`, `[::1]:9901`; no host names), \
             `app` or `mounted`"
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| Ok(map.get(k).cloned()))
    }

    #[test]
    fn admin_listener_values() {
        assert_eq!(config(&[]).unwrap().admin_listener, AdminListener::App);
        for (value, expected) in [
            ("app", AdminListener::App),
            (" Mounted ", AdminListener::Mounted),
            (
                "127.0.0.1:9901",
                AdminListener::Addr("127.0.0.1:9901".parse().unwrap()),
            ),
            ("[::1]:0", AdminListener::Addr("[::1]:0".parse().unwrap())),
        ] {
            let c = config(&[("SQREEN_ADMIN_ADDR", value)]).unwrap();
            assert_eq!(c.admin_listener, expected, "{value}");
        }
        for bad in ["localhost:9901", "127.0.0.1", "9901", "", "127.0.0.1:99999"] {
            let e = config(&[("SQREEN_ADMIN_ADDR", bad)])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("SQREEN_ADMIN_ADDR") && e.contains("no host names"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn defaults_match_the_design() {
        let c = config(&[]).unwrap();
        assert!(!c.disabled);
        assert_eq!(c.waf_mode, WafMode::Monitor);
        assert_eq!(c.waf_budget, Duration::from_micros(1000));
        assert_eq!(c.max_body_bytes, 65_536);
        assert_eq!(c.max_actors, 1_000_000);
        assert_eq!(c.ipv6_actor_prefix, 64);
        assert_eq!(c.max_actions, 100_000);
        assert_eq!(c.event_queue, 10_000);
        assert_eq!(c.rules_refresh, Duration::from_secs(30));
        assert_eq!(c.admin_path, "/_sqreen");
        assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(c.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("8.8.8.8".parse().unwrap()));
        assert!(c.strip_sensitive_key_regex.is_match("user_Password"));
        assert!(c.strip_sensitive_key_regex.is_match("X-Api-Key"));
        assert!(!c.strip_sensitive_key_regex.is_match("username"));
        assert!(c
            .strip_sensitive_value_regex
            .is_match("4111 1111 1111 1111"));
        assert!(!c.strip_sensitive_value_regex.is_match("12345"));
    }

    #[test]
    fn values_are_read() {
        let c = config(&[
            ("SQREEN_DISABLE", "TRUE"),
            ("SQREEN_TRUSTED_PROXIES", "203.0.113.0/24, 2001:db8::/32"),
            ("SQREEN_IP_HEADER", "CF-Connecting-IP"),
            ("SQREEN_WAF_MODE", "block"),
            ("SQREEN_WAF_PARANOIA", " 2 "),
            ("SQREEN_MAX_ACTORS", "100000"),
            ("SQREEN_IPV6_ACTOR_PREFIX", "/56"),
            ("SQREEN_MAX_ACTIONS", "500"),
            ("SQREEN_RULES_PATH", "/etc/rules.json"),
            ("SQREEN_WEBHOOK_EVENTS", "all"),
            ("SQREEN_ADMIN_PATH", "/admin/"),
        ])
        .unwrap();
        assert!(c.disabled);
        assert!(c.trusted_proxies.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("10.0.0.1".parse().unwrap()));
        assert_eq!(c.ip_header.unwrap().as_str(), "cf-connecting-ip");
        assert_eq!(c.waf_mode, WafMode::Block);
        assert_eq!(c.waf_paranoia, Paranoia::Level2);
        assert_eq!(c.max_actors, 100_000);
        assert_eq!(c.ipv6_actor_prefix, 56);
        assert_eq!(c.max_actions, 500);
        assert!(config(&[("SQREEN_MAX_ACTIONS", "0")]).is_err());
        for bad in ["0", "31", "129", "/", "sixty-four", "-64"] {
            let e = config(&[("SQREEN_IPV6_ACTOR_PREFIX", bad)]).unwrap_err();
            assert_eq!(e.variable(), Some("SQREEN_IPV6_ACTOR_PREFIX"), "{bad}");
        }
        assert_eq!(c.rules_path.unwrap(), PathBuf::from("/etc/rules.json"));
        assert_eq!(c.webhook_events, WebhookEvents::All);
        assert_eq!(c.admin_path, "/admin");
    }

    #[test]
    fn durations_over_ten_years_are_errors_naming_the_variable() {
        for (var, v) in [
            ("SQREEN_RULES_REFRESH_SECS", "315360001"),
            ("SQREEN_RULES_REFRESH_SECS", "18446744073709551615"),
            ("SQREEN_WAF_BUDGET_US", "18446744073709551615"),
        ] {
            let e = config(&[(var, v)]).unwrap_err();
            assert_eq!(e.variable(), Some(var));
            assert!(e.to_string().contains("at most 10 years"), "{e}");
        }
        let c = config(&[("SQREEN_RULES_REFRESH_SECS", "315360000")]).unwrap();
        assert_eq!(c.rules_refresh, crate::duration::MAX_DURATION);
        // set in code: checked when the agent is built
        let c = Config {
            rules_refresh: Duration::MAX,
            ..Config::default()
        };
        assert_eq!(
            c.validate().unwrap_err().variable(),
            Some("SQREEN_RULES_REFRESH_SECS")
        );
        let c = Config {
            waf_budget: crate::duration::MAX_DURATION + Duration::from_secs(1),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn remote_rules_settings_are_read() {
        let c = config(&[
            ("SQREEN_RULES_URL", "https://rules.example.com/sqreen.json"),
            ("SQREEN_RULES_REFRESH_SECS", "5"),
            ("SQREEN_RULES_CACHE_PATH", "/var/cache/sqreen/rules.json"),
            ("SQREEN_RULES_SECRET", "s3cret"),
        ])
        .unwrap();
        assert_eq!(
            c.rules_url.as_deref(),
            Some("https://rules.example.com/sqreen.json")
        );
        assert_eq!(c.rules_refresh, Duration::from_secs(5));
        assert_eq!(
            c.rules_cache_path,
            Some(PathBuf::from("/var/cache/sqreen/rules.json"))
        );
        assert_eq!(c.rules_secret.as_deref(), Some("s3cret"));
    }

    #[test]
    fn user_monitoring_settings() {
        let c = config(&[]).unwrap();
        assert_eq!(c.user_monitoring, UserMonitoring::Advanced);
        assert_eq!(c.jwt_user_claim, "sub");
        assert_eq!(c.login_path, None);
        assert_eq!(c.login_user_field, "username");
        assert_eq!(c.user_id_mode, UserIdMode::Raw);
        assert_eq!(c.user_id_salt, None);
        let c = config(&[
            ("SQREEN_USER_MONITORING", "automatic"),
            ("SQREEN_JWT_USER_CLAIM", "email"),
            ("SQREEN_LOGIN_PATH", "/api/login"),
            ("SQREEN_LOGIN_USER_FIELD", "login"),
            ("SQREEN_USER_ID_MODE", "anonymized"),
            ("SQREEN_USER_ID_SALT", "0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(c.user_monitoring, UserMonitoring::Automatic);
        assert_eq!(c.jwt_user_claim, "email");
        assert_eq!(c.login_path.as_deref(), Some("/api/login"));
        assert_eq!(c.login_user_field, "login");
        assert_eq!(c.user_id_mode, UserIdMode::Anonymized);
        assert_eq!(c.user_id_salt.as_deref(), Some("0123456789abcdef"));
        let err = config(&[("SQREEN_USER_ID_SALT", "short-salt")]).unwrap_err();
        assert_eq!(err.variable(), Some("SQREEN_USER_ID_SALT"));
        assert!(!err.to_string().contains("short-salt"), "{err}");
        assert_eq!(
            config(&[("SQREEN_USER_MONITORING", "off")])
                .unwrap()
                .user_monitoring,
            UserMonitoring::Off
        );
    }

    #[test]
    fn empty_trusted_proxies_trusts_nobody() {
        let c = config(&[("SQREEN_TRUSTED_PROXIES", "")]).unwrap();
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn malformed_values_name_variable_and_value() {
        let cases = [
            ("SQREEN_DISABLE", "maybe"),
            ("SQREEN_MAX_ACTORS", "lots"),
            ("SQREEN_MAX_ACTORS", "0"),
            ("SQREEN_MAX_BODY_BYTES", "-1"),
            ("SQREEN_EVENT_QUEUE", "1e4"),
            ("SQREEN_WAF_BUDGET_US", "0"),
            ("SQREEN_RULES_REFRESH_SECS", "soon"),
            ("SQREEN_TRUSTED_PROXIES", "10.0.0.0/8, nonsense"),
            ("SQREEN_CRITICAL_IPS", "300.1.1.1"),
            ("SQREEN_IP_HEADER", "bad header"),
            ("SQREEN_WAF_MODE", "panic"),
            ("SQREEN_WAF_PARANOIA", "3"),
            ("SQREEN_WEBHOOK_URL", "ftp://x"),
            ("SQREEN_SLACK_WEBHOOK_URL", "hooks.slack.example"),
            ("SQREEN_SMTP_URL", "http://mail.example.com"),
            ("SQREEN_SMTP_URL", "smtp://mail.example.com?tls=sometimes"),
            ("SQREEN_EMAIL_FROM", "nobody"),
            ("SQREEN_EMAIL_TO", "ops@example.com, nope"),
            ("SQREEN_EMAIL_TO", ""),
            ("SQREEN_RULES_URL", "https://"),
            ("SQREEN_WEBHOOK_EVENTS", "some"),
            ("SQREEN_STRIP_SENSITIVE_KEY_REGEX", "(unclosed"),
            ("SQREEN_ADMIN_TOKEN", "short"),
            ("SQREEN_ADMIN_PATH", "nope"),
            ("SQREEN_APP_NAME", "  "),
            ("SQREEN_RULES_PATH", ""),
            ("SQREEN_TOR_EXIT_LIST", " "),
            ("SQREEN_DATACENTER_RANGES", ""),
            ("SQREEN_GEOIP_DB", " "),
            ("SQREEN_RULES_CACHE_PATH", " "),
            ("SQREEN_RULES_SECRET", ""),
            ("SQREEN_USER_MONITORING", "always"),
            ("SQREEN_JWT_USER_CLAIM", " "),
            ("SQREEN_LOGIN_PATH", "login"),
            ("SQREEN_LOGIN_USER_FIELD", ""),
            ("SQREEN_USER_ID_MODE", "hashed"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).expect_err(var);
            assert_eq!(err.variable(), Some(var));
            let msg = err.to_string();
            assert!(
                msg.contains(var) && msg.contains(&format!("{value:?}")),
                "{msg}"
            );
        }
    }

    #[test]
    fn email_settings_are_read_and_go_together() {
        let email = [
            (
                "SQREEN_SMTP_URL",
                "smtp://alerts:hunter2@mail.example.com?tls=required",
            ),
            ("SQREEN_EMAIL_FROM", "Sqreen <sqreen@example.com>"),
            ("SQREEN_EMAIL_TO", "ops@example.com, security@example.com"),
        ];
        let c = config(&email).unwrap();
        assert!(c.validate().is_ok());
        let url = c.smtp_url.as_ref().unwrap();
        assert_eq!((url.host(), url.port()), ("mail.example.com", 587));
        assert_eq!(
            c.email_from.as_ref().unwrap().address(),
            "sqreen@example.com"
        );
        assert_eq!(c.email_to.len(), 2);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("alerts:"),
            "{shown}"
        );
        assert!(
            shown.contains("smtp://***@mail.example.com:587?tls=required"),
            "{shown}"
        );
        // a bad URL's error shows neither user nor password
        let e = config(&[(
            "SQREEN_SMTP_URL",
            "smtp://alerts:hunter2@mail.example.com:0x",
        )])
        .unwrap_err();
        assert_eq!(e.variable(), Some("SQREEN_SMTP_URL"));
        assert!(
            !e.to_string().contains("hunter2") && !e.to_string().contains("alerts"),
            "{e}"
        );
        // one without the others is an error at start-up, naming what is missing
        for (i, missing) in ["SQREEN_SMTP_URL", "SQREEN_EMAIL_FROM", "SQREEN_EMAIL_TO"]
            .into_iter()
            .enumerate()
        {
            let mut vars = email.to_vec();
            vars.remove(i);
            let e = config(&vars).unwrap().validate().unwrap_err();
            assert_eq!(e.variable(), Some(missing), "{e}");
            assert!(e.to_string().contains("required with"), "{e}");
        }
        assert!(config(&[]).unwrap().validate().is_ok());
    }

    #[test]
    fn sqreen_log_belongs_to_the_examples_not_the_agent() {
        // the agent never read it to any effect: its subscriber is the application's
        assert!(!ENV_VARS.contains(&"SQREEN_LOG"));
        assert!(EXAMPLE_VARS.contains(&"SQREEN_LOG"));
        assert!(config(&[("SQREEN_LOG", "anything the example's filter takes")]).is_ok());
    }

    #[test]
    fn lookup_errors_propagate() {
        let err = Config::from_lookup(|k| {
            if k == "SQREEN_APP_NAME" {
                Err(Error::config(k, "\u{fffd}", "the value is not valid UTF-8"))
            } else {
                Ok(None)
            }
        })
        .unwrap_err();
        assert_eq!(err.variable(), Some("SQREEN_APP_NAME"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config {
            admin_token: Some("admin-token-0123456789".to_owned()),
            webhook_secret: Some("webhook-secret-42".to_owned()),
            rules_secret: Some("rules-secret-42".to_owned()),
            user_id_salt: Some("salt-0123456789abcdef".to_owned()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        for secret in ["admin-token", "webhook-secret", "rules-secret", "salt-0123"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("<redacted>") && shown.contains("waf_mode"));
    }
}
