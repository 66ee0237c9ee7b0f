//! `GET actions`, `POST actions`, `DELETE actions/{id}`: the runtime actions, over HTTP.
//!
//! A thin shell over the runtime API ([`Agent::block_ip`], [`Agent::redirect_ip`],
//! [`Agent::block_user`], [`Agent::redirect_user`], [`Agent::remove_action`],
//! [`Agent::actions`]), so an action pushed here behaves exactly like one decided in code, and
//! the request path sees it on the next request (the action store is swapped atomically).
//!
//! The body of `POST actions` is validated strictly, field by field, so the 400 can name the
//! field: `{"actor": {"ip": "CIDR"} | {"user": "id"}, "action": "block" | "redirect",
//! "url": "/blocked" (redirect only), "duration": "1h" | "permanent"}`. Unknown fields are errors
//! (a typo such as `"duraton"` must not give a permanent block); `duration` is required for the
//! same reason; a redirect URL that would not be acceptable is refused here rather than turned
//! into a block as the runtime API does.

use bytes::Bytes;
use http::header::{HeaderValue, LOCATION};
use http::{Response, StatusCode};
use ipnet::IpNet;
use serde_json::{json, Map, Value};

use super::{error, json_response};
use crate::action::{is_valid_location, Action, ActionKind, ActionSource, Actor};
use crate::agent::Agent;
use crate::duration::Lifetime;
use crate::event::time::rfc3339;

/// The longest user id accepted.
const MAX_USER: usize = 1024;

/// An action as the admin API shows it.
fn describe(action: &Action) -> Value {
    let actor = match &action.actor {
        Actor::Ip(net) => json!({ "ip": net.to_string() }),
        Actor::User(id) => json!({ "user": id }),
    };
    let (kind, url) = match &action.kind {
        ActionKind::Block => ("block", None),
        ActionKind::Redirect { url } => ("redirect", Some(url.as_str())),
    };
    let mut out = json!({
        "id": action.id,
        "actor": actor,
        "action": kind,
        "url": url,
        "until": action.until.map(rfc3339),
    });
    match &action.source {
        ActionSource::Api => out["source"] = "api".into(),
        ActionSource::Rules => out["source"] = "rules".into(),
        ActionSource::Playbook(id) => {
            out["source"] = "playbook".into();
            out["playbook"] = id.as_str().into();
        }
    }
    out
}

/// `GET actions`.
pub(crate) fn list(agent: &Agent) -> Response<Bytes> {
    let actions: Vec<Value> = agent.actions().iter().map(|a| describe(a)).collect();
    json_response(StatusCode::OK, &json!({ "actions": actions }))
}

/// `DELETE actions/{id}`.
pub(crate) fn delete(agent: &Agent, id: &str) -> Response<Bytes> {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            Some("id"),
            "id: expected the number given by POST actions".to_owned(),
        );
    };
    if agent.remove_action(id) {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        response
    } else {
        error(
            StatusCode::NOT_FOUND,
            Some("id"),
            format!("id: no action {id} in force"),
        )
    }
}

/// A valid `POST actions` body.
#[derive(Debug, PartialEq)]
struct NewAction {
    actor: Actor,
    kind: ActionKind,
    lifetime: Lifetime,
}

/// A field and what is wrong with it.
type Bad = (String, String);

fn bad<T>(field: &str, why: impl std::fmt::Display) -> Result<T, Bad> {
    Err((field.to_owned(), format!("{field}: {why}")))
}

fn string<'a>(obj: &'a Map<String, Value>, field: &str, key: &str) -> Result<Option<&'a str>, Bad> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => bad(field, "expected a string"),
    }
}

fn parse(body: &[u8]) -> Result<NewAction, Bad> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad("body", format!("not valid JSON ({e})")),
    };
    let Value::Object(obj) = value else {
        return bad("body", "expected a JSON object");
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "actor" | "action" | "url" | "duration") {
            let key = key.chars().take(64).collect::<String>();
            return bad(
                &key,
                "unknown field (expected actor, action, url, duration)",
            );
        }
    }
    let actor = match obj.get("actor") {
        Some(Value::Object(actor)) => parse_actor(actor)?,
        None => {
            return bad(
                "actor",
                "missing: give {\"ip\": \"CIDR\"} or {\"user\": \"id\"}",
            )
        }
        Some(_) => return bad("actor", "expected {\"ip\": \"CIDR\"} or {\"user\": \"id\"}"),
    };
    let url = string(&obj, "url", "url")?;
    let kind = match string(&obj, "action", "action")? {
        Some("block") if url.is_some() => return bad("url", "only a redirect takes a url"),
        Some("block") => ActionKind::Block,
        Some("redirect") => match url {
            None => return bad("url", "missing: a redirect needs a url"),
            Some(url) if is_valid_location(url) => ActionKind::Redirect {
                url: url.to_owned(),
            },
            Some(_) => {
                return bad(
                    "url",
                    "expected an http(s):// URL or a path starting with a single /",
                )
            }
        },
        None => return bad("action", "missing: \"block\" or \"redirect\""),
        Some(_) => return bad("action", "expected \"block\" or \"redirect\""),
    };
    let lifetime = match string(&obj, "duration", "duration")? {
        Some(d) => Lifetime::parse(d).or_else(|e| bad("duration", e))?,
        None => return bad("duration", "missing: e.g. \"1h\", or \"permanent\""),
    };
    Ok(NewAction {
        actor,
        kind,
        lifetime,
    })
}

