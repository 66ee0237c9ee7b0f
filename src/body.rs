//! Which request bodies the layer reads (forms, JSON, XML, multipart and plain text, up to
//! `SQREEN_MAX_BODY_BYTES`), and what it keeps of them: the bytes read (shared with the body
//! handed on, no copy), parsed into bounded parameters only when an event is serialized, off
//! the request path.

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use serde_json::{Map, Value};

use bytes::Bytes;

/// At most this many form parameters are kept.
const MAX_FORM_PARAMS: usize = 256;

/// The parameters of a request body the layer read.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct BodyParams {
    /// Form parameters (a repeated name gives an array).
    pub(crate) form: serde_json::Map<String, serde_json::Value>,
    /// A JSON body.
    pub(crate) json: Option<serde_json::Value>,
}

/// A body the layer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Form,
    Json,
    /// XML (`application/xml`, `text/xml`, `*+xml`): read for the WAF only; events report no
    /// parameters for it.
    Xml,
    /// `multipart/form-data` (forms with file uploads): read for the WAF only (field names,
    /// text fields, file names); events report no parameters for it.
    Multipart,
    /// `text/plain`: read for the WAF only (its `name=value` lines when it is a form sent
    /// with `enctype="text/plain"`, else the whole text); events report no parameters for it.
    Text,
}

impl BodyKind {
    /// The kind of body the `Content-Type` announces, if the layer reads it.
    pub(crate) fn of(headers: &HeaderMap) -> Option<BodyKind> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim().to_ascii_lowercase();
        if essence == "application/x-www-form-urlencoded" {
            Some(BodyKind::Form)
        } else if essence == "application/json" || essence.ends_with("+json") {
            Some(BodyKind::Json)
        } else if essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml")
        {
            Some(BodyKind::Xml)
        } else if essence == "multipart/form-data" {
            Some(BodyKind::Multipart)
        } else if essence == "text/plain" {
            Some(BodyKind::Text)
        } else {
            None
        }
    }
}

/// The part of a request body the layer read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReadBody {
    pub(crate) kind: BodyKind,
    /// The bytes read (a shared view of what the inner service receives).
    pub(crate) bytes: Bytes,
    /// True when this is the whole body.
    pub(crate) complete: bool,
}

impl ReadBody {
    /// The body's parameters. A truncated JSON body cannot be parsed and gives none; a
    /// truncated form keeps the parameters read whole. Never fails: an unparseable body gives
    /// no parameters.
    pub(crate) fn params(&self) -> BodyParams {
        match self.kind {
            BodyKind::Json if self.complete => BodyParams {
                json: serde_json::from_slice::<Value>(&self.bytes).ok(),
                ..BodyParams::default()
            },
            BodyKind::Json | BodyKind::Xml | BodyKind::Multipart | BodyKind::Text => {
                BodyParams::default()
            }
            BodyKind::Form => {
                let bytes: &[u8] = if self.complete {
                    &self.bytes
                } else {
                    // drop the last, possibly cut, parameter
                    &self.bytes[..self.bytes.iter().rposition(|b| *b == b'&').unwrap_or(0)]
                };
                BodyParams {
                    form: form_params(bytes),
                    ..BodyParams::default()
                }
            }
        }
    }
}

/// Form parameters as a JSON object (a repeated name gives an array), at most 256.
fn form_params(bytes: &[u8]) -> Map<String, Value> {
    let mut form = Map::new();
    for (key, value) in form_urlencoded::parse(bytes).take(MAX_FORM_PARAMS) {
        let value = Value::String(value.into_owned());
        match form.get_mut(key.as_ref()) {
            Some(Value::Array(items)) => items.push(value),
            Some(first) => {
                let first = first.take();
                form.insert(key.into_owned(), Value::Array(vec![first, value]));
            }
            None => {
                form.insert(key.into_owned(), value);
            }
        }
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let kind = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, ct.parse().unwrap());
            BodyKind::of(&h)
        };
        assert_eq!(kind("application/json"), Some(BodyKind::Json));
        assert_eq!(
            kind("Application/JSON; charset=utf-8"),
            Some(BodyKind::Json)
        );
        assert_eq!(kind("application/vnd.api+json"), Some(BodyKind::Json));
        assert_eq!(
            kind("application/x-www-form-urlencoded"),
            Some(BodyKind::Form)
        );
        assert_eq!(kind("application/xml"), Some(BodyKind::Xml));
        assert_eq!(kind("text/xml; charset=utf-8"), Some(BodyKind::Xml));
        assert_eq!(kind("application/soap+xml"), Some(BodyKind::Xml));
        assert_eq!(
            kind("multipart/form-data; boundary=x"),
            Some(BodyKind::Multipart)
        );
        assert_eq!(kind("multipart/mixed; boundary=x"), None);
        assert_eq!(kind("text/plain"), Some(BodyKind::Text));
        assert_eq!(kind("Text/Plain; charset=utf-8"), Some(BodyKind::Text));
        assert_eq!(kind("text/csv"), None);
        assert_eq!(BodyKind::of(&HeaderMap::new()), None);
    }

    #[test]
    fn params_of_whole_and_cut_bodies() {
        let read = |kind, text: &'static str, complete| ReadBody {
            kind,
            bytes: Bytes::from_static(text.as_bytes()),
            complete,
        };
        let form = read(BodyKind::Form, "a=1&b=2&a=3&c=cu", false).params();
        assert_eq!(form.form["a"], serde_json::json!(["1", "3"]));
        assert_eq!(form.form["b"], "2");
        assert!(!form.form.contains_key("c"), "the cut parameter is dropped");
        let json = read(BodyKind::Json, r#"{"q": 1}"#, true).params();
        assert_eq!(json.json, Some(serde_json::json!({"q": 1})));
        assert_eq!(
            read(BodyKind::Json, r#"{"q": 1"#, false).params(),
            BodyParams::default()
        );
        assert_eq!(read(BodyKind::Json, "not json", true).params().json, None);
    }
}
