//! What cluster mode writes in Redis: key names, and actions as small JSON objects read back
//! strictly (an entry that another version, a person or a fault wrote wrong is skipped and
//! counted, never trusted and never a panic).
//!
//! Keys, all under the namespace (`SQREEN_CLUSTER_NAMESPACE`, default `sqreen`):
//! - `<ns>:actions`: a hash, one field per actor (`ip:<network>`, `user:<id>`), its value the
//!   action in force ([`encode`]);
//! - `<ns>:actions:until`: a sorted set of the same fields by expiry, for pruning;
//! - `<ns>:actions:log`: a stream of changes (`op` `put` or `del`, `actor`, `action`, `from`),
//!   capped at about [`LOG_LEN`] entries, which every replica reads from where it left off.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{json, Map, Value};

use crate::action::{Action, ActionKind, ActionSource, Actor};
use crate::clock::Millis;

/// The change log's length, kept approximately (`XADD ... MAXLEN ~`): a replica away for
/// longer than this many changes reloads the hash instead of catching up.
pub(crate) const LOG_LEN: usize = 10_000;

/// The Redis keys of one namespace.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub(crate) actions: String,
    pub(crate) until: String,
    pub(crate) log: String,
}

impl Keys {
    pub(crate) fn new(namespace: &str) -> Keys {
        Keys {
            actions: format!("{namespace}:actions"),
            until: format!("{namespace}:actions:until"),
            log: format!("{namespace}:actions:log"),
        }
    }
}

/// The hash field of an actor: `ip:<network>` (normalised, so one network has one field) or
/// `user:<id>`.
pub(crate) fn actor_field(actor: &Actor) -> String {
    match actor {
        Actor::Ip(net) => format!("ip:{}", crate::ip::prefix_map::normalize_net(*net).trunc()),
        Actor::User(id) => format!("user:{id}"),
    }
}

/// The actor of a hash field.
pub(crate) fn parse_actor(field: &str) -> Option<Actor> {
    if let Some(net) = field.strip_prefix("ip:") {
        let net = net
            .parse::<IpNet>()
            .ok()
            .or_else(|| net.parse::<IpAddr>().ok().map(IpNet::from))?;
        return Some(Actor::Ip(net));
    }
    let id = field.strip_prefix("user:")?;
    (!id.is_empty()).then(|| Actor::User(id.to_owned()))
}

/// An action as stored in Redis. Its id is not: ids are each replica's own.
pub(crate) fn encode(action: &Action, from: &str) -> String {
    let mut o = Map::new();
    o.insert("actor".into(), actor_field(&action.actor).into());
    match &action.kind {
        ActionKind::Block => {
            o.insert("do".into(), "block".into());
        }
        ActionKind::Redirect { url } => {
            o.insert("do".into(), "redirect".into());
            o.insert("url".into(), url.clone().into());
        }
    }
    if let Some(until) = action.until {
        o.insert("until".into(), until.into());
    }
    let source = match &action.source {
        ActionSource::Api => json!("api"),
        ActionSource::Rules => json!("rules"),
        ActionSource::Playbook(id) => json!({ "playbook": id }),
    };
    o.insert("source".into(), source);
    o.insert("from".into(), from.into());
    Value::Object(o).to_string()
}

/// An action read from Redis (with id 0: the store gives it one of its own), and the replica
/// that wrote it.
#[derive(Debug, PartialEq)]
pub(crate) struct Decoded {
    pub(crate) action: Action,
    pub(crate) from: String,
}

/// The longest encoded action read (an actor, a redirect URL and a playbook id fit easily).
const MAX_ENCODED: usize = 8 * 1024;

/// Reads [`encode`]'s output back; `None` for anything else.
pub(crate) fn decode(text: &str) -> Option<Decoded> {
    if text.len() > MAX_ENCODED {
        return None;
    }
    let Value::Object(o) = serde_json::from_str::<Value>(text).ok()? else {
        return None;
    };
    let actor = parse_actor(o.get("actor")?.as_str()?)?;
    let kind = match o.get("do")?.as_str()? {
        "block" => ActionKind::Block,
        "redirect" => {
            let url = o.get("url")?.as_str()?;
            // the same rule as every redirect: a bad location is never followed
            match ActionKind::redirect_or_block(url) {
                ActionKind::Block => return None,
                kind => kind,
            }
        }
        _ => return None,
    };
    let until = match o.get("until") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64()? as Millis),
    };
    let source = match o.get("source")? {
        Value::String(s) if s == "api" => ActionSource::Api,
        Value::String(s) if s == "rules" => ActionSource::Rules,
        Value::Object(p) => ActionSource::Playbook(p.get("playbook")?.as_str()?.to_owned()),
        _ => return None,
    };
    let from = o.get("from")?.as_str()?.to_owned();
    Some(Decoded {
        action: Action {
            id: 0,
            actor,
            kind,
            until,
            source,
        },
        from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(
        actor: Actor,
        kind: ActionKind,
        until: Option<Millis>,
        source: ActionSource,
    ) -> Action {
        Action {
            id: 7,
            actor,
            kind,
            until,
            source,
        }
    }

    #[test]
    fn actions_round_trip_without_their_id() {
        for a in [
            action(
                Actor::Ip("192.0.2.0/24".parse().unwrap()),
                ActionKind::Block,
                Some(1_000),
                ActionSource::Api,
            ),
            action(
                Actor::Ip("2001:db8::/64".parse().unwrap()),
                ActionKind::Redirect {
                    url: "/blocked".into(),
                },
                None,
                ActionSource::Playbook("login-brute-force".into()),
            ),
            action(
                Actor::User("alice:with\"quotes".into()),
                ActionKind::Block,
                None,
                ActionSource::Rules,
            ),
        ] {
            let text = encode(&a, "r1");
            let back = decode(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(back.from, "r1");
            assert_eq!(back.action, Action { id: 0, ..a });
        }
    }

    #[test]
    fn one_network_has_one_field() {
        let a = Actor::Ip("192.0.2.77/24".parse().unwrap());
        let b = Actor::Ip("::ffff:192.0.2.0/120".parse().unwrap());
        assert_eq!(actor_field(&a), "ip:192.0.2.0/24");
        assert_eq!(actor_field(&b), "ip:192.0.2.0/24");
        assert_eq!(
            parse_actor("ip:192.0.2.1"),
            Some(Actor::Ip("192.0.2.1/32".parse().unwrap()))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let long_url = format!(
            r#"{{"actor":"ip:192.0.2.1/32","do":"redirect","url":"/{}","source":"api","from":"r"}}"#,
            "a".repeat(9000)
        );
        for bad in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"actor":"ip:300.0.0.1/32","do":"block","source":"api","from":"r"}"#,
            r#"{"actor":"host:x","do":"block","source":"api","from":"r"}"#,
            r#"{"actor":"user:","do":"block","source":"api","from":"r"}"#,
            r#"{"actor":"user:a","do":"ban","source":"api","from":"r"}"#,
            r#"{"actor":"user:a","do":"redirect","url":"//evil.example","source":"api","from":"r"}"#,
            r#"{"actor":"user:a","do":"block","until":-5,"source":"api","from":"r"}"#,
            r#"{"actor":"user:a","do":"block","until":"soon","source":"api","from":"r"}"#,
            r#"{"actor":"user:a","do":"block","source":"me","from":"r"}"#,
            r#"{"actor":"user:a","do":"block","source":"api"}"#,
            long_url.as_str(),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
