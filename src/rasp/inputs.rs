//! [`Inputs`]: what the request sent, as the application reads it, for RASP checks to look for
//! in a sink's value.
//!
//! Taken once per request, at its first check (requests that reach no sink pay nothing), from
//! what the layer already holds: the path's segments, the query's parameters, the form or JSON
//! body it read, the cookies, and the `User-Agent`, `Referer` and forwarding headers. Values are
//! decoded once, as a framework hands them to a handler (percent-decoding, `+` as a space in
//! queries and forms): an attacker's value reaches a sink in that form. Bounded: at most
//! [`MAX_INPUTS`] values of at most [`MAX_VALUE`] bytes each (a longer value is cut; its
//! beginning still occurs in the sink wherever the whole does).

use std::borrow::Cow;

use serde_json::Value;

use crate::context::RequestContext;

/// Values kept per request, at most.
pub const MAX_INPUTS: usize = 256;
/// Bytes kept per value, at most.
pub const MAX_VALUE: usize = 4096;
/// Depth of a JSON body walked, at most.
const MAX_DEPTH: usize = 32;

/// One input: where it came from (`query.category`, `body.user.name`, `cookie.session`,
/// `header.user-agent`, `path`) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Where the value came from.
    pub name: String,
    /// The value, decoded once.
    pub value: String,
}

/// A request's inputs, each with its substring searcher built once (a check then costs one
/// search per input over the sink's value, not one searcher per input and check).
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    items: Vec<Input>,
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl PartialEq for Inputs {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl Eq for Inputs {}

impl Inputs {
    /// The inputs, in order: path, query, body, cookies, headers.
    pub fn iter(&self) -> impl Iterator<Item = &Input> {
        self.items.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The indices of the inputs that occur in `hay` (usually none: no allocation then).
    pub(crate) fn occurring_in(&self, hay: &str) -> Vec<usize> {
        let hay = hay.as_bytes();
        let mut found = Vec::new();
        for (i, finder) in self.finders.iter().enumerate() {
            if finder.needle().len() <= hay.len() && finder.find(hay).is_some() {
                found.push(i);
            }
        }
        found
    }

    /// The input at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Input> {
        self.items.get(index)
    }

    /// Inputs given by hand (tests, a job that knows what came from outside).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Inputs {
        let mut inputs = Inputs::default();
        for (name, value) in pairs {
            inputs.push(|| name.to_owned(), value);
        }
        inputs
    }

    fn push(&mut self, name: impl FnOnce() -> String, value: &str) {
        if self.items.len() >= MAX_INPUTS || value.trim().is_empty() {
            return;
        }
        let value = cut(value, MAX_VALUE);
        // one value sent under several names is looked for once
        if self.items.iter().any(|i| i.value == value) {
            return;
        }
        self.finders
            .push(memchr::memmem::Finder::new(value.as_bytes()).into_owned());
        self.items.push(Input {
            name: name(),
            value: value.to_owned(),
        });
    }

    /// The inputs of the request `ctx` is about.
    pub(crate) fn of(ctx: &RequestContext) -> Inputs {
        let inner = ctx.inner();
        let mut inputs = Inputs::default();
        // path segments: route parameters are among them
        for segment in inner.uri.path().split('/') {
            let decoded = decode(segment, false);
            inputs.push(|| "path".to_owned(), &decoded);
        }
        if let Some(query) = inner.uri.query() {
            for (k, v) in form_urlencoded::parse(query.as_bytes()) {
                inputs.push(|| format!("query.{}", cut(&k, 64)), &v);
            }
        }
        if let Some(body) = inner.body.get() {
            let params = body.params();
            for (k, v) in &params.form {
                walk(&mut inputs, &format!("body.{}", cut(k, 64)), v, 0);
            }
            if let Some(json) = &params.json {
                walk(&mut inputs, "body", json, 0);
            }
        }
        let headers = &inner.headers;
        if let Some(cookie) = headers.cookie.as_ref().and_then(|v| v.to_str().ok()) {
            for pair in cookie.split(';') {
                let (k, v) = pair.split_once('=').unwrap_or(("", pair));
                let v = v.trim().trim_matches('"');
                inputs.push(
                    || format!("cookie.{}", cut(k.trim(), 64)),
                    &decode(v, false),
                );
            }
        }
        for (name, value) in [
            ("header.user-agent", &headers.user_agent),
            ("header.referer", &headers.referer),
            ("header.x-forwarded-for", &headers.x_forwarded_for),
        ] {
            if let Some(v) = value.as_ref().and_then(|v| v.to_str().ok()) {
                inputs.push(|| name.to_owned(), v);
            }
        }
        inputs
    }
}

/// A JSON value's strings and numbers, under their paths (`body.user.name`, `body.ids[2]`).
fn walk(inputs: &mut Inputs, path: &str, value: &Value, depth: usize) {
    if depth > MAX_DEPTH || inputs.items.len() >= MAX_INPUTS {
        return;
    }
    match value {
        Value::String(s) => inputs.push(|| path.to_owned(), s),
        Value::Number(n) => inputs.push(|| path.to_owned(), &n.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(inputs, &format!("{path}[{i}]"), item, depth + 1);
            }
        }
        Value::Object(members) => {
            for (k, v) in members {
                walk(inputs, &format!("{path}.{}", cut(k, 64)), v, depth + 1);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Percent-decoding, once (and `+` as a space when `plus`), as a framework hands a value to
/// a handler; invalid UTF-8 replaced.
fn decode(s: &str, plus: bool) -> Cow<'_, str> {
    if !(s.contains('%') || plus && s.contains('+')) {
        return Cow::Borrowed(s);
    }
    let bytes = crate::waf::inputs::decode_once(s.as_bytes(), plus);
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) use crate::waf::inputs::cut;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_once_deduplicated_and_bounded() {
        let mut inputs = Inputs::default();
        inputs.push(|| "a".into(), "x");
        inputs.push(|| "b".into(), "x");
        inputs.push(|| "c".into(), "   ");
        assert_eq!(inputs.len(), 1);
        assert_eq!(decode("%2e%2e%2f", false), "../");
        assert_eq!(decode("%252e", false), "%2e", "once, as the app sees it");
        assert_eq!(decode("a+b%20c", true), "a b c");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("%zz%4", false), "%zz%4");
        let long = "é".repeat(MAX_VALUE);
        inputs.push(|| "long".into(), &long);
        assert!(inputs.items[1].value.len() <= MAX_VALUE);
        for i in 0..(MAX_INPUTS * 2) {
            inputs.push(|| "n".into(), &i.to_string());
        }
        assert_eq!(inputs.len(), MAX_INPUTS);
    }

    #[test]
    fn json_strings_and_numbers_are_inputs_under_their_paths() {
        let mut inputs = Inputs::default();
        let v: Value =
            serde_json::from_str(r#"{"user":{"name":"bob","ids":[7,"x"]},"ok":true}"#).unwrap();
        walk(&mut inputs, "body", &v, 0);
        let got: Vec<(String, String)> = inputs
            .iter()
            .map(|i| (i.name.clone(), i.value.clone()))
            .collect();
        assert_eq!(
            got,
            // (serde_json's maps iterate in key order)
            [
                ("body.user.ids[0]".to_owned(), "7".to_owned()),
                ("body.user.ids[1]".to_owned(), "x".to_owned()),
                ("body.user.name".to_owned(), "bob".to_owned()),
            ]
        );
    }
}