fn parse_actor(actor: &Map<String, Value>) -> Result<Actor, Bad> {
    for key in actor.keys() {
        if key != "ip" && key != "user" {
            let key = key.chars().take(64).collect::<String>();
            return bad(
                &format!("actor.{key}"),
                "unknown field (expected ip or user)",
            );
        }
    }
    match (
        string(actor, "actor.ip", "ip")?,
        string(actor, "actor.user", "user")?,
    ) {
        (Some(_), Some(_)) => bad("actor", "give either ip or user, not both"),
        (Some(ip), None) => {
            let ip = ip.trim();
            if let Ok(addr) = ip.parse::<std::net::IpAddr>() {
                Ok(Actor::Ip(IpNet::from(addr)))
            } else if let Ok(net) = ip.parse::<IpNet>() {
                Ok(Actor::Ip(net.trunc()))
            } else {
                bad(
                    "actor.ip",
                    "expected an IP address or a CIDR such as 203.0.113.0/24",
                )
            }
        }
        (None, Some(user)) => {
            let user = user.trim();
            if user.is_empty() {
                bad("actor.user", "empty")
            } else if user.chars().count() > MAX_USER {
                bad("actor.user", format!("longer than {MAX_USER} characters"))
            } else {
                Ok(Actor::User(user.to_owned()))
            }
        }
        (None, None) => bad("actor", "expected {\"ip\": \"CIDR\"} or {\"user\": \"id\"}"),
    }
}

/// `POST actions`.
pub(crate) fn create(agent: &Agent, base: &str, body: &[u8]) -> Response<Bytes> {
    let new = match parse(body) {
        Ok(new) => new,
        Err((field, message)) => return error(StatusCode::BAD_REQUEST, Some(&field), message),
    };
    let duration = new.lifetime.duration();
    let added = match (new.actor, new.kind) {
        (Actor::Ip(net), ActionKind::Block) => agent.block_ip(net, duration),
        (Actor::Ip(net), ActionKind::Redirect { url }) => agent.redirect_ip(net, &url, duration),
        (Actor::User(user), ActionKind::Block) => agent.block_user(&user, duration),
        (Actor::User(user), ActionKind::Redirect { url }) => {
            agent.redirect_user(&user, &url, duration)
        }
    };
    // `parse` already held the duration to the same limit
    let id = match added {
        Ok(id) => id,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                Some("duration"),
                format!("duration: {e}"),
            )
        }
    };
    let action = agent.actions().into_iter().find(|a| a.id == id);
    let mut body = json!({ "id": id });
    if let Some(action) = action {
        body["action"] = describe(&action);
    }
    let mut response = json_response(StatusCode::CREATED, &body);
    if let Ok(location) = HeaderValue::from_str(&format!("{base}/actions/{id}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> String {
        let (field, message) = parse(body.as_bytes()).unwrap_err();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "{message} should name {field}"
        );
        field
    }

    #[test]
    fn valid_bodies() {
        let a = parse(br#"{"actor":{"ip":"203.0.113.9/24"},"action":"block","duration":"1h"}"#)
            .unwrap();
        assert_eq!(a.actor, Actor::Ip("203.0.113.0/24".parse().unwrap()));
        assert_eq!(a.kind, ActionKind::Block);
        assert_eq!(
            a.lifetime.duration(),
            Some(std::time::Duration::from_secs(3600))
        );
        let a = parse(
            br#"{"actor":{"user":"mallory@example.com"},"action":"redirect","url":"/blocked","duration":"permanent"}"#,
        )
        .unwrap();
        assert_eq!(a.actor, Actor::User("mallory@example.com".into()));
        assert!(a.lifetime.is_permanent());
        let a =
            parse(br#"{"actor":{"ip":"2001:db8::1"},"action":"block","duration":"7d"}"#).unwrap();
        assert_eq!(a.actor, Actor::Ip("2001:db8::1/128".parse().unwrap()));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field("{"), "body");
        assert_eq!(field("[]"), "body");
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"block","duraton":"1h"}"#),
            "duraton"
        );
        assert_eq!(field(r#"{"action":"block","duration":"1h"}"#), "actor");
        assert_eq!(
            field(r#"{"actor":"1.2.3.4","action":"block","duration":"1h"}"#),
            "actor"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.400"},"action":"block","duration":"1h"}"#),
            "actor.ip"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"10.0.0.0/33"},"action":"block","duration":"1h"}"#),
            "actor.ip"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":7},"action":"block","duration":"1h"}"#),
            "actor.ip"
        );
        assert_eq!(
            field(r#"{"actor":{"user":" "},"action":"block","duration":"1h"}"#),
            "actor.user"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4","user":"u"},"action":"block","duration":"1h"}"#),
            "actor"
        );
        assert_eq!(
            field(r#"{"actor":{"cidr":"1.2.3.4"},"action":"block","duration":"1h"}"#),
            "actor.cidr"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"ban","duration":"1h"}"#),
            "action"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"duration":"1h"}"#),
            "action"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"redirect","duration":"1h"}"#),
            "url"
        );
        assert_eq!(
            field(
                r#"{"actor":{"ip":"1.2.3.4"},"action":"redirect","url":"//evil","duration":"1h"}"#
            ),
            "url"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"block","url":"/x","duration":"1h"}"#),
            "url"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"block"}"#),
            "duration"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"block","duration":"1 hour"}"#),
            "duration"
        );
        assert_eq!(
            field(r#"{"actor":{"ip":"1.2.3.4"},"action":"block","duration":"0s"}"#),
            "duration"
        );
    }
}
