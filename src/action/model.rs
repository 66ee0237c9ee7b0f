//! The data of an action: who it applies to, what it does, until when, and who decided it.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::clock::Millis;

/// Who an action applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    /// An IP network (a single address is a /32 or /128).
    Ip(IpNet),
    /// A user, by canonical id (see [`crate::UserKeys::id`]).
    User(String),
}

impl Actor {
    /// A single IP address as an actor.
    pub fn ip(ip: IpAddr) -> Self {
        Actor::Ip(IpNet::from(ip))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Ip(net) if net.prefix_len() == net.max_prefix_len() => {
                write!(f, "ip {}", net.addr())
            }
            Actor::Ip(net) => write!(f, "ip {net}"),
            Actor::User(id) => write!(f, "user {id}"),
        }
    }
}

/// What an action does to the actor's requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum ActionKind {
    /// Answer 403 with the block page.
    Block,
    /// Answer with a redirect to `url` (an `http(s)://` URL or a path starting with `/`).
    Redirect {
        /// Where to send the actor.
        url: String,
    },
}

impl ActionKind {
    /// A redirect, or a block when `url` is not an acceptable location (`http(s)://...` or a path
    /// starting with a single `/`), so a bad URL can never produce an open or broken redirect.
    pub fn redirect_or_block(url: &str) -> Self {
        if is_valid_location(url) {
            ActionKind::Redirect {
                url: url.to_owned(),
            }
        } else {
            ActionKind::Block
        }
    }
}

/// True for an acceptable redirect location: `http://` or `https://` followed by a host, or a path
/// starting with one `/`; no whitespace or control characters.
pub(crate) fn is_valid_location(url: &str) -> bool {
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match strip_prefix_ignore_case(url, "https://")
        .or_else(|| strip_prefix_ignore_case(url, "http://"))
    {
        Some(rest) => !rest.is_empty() && !rest.starts_with('/'),
        None => url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Who decided an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionSource {
    /// The runtime API (`agent.block_ip`, ...) or the admin API.
    Api,
    /// A deny list of the rules document.
    Rules,
    /// A playbook, by id.
    Playbook(String),
}

/// One security action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    /// Identifier, unique within the store that holds the action.
    pub id: u64,
    /// Who it applies to.
    pub actor: Actor,
    /// What it does.
    #[serde(flatten)]
    pub kind: ActionKind,
    /// When it ends (milliseconds since the Unix epoch); `None` is permanent.
    pub until: Option<Millis>,
    /// Who decided it.
    pub source: ActionSource,
}

impl Action {
    /// True while the action applies at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        for good in [
            "/blocked",
            "/a/b?c=d",
            "https://x.example/reset",
            "http://x.example",
        ] {
            assert!(is_valid_location(good), "{good}");
        }
        for bad in [
            "",
            "blocked",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "/a b",
            "/a\nb",
            "ftp://x.example",
            "data:text/html,x",
        ] {
            assert!(!is_valid_location(bad), "{bad}");
            assert_eq!(ActionKind::redirect_or_block(bad), ActionKind::Block);
        }
    }

    #[test]
    fn activity_is_checked_against_until() {
        let a = Action {
            id: 1,
            actor: Actor::User("u".into()),
            kind: ActionKind::Block,
            until: Some(10),
            source: ActionSource::Api,
        };
        assert!(a.is_active(9));
        assert!(!a.is_active(10));
        assert!(Action { until: None, ..a }.is_active(u64::MAX));
    }
}
