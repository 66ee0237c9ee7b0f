//! User monitoring: who the user of a request is when the app does not say so itself, how the
//! agent keys users (raw ids or salted hashes), and automatic login tracking.
//!
//! `SQREEN_USER_MONITORING` picks the mode ([`UserMonitoring`]):
//! - `advanced` (the default): users are named by the SDK (`identify`, `auth_track`, ...) and by
//!   the builder's [`crate::AgentBuilder::user_resolver`], nothing else;
//! - `automatic`: before the handler, the layer also takes the user, in this order, from the
//!   builder's resolver, an [`AuthenticatedUser`] request extension put there by the app's
//!   authentication middleware, HTTP Basic credentials (the username only) and a bearer JWT's
//!   claim (`SQREEN_JWT_USER_CLAIM`, default `sub`; decoded, never verified, never logged);
//! - `off`: the agent handles no user at all: the resolver is not run, `identify` is ignored,
//!   the auth events count for the client IP only. For apps that must not hand user ids over.
//!
//! Every user entering the agent, from any of these or from the SDK, goes through
//! [`UserPolicy::admit`] exactly once. That is where `SQREEN_USER_ID_MODE=anonymized` replaces it
//! by its salted SHA-256 ([`anonymize`]), so the one id that playbooks count, actions store, lists
//! match and events show is the same form everywhere, and a raw id is never kept. Ids an operator
//! gives (deny and pass lists, `Agent::block_user`) are hashed the same way when they are loaded.
//!
//! Nothing here does I/O or takes a lock; reading credentials is bounded in size
//! ([`credentials`]) and garbage gives no user, never a panic.

mod anonymize;
mod credentials;
mod login;
pub(crate) mod mode;

pub use mode::{UserIdMode, UserMonitoring};

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use anonymize::Anonymizer;
pub(crate) use login::LoginRoute;

use crate::agent::{RequestHead, UserResolver};
use crate::config::Config;
use crate::context::UserKeys;
use crate::rules::ActiveRules;

/// The user named by the app's authentication middleware, read by the layer when
/// `SQREEN_USER_MONITORING=automatic`.
///
/// Insert it in the request extensions in a middleware that runs **before** the sqreen layer
/// (with axum, add it with `.layer(...)` *after* `agent.layer()`: the last layer added runs
/// first). An authentication step that runs inside the sqreen layer (a route layer, an
/// extractor) calls [`crate::identify`] instead.
///
/// ```
/// use axum::{extract::Request, middleware::{self, Next}, response::Response, routing::get, Router};
/// use sqreen::{AuthenticatedUser, UserKeys, UserMonitoring};
///
/// async fn authenticate(mut req: Request, next: Next) -> Response {
///     // ... check the session; then say who the user is:
///     let user = UserKeys::new().with("email", "alice@example.com");
///     req.extensions_mut().insert(AuthenticatedUser(user));
///     next.run(req).await
/// }
///
/// let agent = sqreen::Agent::builder()
///     .user_monitoring(UserMonitoring::Automatic)
///     .build()
///     .unwrap();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(agent.layer())
///     .layer(middleware::from_fn(authenticate)); // runs before the sqreen layer
/// # let _ = app;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedUser(pub UserKeys);

/// The key of an anonymized user's only key.
pub(crate) const ANONYMIZED_KEY: &str = "id";

/// The agent's user settings, applied to every user that enters it.
pub(crate) struct UserPolicy {
    monitoring: UserMonitoring,
    anonymizer: Option<Anonymizer>,
    jwt_claim: String,
    login: Option<LoginRoute>,
}

impl std::fmt::Debug for UserPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPolicy")
            .field("monitoring", &self.monitoring)
            .field("anonymized", &self.anonymizer.is_some())
            .field("jwt_claim", &self.jwt_claim)
            .field("login", &self.login)
            .finish()
    }
}

static WARNED_OFF: AtomicBool = AtomicBool::new(false);

