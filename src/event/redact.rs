//! [`Redactor`]: sensitive data never leaves the process.
//!
//! A value whose key matches `SQREEN_STRIP_SENSITIVE_KEY_REGEX` (passwords, secrets, tokens,
//! cookies, sessions, authorization, API keys by default), or a string that matches
//! `SQREEN_STRIP_SENSITIVE_VALUE_REGEX` (card numbers by default), becomes
//! `<Redacted by sqreen>`. Events are redacted when they are built, on the request path, before
//! they reach any sink: the file, the webhook, Slack and the logs only ever see the redacted copy.
//! Work is bounded: strings are cut to [`MAX_STRING`] characters and JSON below [`MAX_DEPTH`]
//! levels is replaced by a marker, so a hostile payload cannot make redaction expensive.

use regex::Regex;
use serde_json::{Map, Value};

/// What a redacted value becomes.
pub const REDACTED: &str = "<Redacted by sqreen>";
/// Longest string kept in an event, in characters; longer ones are cut and marked.
pub const MAX_STRING: usize = 1024;
/// Deepest JSON kept in an event; deeper values become `"<too deep>"`.
pub const MAX_DEPTH: usize = 8;

/// Applies the redaction rules.
#[derive(Clone, Debug)]
pub struct Redactor {
    keys: Regex,
    values: Regex,
}

impl Redactor {
    /// A redactor with these key and value patterns.
    pub fn new(keys: Regex, values: Regex) -> Self {
        Redactor { keys, values }
    }

    /// True when values under `key` are never shown.
    pub fn sensitive_key(&self, key: &str) -> bool {
        self.keys.is_match(key)
    }

    /// True when `value` (under `key`, if any) must not be shown.
    pub fn is_sensitive(&self, key: Option<&str>, value: &str) -> bool {
        key.is_some_and(|k| self.sensitive_key(k)) || self.values.is_match(value)
    }

    /// The string as it may be shown: redacted, or cut to [`MAX_STRING`] characters.
    pub fn string(&self, key: Option<&str>, value: &str) -> String {
        if key.is_some_and(|k| self.sensitive_key(k)) || self.values.is_match(value) {
            return REDACTED.to_owned();
        }
        truncate(value)
    }

    /// Redacts a JSON value in place (keys, string values, nested objects and arrays).
    pub fn value(&self, key: Option<&str>, value: &mut Value) {
        self.walk(key, value, 0);
    }

    /// Redacts every value of a JSON object in place.
    pub fn map(&self, map: &mut Map<String, Value>) {
        for (k, v) in map.iter_mut() {
            self.walk(Some(k), v, 1);
        }
    }

    fn walk(&self, key: Option<&str>, value: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            *value = Value::String("<too deep>".to_owned());
            return;
        }
        if key.is_some_and(|k| self.sensitive_key(k)) && !value.is_null() {
            *value = Value::String(REDACTED.to_owned());
            return;
        }
        match value {
            Value::String(s) => {
                if self.values.is_match(s) {
                    *s = REDACTED.to_owned();
                } else if s.chars().nth(MAX_STRING).is_some() {
                    *s = truncate(s);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(key, item, depth + 1);
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(Some(k), v, depth + 1);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_STRING) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_SENSITIVE_KEY_REGEX, DEFAULT_SENSITIVE_VALUE_REGEX};
    use serde_json::json;

    fn redactor() -> Redactor {
        Redactor::new(
            Regex::new(DEFAULT_SENSITIVE_KEY_REGEX).unwrap(),
            Regex::new(DEFAULT_SENSITIVE_VALUE_REGEX).unwrap(),
        )
    }

    #[test]
    fn keys_and_values_are_redacted_at_any_depth() {
        let r = redactor();
        let mut v = json!({
            "user": "alice",
            "password": "hunter2",
            "nested": {"api_key": "k", "list": [{"Session": 1}, "4111 1111 1111 1111"]},
            "card": "4111-1111-1111-1111",
            "count": 3
        });
        r.value(None, &mut v);
        assert_eq!(
            v,
            json!({
                "user": "alice",
                "password": REDACTED,
                "nested": {"api_key": REDACTED, "list": [{"Session": REDACTED}, REDACTED]},
                "card": REDACTED,
                "count": 3
            })
        );
        assert_eq!(r.string(Some("Authorization"), "Bearer x"), REDACTED);
        assert_eq!(r.string(Some("q"), "shoes"), "shoes");
    }

    #[test]
    fn work_is_bounded() {
        let r = redactor();
        let long = "a".repeat(10_000);
        let cut = r.string(None, &long);
        assert_eq!(cut.chars().count(), MAX_STRING + 1);
        let mut deep = json!("x");
        for _ in 0..50 {
            deep = json!({ "k": deep });
        }
        r.value(None, &mut deep);
        let text = deep.to_string();
        assert!(text.contains("<too deep>") && text.len() < 200, "{text}");
    }
}
