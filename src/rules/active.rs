//! [`ActiveRules`]: a rules document compiled for lookups on the request path.
//!
//! Compiled once per (re)load, then published whole through an `ArcSwap` by the agent, so a
//! request sees one consistent version of every list and never waits on a reload.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::context::UserKeys;
use crate::ip::IpSet;
use crate::playbook::Playbook;

use super::{RulesDocument, WafSettings};

/// Where the rules in force came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesSource {
    /// No rules document: empty lists, environment settings.
    None,
    /// Given in code to the builder.
    Code,
    /// A local file.
    File(PathBuf),
    /// The rules URL (`SQREEN_RULES_URL`), shown without its query, which may hold a secret.
    Url(String),
    /// The last good document of the rules URL, read from the disk cache
    /// (`SQREEN_RULES_CACHE_PATH`) at start-up, until the URL answers.
    UrlCache(PathBuf),
}

impl std::fmt::Display for RulesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RulesSource::None => f.write_str("none"),
            RulesSource::Code => f.write_str("code"),
            RulesSource::File(p) => write!(f, "file {}", p.display()),
            RulesSource::Url(u) => write!(f, "url {u}"),
            RulesSource::UrlCache(p) => write!(f, "cache {}", p.display()),
        }
    }
}

/// The rules in force.
#[derive(Debug)]
pub(crate) struct ActiveRules {
    pub(crate) version: Option<String>,
    pub(crate) issued_at: Option<crate::Millis>,
    pub(crate) source: RulesSource,
    pub(crate) ip_pass: IpSet,
    pub(crate) ip_deny: IpSet,
    pub(crate) user_pass: HashSet<String>,
    pub(crate) user_deny: HashSet<String>,
    redirect_exact: HashSet<String>,
    redirect_prefixes: Vec<String>,
    pub(crate) waf: WafSettings,
    /// `waf.exclusions` and `waf.routes`, compiled.
    pub(crate) waf_scopes: std::sync::Arc<crate::waf::exclusions::WafScopes>,
    pub(crate) playbooks: Vec<Playbook>,
    pub(crate) ipv6_actor_prefix: Option<u8>,
    /// `rasp.mode`, when the document states it.
    pub(crate) rasp_mode: Option<super::WafMode>,
}

impl ActiveRules {
    pub(crate) fn empty() -> Self {
        ActiveRules::compile(RulesDocument::default(), RulesSource::None)
    }

    pub(crate) fn compile(doc: RulesDocument, source: RulesSource) -> Self {
        let mut redirect_exact = HashSet::new();
        let mut redirect_prefixes = Vec::new();
        for path in doc.redirect_passlist {
            match path.strip_suffix('*') {
                Some(prefix) => redirect_prefixes.push(prefix.to_owned()),
                None => {
                    redirect_exact.insert(path);
                }
            }
        }
        for rule in &doc.waf.disabled_rules {
            if !crate::waf::is_rule(rule) {
                tracing::warn!(
                    target: "sqreen::rules",
                    rule = %rule,
                    "waf.disabled_rules names a rule the WAF does not have; it is ignored"
                );
            }
        }
        ActiveRules {
            version: doc.version,
            issued_at: doc.issued_at,
            source,
            ip_pass: doc.ip_passlist.into_iter().map(|n| (n, ())).collect(),
            ip_deny: doc.ip_denylist.into_iter().map(|n| (n, ())).collect(),
            user_pass: doc.user_passlist.into_iter().collect(),
            user_deny: doc.user_denylist.into_iter().collect(),
            redirect_exact,
            redirect_prefixes,
            waf_scopes: std::sync::Arc::new(crate::waf::exclusions::WafScopes::compile(
                &doc.waf.exclusions,
                &doc.waf.routes,
            )),
            waf: doc.waf,
            playbooks: doc.playbooks,
            ipv6_actor_prefix: doc.ipv6_actor_prefix,
            rasp_mode: doc.rasp.mode,
        }
    }

    /// True when a request to `path` must never be redirected: the path is on the redirect pass
    /// list (exactly, or under an entry ending in `*`).
    pub(crate) fn redirect_passlisted(&self, path: &str) -> bool {
        self.redirect_exact.contains(path)
            || self
                .redirect_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()))
    }

    /// True when `user` is on the pass list and was named by the app (never for a user read
    /// from unverified credentials: see [`UserKeys::is_claimed`]).
    pub(crate) fn user_passlisted(&self, user: &UserKeys) -> bool {
        !self.user_pass.is_empty()
            && !user.is_claimed()
            && user
                .match_candidates()
                .any(|c| self.user_pass.contains(c.as_ref()))
    }

    pub(crate) fn user_denied(&self, user: &UserKeys) -> bool {
        !self.user_deny.is_empty()
            && user
                .match_candidates()
                .any(|c| self.user_deny.contains(c.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_lists() {
        let doc = RulesDocument::parse(
            r#"{"version":"v1","ip_denylist":["203.0.113.0/24"],"ip_passlist":["203.0.113.7"],
                "user_denylist":["mallory@example.com"],"user_passlist":["admin"],
                "redirect_passlist":["/blocked","/static/*"]}"#,
        )
        .unwrap();
        let r = ActiveRules::compile(doc, RulesSource::Code);
        assert_eq!(r.version.as_deref(), Some("v1"));
        assert!(r.ip_deny.contains("203.0.113.9".parse().unwrap()));
        assert!(r.ip_pass.contains("203.0.113.7".parse().unwrap()));
        let mallory = UserKeys::new()
            .with("email", "mallory@example.com")
            .with("id", "7");
        assert!(r.user_denied(&mallory));
        assert!(!r.user_passlisted(&mallory));
        assert!(r.user_passlisted(&UserKeys::new().with("username", "admin")));
        assert!(r.redirect_passlisted("/blocked"));
        assert!(!r.redirect_passlisted("/blocked/x"));
        assert!(r.redirect_passlisted("/static/app.css"));
        assert!(!r.redirect_passlisted("/"));
    }
}
