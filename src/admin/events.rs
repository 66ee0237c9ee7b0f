//! `GET events?name=&actor=&since=&limit=&view=`: the recent events the agent holds, newest first.
//!
//! - `name`: an event name, or a prefix ending in `*` (`app.sqreen.attack.*`);
//! - `actor`: an IP address (the event's client IP), a CIDR (client IPs in it), or a user (the
//!   canonical id, or the value of any of the user's keys, as the user lists match);
//! - `since`: an RFC 3339 time; only events at or after it;
//! - `limit`: 1 to the ring's capacity (10,000); 100 by default;
//! - `view`: `full` (default: each event as the JSON-lines file has it, redacted) or `summary`
//!   (`name`, `timestamp`, `ip`, `critical`, `user`: what the Explorer needs, a tenth of the bytes).
//!
//! An unknown, repeated or malformed parameter is a 400 that names it. The answer also carries
//! the agent's clock (`now`), so a page plots against the server's time, not the browser's.

use bytes::Bytes;
use http::{Response, StatusCode, Uri};
use ipnet::IpNet;
use serde_json::json;

use super::{each_param, error, param_time, respond, BadParam};

use crate::clock::Millis;
use crate::event::ring::{EventRing, RingEntry};
use crate::event::time::rfc3339;

/// Events returned when `limit` is not given.
const DEFAULT_LIMIT: usize = 100;
const PARAMETERS: &str = "name, actor, since, limit, view";

/// What `name` selects.
#[derive(Debug, PartialEq)]
enum NameFilter {
    Exact(String),
    Prefix(String),
}

/// What `actor` selects.
#[derive(Debug, PartialEq)]
enum ActorFilter {
    Net(IpNet),
    User(String),
}

#[derive(Debug, Default, PartialEq)]
struct Query {
    name: Option<NameFilter>,
    actor: Option<ActorFilter>,
    since: Option<Millis>,
    limit: Option<usize>,
    summary: bool,
}

fn parse(query: Option<&str>, capacity: usize) -> Result<Query, BadParam> {
    let mut q = Query::default();
    each_param(query, |key, value| {
        match key {
            "name" if value.is_empty() => return Err("empty".to_owned()),
            "name" => {
                q.name = Some(match value.strip_suffix('*') {
                    Some(prefix) => NameFilter::Prefix(prefix.to_owned()),
                    None => NameFilter::Exact(value.to_owned()),
                })
            }
            "actor" if value.is_empty() => return Err("empty".to_owned()),
            "actor" => {
                q.actor = Some(if let Ok(ip) = value.parse::<std::net::IpAddr>() {
                    ActorFilter::Net(IpNet::from(ip))
                } else if let Ok(net) = value.parse::<IpNet>() {
                    ActorFilter::Net(net.trunc())
                } else {
                    ActorFilter::User(value.to_owned())
                })
            }
            "since" => q.since = Some(param_time(value)?),
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=capacity).contains(&n) => q.limit = Some(n),
                _ => return Err(format!("expected a whole number from 1 to {capacity}")),
            },
            "view" => match value {
                "full" => q.summary = false,
                "summary" => q.summary = true,
                _ => return Err("expected full or summary".to_owned()),
            },
            "token" => {
                return Err(
                    "send the token in the Authorization header, never in the URL".to_owned(),
                )
            }
            _ => return Err(format!("unknown parameter (expected {PARAMETERS})")),
        }
        Ok(())
    })?;
    Ok(q)
}

impl Query {
    fn keeps(&self, e: &RingEntry) -> bool {
        let name_ok = match &self.name {
            None => true,
            Some(NameFilter::Exact(n)) => e.name == *n,
            Some(NameFilter::Prefix(p)) => e.name.starts_with(p.as_str()),
        };
        let actor_ok = match &self.actor {
            None => true,
            Some(ActorFilter::Net(net)) => e.ip.is_some_and(|ip| net.contains(&ip)),
            Some(ActorFilter::User(u)) => {
                e.user.as_deref() == Some(u.as_str()) || e.user_values.iter().any(|v| v == u)
            }
        };
        name_ok && actor_ok && self.since.is_none_or(|since| e.at >= since)
    }
}

/// Answers `GET events`.
pub(crate) fn query(ring: &EventRing, now: Millis, uri: &Uri) -> Response<Bytes> {
    let q = match parse(uri.query(), ring.capacity()) {
        Ok(q) => q,
        Err((field, message)) => return error(StatusCode::BAD_REQUEST, Some(&field), message),
    };
    let entries = ring.newest(q.limit.unwrap_or(DEFAULT_LIMIT), |e| q.keeps(e));
    // The held events are already JSON: they are joined, not parsed and written again.
    let mut out =
        String::with_capacity(entries.iter().map(|e| e.json.len() + 1).sum::<usize>() + 200);
    out.push_str("{\"events\":[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if q.summary {
            let summary = json!({
                "name": e.name,
                "timestamp": rfc3339(e.at),
                "ip": e.ip,
                "critical": e.critical,
                "user": e.user,
            });
            out.push_str(&summary.to_string());
        } else {
            out.push_str(&e.json);
        }
    }
    let tail = json!({
        "now": rfc3339(now),
        "held": ring.len(),
        "capacity": ring.capacity(),
        "recorded": ring.recorded(),
    });
    // `tail` is an object: splice its members after the array
    let tail = tail.to_string();
    out.push_str("],");
    out.push_str(&tail[1..]);
    respond(StatusCode::OK, "application/json", Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(q: &str) -> String {
        parse(Some(q), 10_000).unwrap_err().0
    }

    #[test]
    fn parameters() {
        let q = parse(
            Some("name=app.sqreen.attack.*&actor=203.0.113.0/24&since=2026-11-23T16:00:00Z&limit=5&view=summary"),
            10_000,
        )
        .unwrap();
        assert_eq!(
            q.name,
            Some(NameFilter::Prefix("app.sqreen.attack.".into()))
        );
        assert_eq!(
            q.actor,
            Some(ActorFilter::Net("203.0.113.0/24".parse().unwrap()))
        );
        assert_eq!(q.since, Some(1_795_449_600_000));
        assert_eq!(q.limit, Some(5));
        assert!(q.summary);
        let q = parse(Some("actor=alice%40example.com&name=user.invited"), 10).unwrap();
        assert_eq!(q.actor, Some(ActorFilter::User("alice@example.com".into())));
        assert_eq!(q.name, Some(NameFilter::Exact("user.invited".into())));
        assert_eq!(parse(None, 10).unwrap(), Query::default());
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(field("since=yesterday"), "since");
        assert_eq!(field("limit=0"), "limit");
        assert_eq!(field("limit=10001"), "limit");
        assert_eq!(field("limit=-1"), "limit");
        assert_eq!(field("view=xml"), "view");
        assert_eq!(field("name="), "name");
        assert_eq!(field("actor="), "actor");
        assert_eq!(field("nmae=x"), "nmae");
        assert_eq!(field("token=x"), "token");
        assert_eq!(field("name=a&name=b"), "name");
        let (_, message) = parse(Some("since=x"), 10).unwrap_err();
        assert!(message.starts_with("since: "), "{message}");
    }
}
