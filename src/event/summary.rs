//! [`RequestSummary`]: the request part of an event, built without copying the request.
//!
//! Building an event happens on the request path, where every allocation counts, so the summary
//! keeps what the request already holds (the URI, header values and body parameters are
//! reference-counted) and the agent's redaction rules. It is opaque: the only ways to read it are
//! serializing it, which applies the rules as it writes the bounded JSON (on the pipeline's
//! thread, off the request path), and the redacted accessors. No sink can see an unredacted
//! value.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Method, Uri};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::redact::{Redactor, MAX_STRING, REDACTED};
use crate::body::ReadBody;
use crate::context::{EventHeaders, Rid};

/// At most this many query parameters are reported.
pub(crate) const MAX_QUERY_PARAMS: usize = 64;

/// A header value as an event reports it: redacted by key or value, cut to [`MAX_STRING`].
fn shown(value: &Option<HeaderValue>, key: &str, redactor: &Redactor) -> Option<String> {
    let value = value.as_ref()?;
    let text = String::from_utf8_lossy(value.as_bytes());
    Some(if redactor.is_sensitive(Some(key), &text) {
        REDACTED.to_owned()
    } else {
        cut(&text)
    })
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_STRING) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The request an event happened in, redacted and bounded. Its JSON: `rid`, `verb`, `scheme`,
/// `host`, `port`, `path`, `referer`, `user_agent`, `remote_ip`, `remote_port`, `headers`
/// (forwarding headers, CGI-style names such as `HTTP_X_FORWARDED_FOR`), `parameters`
/// {`query` (a repeated name gives an array; at most 64), `form` and `json` (a form or JSON body
/// the layer read, up to `SQREEN_MAX_BODY_BYTES`), `other`}.
#[derive(Clone, Debug)]
pub struct RequestSummary {
    rid: Rid,
    verb: Method,
    uri: Uri,
    headers: EventHeaders,
    peer: Option<SocketAddr>,
    body: Option<ReadBody>,
    redactor: Arc<Redactor>,
}

impl PartialEq for RequestSummary {
    fn eq(&self, other: &Self) -> bool {
        self.rid == other.rid
    }
}

impl RequestSummary {
    pub(crate) fn new(
        rid: Rid,
        verb: &Method,
        uri: &Uri,
        headers: &EventHeaders,
        peer: Option<SocketAddr>,
        body: Option<ReadBody>,
        redactor: Arc<Redactor>,
    ) -> Self {
        RequestSummary {
            rid,
            verb: verb.clone(),
            uri: uri.clone(),
            headers: headers.clone(),
            peer,
            body,
            redactor,
        }
    }

    /// The request id.
    pub fn rid(&self) -> Rid {
        self.rid
    }

    /// The method.
    pub fn verb(&self) -> &Method {
        &self.verb
    }

    /// The path, or the redaction marker.
    pub fn path(&self) -> &str {
        if self.redactor.is_sensitive(None, self.uri.path()) {
            REDACTED
        } else {
            self.uri.path()
        }
    }

    fn host_and_port(&self) -> (Option<String>, Option<u16>) {
        let host = shown(&self.headers.host, "host", &self.redactor)
            .or_else(|| self.uri.authority().map(|a| a.to_string()));
        match host {
            Some(h) => {
                let (host, port) = split_host_port(&h);
                (host, port.or_else(|| self.uri.port_u16()))
            }
            None => (None, self.uri.port_u16()),
        }
    }

    fn query_json(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let mut out = serde_json::Map::new();
        let Some(query) = self.uri.query() else {
            return out;
        };
        let params = form_urlencoded::parse(query.as_bytes()).take(MAX_QUERY_PARAMS);
        for (key, value) in params {
            let value = Value::String(self.redactor.string(Some(&key), &value));
            match out.get_mut(key.as_ref()) {
                Some(Value::Array(items)) => items.push(value),
                Some(first) => {
                    let first = first.take();
                    out.insert(key.into_owned(), Value::Array(vec![first, value]));
                }
                None => {
                    out.insert(cut(&key), value);
                }
            }
        }
        out
    }
}

/// The forwarding headers, CGI-style names as the sample event has them.
struct Headers<'a>(&'a RequestSummary);

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(None)?;
        for (name, value) in [
            ("HTTP_X_FORWARDED_FOR", &r.headers.x_forwarded_for),
            ("HTTP_X_REAL_IP", &r.headers.x_real_ip),
            ("HTTP_FORWARDED", &r.headers.forwarded),
        ] {
            if let Some(v) = shown(value, name, &r.redactor) {
                map.serialize_entry(name, &v)?;
            }
        }
        map.end()
    }
}