impl UserPolicy {
    /// The policy of `config`; in anonymized mode without a salt, a random one (logged as such,
    /// never shown).
    pub(crate) fn new(config: &Config) -> Self {
        let anonymizer = match config.user_id_mode {
            UserIdMode::Raw => None,
            UserIdMode::Anonymized => Some(match &config.user_id_salt {
                Some(salt) => Anonymizer::new(salt.clone()),
                None => {
                    tracing::info!(target: "sqreen", "user ids are anonymized with a random salt: they change when the process restarts (set SQREEN_USER_ID_SALT to keep them)");
                    Anonymizer::random()
                }
            }),
        };
        UserPolicy {
            monitoring: config.user_monitoring,
            anonymizer,
            jwt_claim: config.jwt_user_claim.clone(),
            login: config
                .login_path
                .clone()
                .map(|path| LoginRoute::new(path, config.login_user_field.clone())),
        }
    }

    /// The monitoring mode.
    pub(crate) fn monitoring(&self) -> UserMonitoring {
        self.monitoring
    }

    /// True when users are keyed by their salted hash.
    pub(crate) fn is_anonymized(&self) -> bool {
        self.anonymizer.is_some()
    }

    /// The login route tracked automatically, if one is configured.
    pub(crate) fn login(&self) -> Option<&LoginRoute> {
        self.login.as_ref()
    }

    /// The form in which the agent keeps a user the app names: `None` when monitoring is off or
    /// the user has no key; the salted hash of its canonical id when anonymized; else as given.
    /// Call it once per user: an admitted user is never admitted again.
    pub(crate) fn admit(&self, user: UserKeys) -> Option<UserKeys> {
        if self.monitoring == UserMonitoring::Off {
            if !WARNED_OFF.swap(true, Ordering::Relaxed) {
                tracing::warn!(target: "sqreen", "SQREEN_USER_MONITORING=off: users named by the app are ignored (warned once)");
            }
            return None;
        }
        if user.is_empty() {
            return None;
        }
        match &self.anonymizer {
            None => Some(user),
            Some(a) => {
                let hashed = UserKeys::new().with(ANONYMIZED_KEY, a.hash(&user.id_cow()));
                Some(if user.is_claimed() {
                    hashed.claimed()
                } else {
                    hashed
                })
            }
        }
    }

