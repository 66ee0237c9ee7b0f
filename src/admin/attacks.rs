//! `GET attacks/top?since=&limit=`: the attack events the agent holds, grouped by (rule,
//! method, route, input), most frequent first, each with the WAF exclusion that would let such
//! requests through (for the rules document's `waf.exclusions`, to copy when the group is a
//! false positive).
//!
//! A route is the request's path with its id-like segments (numbers, UUIDs and hex ids, long
//! tokens with digits) written `*`, and an input its name with array indexes written `[*]`, so
//! that `/forum/812/reply` and `/forum/97/reply` make one group and its exclusion covers both.
//! A path an exclusion cannot cover (not canonical: see `crate::waf::exclusions`) gets no
//! exclusion (`null`). Reads the ring of recent events (`events`); no I/O.

use std::collections::HashMap;

use bytes::Bytes;
use http::{Response, StatusCode, Uri};
use serde_json::{json, Value};

use super::{each_param, error, json_response, param_time, BadParam};
use crate::clock::Millis;
use crate::event::ring::EventRing;
use crate::event::time::rfc3339;
use crate::waf::exclusions::canonical;
use crate::waf::glob::{InputGlob, PathGlob};

/// Groups returned when `limit` is not given, and at most.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;
/// Attack events' names start with this.
const ATTACK: &str = "app.sqreen.attack.";

/// One (rule, method, route, input) group.
#[derive(Debug)]
struct Group {
    category: String,
    example_path: String,
    count: u64,
    blocked: u64,
    last: Millis,
}

fn parse(query: Option<&str>) -> Result<(Option<Millis>, usize), BadParam> {
    let (mut since, mut limit) = (None, DEFAULT_LIMIT);
    each_param(query, |key, value| {
        match key {
            "since" => since = Some(param_time(value)?),
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => return Err(format!("expected a whole number from 1 to {MAX_LIMIT}")),
            },
            _ => return Err("unknown parameter (expected since, limit)".to_owned()),
        }
        Ok(())
    })?;
    Ok((since, limit))
}

/// True for a path segment that names one item rather than a route: a number, a UUID or hex
/// id, or a long token with digits in it.
fn id_like(segment: &str) -> bool {
    let digits = segment.bytes().filter(u8::is_ascii_digit).count();
    if segment.is_empty() || digits == 0 {
        return false;
    }
    digits == segment.len()
        || (segment.len() >= 8 && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        || segment.len() >= 24
}

/// The route of a decoded, canonical path: id-like segments as `*`.
fn route_of(path: &str) -> String {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = rest
        .split('/')
        .map(|s| if id_like(s) { "*" } else { s })
        .collect();
    format!("/{}", segments.join("/"))
}

/// An input name with its array indexes as `[*]`: `body.items[3].name` → `body.items[*].name`.
fn input_pattern(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str("[*]");
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The exclusion for a group, when its route and input can be written as patterns.
fn exclusion(rule: &str, method: &str, route: Option<&str>, input: &str) -> Value {
    let Some(route) = route.filter(|r| PathGlob::parse(r).is_ok()) else {
        return Value::Null;
    };
    if InputGlob::parse(input).is_err() {
        return Value::Null;
    }
    json!({ "path": route, "method": method, "inputs": [input], "rules": [rule] })
}

/// Answers `GET attacks/top`.
pub(crate) fn top(ring: &EventRing, now: Millis, uri: &Uri) -> Response<Bytes> {
    let (since, limit) = match parse(uri.query()) {
        Ok(q) => q,
        Err((field, message)) => return error(StatusCode::BAD_REQUEST, Some(&field), message),
    };
    let entries = ring.newest(ring.capacity(), |e| {
        e.name.starts_with(ATTACK) && since.is_none_or(|s| e.at >= s)
    });
    // (rule, method, route or the raw path when not canonical, input) → group
    let mut groups: HashMap<(String, String, Option<String>, String), Group> = HashMap::new();
    for entry in &entries {
        let Ok(event) = serde_json::from_str::<Value>(&entry.json) else {
            continue;
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let props = &event["properties"];
        let path = text(&event["request"]["path"]);
        let route = canonical(&path).map(|p| route_of(&p));
        let key = (
            text(&props["rule"]),
            text(&event["request"]["verb"]),
            route,
            input_pattern(props["input"].as_str().unwrap_or_default()),
        );
        let group = groups.entry(key).or_insert_with(|| Group {
            category: entry.name[ATTACK.len()..].to_owned(),
            example_path: path,
            count: 0,
            blocked: 0,
            last: entry.at,
        });
        group.count += 1;
        group.blocked += u64::from(props["blocked"] == Value::Bool(true));
        group.last = group.last.max(entry.at);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|(ka, a), (kb, b)| {
        b.count
            .cmp(&a.count)
            .then(b.last.cmp(&a.last))
            .then(ka.cmp(kb))
    });
    let top: Vec<Value> = groups
        .into_iter()
        .take(limit)
        .map(|((rule, method, route, input), g)| {
            json!({
                "rule": rule,
                "category": g.category,
                "method": method,
                "route": route,
                "input": input,
                "count": g.count,
                "blocked": g.blocked,
                "last_seen": rfc3339(g.last),
                "example_path": g.example_path,
                "exclusion": exclusion(&rule, &method, route.as_deref(), &input),
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "top": top,
            "attacks_read": entries.len(),
            "now": rfc3339(now),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_write_ids_as_stars() {
        assert_eq!(route_of("/forum/812/reply"), "/forum/*/reply");
        assert_eq!(
            route_of("/u/550e8400-e29b-41d4-a716-446655440000/avatar"),
            "/u/*/avatar"
        );
        assert_eq!(route_of("/c/deadbeef42"), "/c/*");
        assert_eq!(route_of("/api/v2/search"), "/api/v2/search");
        assert_eq!(route_of("/blog/2026-hello-world"), "/blog/2026-hello-world");
        assert_eq!(route_of("/t/abcdefghijklmnopqrstuvw1x"), "/t/*");
        assert_eq!(route_of("/"), "/");
    }

    #[test]
    fn inputs_write_indexes_as_stars() {
        assert_eq!(input_pattern("body.items[3].name"), "body.items[*].name");
        assert_eq!(input_pattern("body.a[0][12]"), "body.a[*][*]");
        assert_eq!(input_pattern("query.user[name]"), "query.user[name]");
        assert_eq!(input_pattern("query.x[]"), "query.x[]");
        assert_eq!(input_pattern("body["), "body[");
        assert_eq!(input_pattern("query.q"), "query.q");
    }

    #[test]
    fn suggested_exclusions_parse_as_rules_document_entries() {
        let e = exclusion(
            "xss-script-tag",
            "POST",
            Some("/forum/*"),
            "body.items[*].text",
        );
        let doc = json!({ "waf": { "exclusions": [e] } }).to_string();
        let parsed = crate::rules::RulesDocument::parse(&doc).unwrap();
        assert_eq!(parsed.waf.exclusions[0].inputs, ["body.items[*].text"]);
        assert_eq!(
            exclusion("xss-script-tag", "GET", None, "query.q"),
            Value::Null
        );
        assert_eq!(
            exclusion("xss-script-tag", "GET", Some("/a b"), "query.q"),
            Value::Null
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(parse(None).unwrap(), (None, DEFAULT_LIMIT));
        assert_eq!(parse(Some("limit=5")).unwrap(), (None, 5));
        for (q, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("since=x", "since"),
            ("x=1", "x"),
            ("limit=1&limit=2", "limit"),
        ] {
            assert_eq!(parse(Some(q)).unwrap_err().0, field, "{q}");
        }
    }
}