struct Params<'a>(&'a RequestSummary);

impl Serialize for Params<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let empty = serde_json::Map::new();
        let params = r.body.as_ref().map(ReadBody::params).unwrap_or_default();
        let mut form = params.form;
        r.redactor.map(&mut form);
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("query", &r.query_json())?;
        map.serialize_entry("form", &form)?;
        match params.json {
            Some(mut json) => {
                r.redactor.value(None, &mut json);
                map.serialize_entry("json", &json)?;
            }
            None => map.serialize_entry("json", &empty)?,
        }
        map.serialize_entry("other", &empty)?;
        map.end()
    }
}

impl Serialize for RequestSummary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (host, port) = self.host_and_port();
        let mut map = s.serialize_map(Some(12))?;
        map.serialize_entry("rid", &self.rid)?;
        map.serialize_entry("verb", self.verb.as_str())?;
        map.serialize_entry("scheme", self.uri.scheme_str().unwrap_or("http"))?;
        map.serialize_entry("host", &host)?;
        map.serialize_entry("port", &port)?;
        map.serialize_entry("path", &cut(self.path()))?;
        let redactor = &self.redactor;
        map.serialize_entry(
            "referer",
            &shown(&self.headers.referer, "referer", redactor),
        )?;
        map.serialize_entry(
            "user_agent",
            &shown(&self.headers.user_agent, "user_agent", redactor),
        )?;
        map.serialize_entry("remote_ip", &self.peer.map(|p| p.ip()))?;
        map.serialize_entry("remote_port", &self.peer.map(|p| p.port()))?;
        map.serialize_entry("headers", &Headers(self))?;
        map.serialize_entry("parameters", &Params(self))?;
        map.end()
    }
}

/// `example.com:8080` → (`example.com`, 8080); `[::1]:80` → (`[::1]`, 80); no port → None.
fn split_host_port(host: &str) -> (Option<String>, Option<u16>) {
    match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && (!h.contains(':') || h.ends_with(']')) => {
            match p.parse() {
                Ok(port) => (Some(h.to_owned()), Some(port)),
                Err(_) => (Some(host.to_owned()), None),
            }
        }
        _ => (Some(host.to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_SENSITIVE_KEY_REGEX, DEFAULT_SENSITIVE_VALUE_REGEX};
    use regex::Regex;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host_port("a.example:8080"),
            (Some("a.example".into()), Some(8080))
        );
        assert_eq!(
            split_host_port("a.example"),
            (Some("a.example".into()), None)
        );
        assert_eq!(
            split_host_port("[::1]:80"),
            (Some("[::1]".into()), Some(80))
        );
        assert_eq!(split_host_port("::1"), (Some("::1".into()), None));
        assert_eq!(split_host_port("a:b"), (Some("a:b".into()), None));
    }

    #[test]
    fn serializes_redacted_and_bounded() {
        let redactor = Redactor::new(
            Regex::new(DEFAULT_SENSITIVE_KEY_REGEX).unwrap(),
            Regex::new(DEFAULT_SENSITIVE_VALUE_REGEX).unwrap(),
        );
        let uri: Uri = "/p?q=ok&token=abc&q=two&card=4111%201111%201111%201111"
            .parse()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "shop.example:8443".parse().unwrap());
        headers.insert("user-agent", "curl/8".parse().unwrap());
        headers.insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
        let summary = RequestSummary::new(
            Rid::random(),
            &Method::GET,
            &uri,
            &EventHeaders::from(&headers),
            Some("10.0.0.1:5555".parse().unwrap()),
            None,
            Arc::new(redactor),
        );
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["host"], "shop.example");
        assert_eq!(json["port"], 8443);
        assert_eq!(json["user_agent"], "curl/8");
        assert_eq!(json["remote_port"], 5555);
        assert_eq!(json["headers"]["HTTP_X_FORWARDED_FOR"], "192.0.2.1");
        let query = &json["parameters"]["query"];
        assert_eq!(query["q"], serde_json::json!(["ok", "two"]));
        assert_eq!(query["token"], REDACTED);
        assert_eq!(query["card"], REDACTED);
        assert_eq!(json["rid"].as_str().unwrap().len(), 32);
    }
}