    /// The id a raw canonical id is keyed by (its salted hash when anonymized).
    pub(crate) fn user_id<'a>(&self, id: &'a str) -> Cow<'a, str> {
        match &self.anonymizer {
            None => Cow::Borrowed(id),
            Some(a) => Cow::Owned(a.hash(id)),
        }
    }

    /// An id an operator gives (runtime API, admin API): when anonymized, a value that already
    /// has the hash's form (64 lowercase hex digits, as events show it) is taken as is, anything
    /// else is hashed; otherwise the id as given.
    pub(crate) fn operator_id<'a>(&self, id: &'a str) -> Cow<'a, str> {
        match &self.anonymizer {
            Some(_) if anonymize::is_hash(id) => Cow::Borrowed(id),
            _ => self.user_id(id),
        }
    }

    /// The user of a request, before the handler, admitted (see the module docs for the order).
    pub(crate) fn request_user(
        &self,
        head: &RequestHead<'_>,
        resolver: Option<&UserResolver>,
    ) -> Option<UserKeys> {
        let user = match self.monitoring {
            UserMonitoring::Off => return None,
            UserMonitoring::Advanced => resolver.and_then(|resolve| resolve(head)),
            UserMonitoring::Automatic => resolver
                .and_then(|resolve| resolve(head))
                .filter(|u| !u.is_empty())
                .or_else(|| {
                    head.extensions
                        .get::<AuthenticatedUser>()
                        .map(|u| u.0.clone())
                        .filter(|u| !u.is_empty())
                })
                .or_else(|| credentials::user_of(head.headers, &self.jwt_claim)),
        };
        user.and_then(|u| self.admit(u))
    }

    /// In anonymized mode, puts the rules' user deny and pass lists in hashed form: every entry
    /// is hashed; an entry that already looks like a hash is kept as well, so lists may name
    /// users by their raw id or by the hash events show.
    pub(crate) fn prepare_rules(&self, rules: &mut ActiveRules) {
        if self.anonymizer.is_none() {
            return;
        }
        for list in [&mut rules.user_deny, &mut rules.user_pass] {
            let raw = std::mem::take(list);
            for entry in raw {
                list.insert(self.user_id(&entry).into_owned());
                if anonymize::is_hash(&entry) {
                    list.insert(entry);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Extensions, HeaderMap, Method, Uri};

    fn policy(monitoring: UserMonitoring, mode: UserIdMode) -> UserPolicy {
        UserPolicy::new(&Config {
            user_monitoring: monitoring,
            user_id_mode: mode,
            user_id_salt: Some("0123456789abcdef-salt".to_owned()),
            ..Config::default()
        })
    }

    fn head_user(
        p: &UserPolicy,
        headers: &[(&str, &str)],
        ext: Option<UserKeys>,
    ) -> Option<String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let mut extensions = Extensions::new();
        if let Some(u) = ext {
            extensions.insert(AuthenticatedUser(u));
        }
        let head = RequestHead {
            method: &Method::GET,
            uri: &Uri::from_static("/"),
            headers: &map,
            extensions: &extensions,
        };
        p.request_user(&head, None).map(|u| u.id())
    }

    #[test]
    fn modes_parse() {
        assert_eq!("Automatic".parse(), Ok(UserMonitoring::Automatic));
        assert_eq!(" off ".parse(), Ok(UserMonitoring::Off));
        assert!("sometimes".parse::<UserMonitoring>().is_err());
        assert_eq!("anonymised".parse(), Ok(UserIdMode::Anonymized));
        assert!("hashed".parse::<UserIdMode>().is_err());
    }

    #[test]
    fn only_automatic_reads_requests() {
        let basic = [("authorization", "Basic YWxpY2U6c2VjcmV0")]; // alice:secret
        let auto = policy(UserMonitoring::Automatic, UserIdMode::Raw);
        assert_eq!(head_user(&auto, &basic, None).as_deref(), Some("alice"));
        let ext = UserKeys::new().with("email", "bob@example.com");
        assert_eq!(
            head_user(&auto, &basic, Some(ext.clone())).as_deref(),
            Some("bob@example.com"),
            "the extension comes before the credentials"
        );
        for mode in [UserMonitoring::Advanced, UserMonitoring::Off] {
            let p = policy(mode, UserIdMode::Raw);
            assert_eq!(head_user(&p, &basic, Some(ext.clone())), None, "{mode:?}");
        }
    }

    #[test]
    fn anonymized_users_are_hashed_once() {
        let p = policy(UserMonitoring::Advanced, UserIdMode::Anonymized);
        let user = p
            .admit(UserKeys::new().with("email", "alice@example.com"))
            .unwrap();
        let hash = Anonymizer::new("0123456789abcdef-salt".into()).hash("alice@example.com");
        assert_eq!(user.id(), hash);
        assert_eq!(user.get(ANONYMIZED_KEY), Some(hash.as_str()));
        assert_eq!(
            p.operator_id(&hash),
            hash,
            "a hash given by an operator is kept"
        );
        assert_eq!(p.operator_id("alice@example.com"), hash);
        assert_eq!(p.admit(UserKeys::new()), None);
        let raw = policy(UserMonitoring::Advanced, UserIdMode::Raw);
        assert_eq!(raw.operator_id(&hash), hash);
        assert_eq!(raw.user_id("alice"), "alice");
        let off = policy(UserMonitoring::Off, UserIdMode::Raw);
        assert_eq!(off.admit(UserKeys::new().with("id", "1")), None);
    }

    #[test]
    fn lists_are_hashed_on_load() {
        let p = policy(UserMonitoring::Advanced, UserIdMode::Anonymized);
        let a = Anonymizer::new("0123456789abcdef-salt".into());
        let pre_hashed = a.hash("carol");
        let doc = crate::rules::RulesDocument::parse(&format!(
            r#"{{"user_denylist": ["mallory@example.com", "{pre_hashed}"], "user_passlist": ["admin"]}}"#
        ))
        .unwrap();
        let mut rules = ActiveRules::compile(doc, crate::rules::RulesSource::Code);
        p.prepare_rules(&mut rules);
        assert!(rules.user_deny.contains(&a.hash("mallory@example.com")));
        assert!(!rules.user_deny.contains("mallory@example.com"));
        assert!(rules.user_deny.contains(&pre_hashed));
        assert!(rules.user_pass.contains(&a.hash("admin")));
        let mallory = p
            .admit(UserKeys::new().with("email", "mallory@example.com"))
            .unwrap();
        assert!(rules.user_denied(&mallory));
        let carol = p.admit(UserKeys::new().with("id", "carol")).unwrap();
        assert!(rules.user_denied(&carol));
    }
}
