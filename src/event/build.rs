//! Building an [`Event`] from what the agent knows: the request context, the subject, the
//! properties; redacted and bounded as it is built.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{Event, IpMeta, Parameters, RequestSummary};
use crate::agent::{AgentInner, UserRef};
use crate::clock::Millis;
use crate::context::RequestContext;
use crate::ip::ip_metadata;

/// At most this many query parameters are reported.
const MAX_QUERY_PARAMS: usize = 64;

impl AgentInner {
    /// A redacted event about `ip` and `user`, in the request of `ctx` if any.
    pub(crate) fn build_event(
        &self,
        name: &str,
        mut properties: Map<String, Value>,
        ctx: Option<&RequestContext>,
        ip: Option<IpAddr>,
        user: Option<UserRef<'_>>,
        now: Millis,
    ) -> Event {
        self.redactor.map(&mut properties);
        let user = user.map(|u| {
            let mut keys = match u {
                UserRef::Keys(keys) => keys
                    .iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                    .collect(),
                UserRef::Id(id) => {
                    let mut m = Map::new();
                    m.insert("id".to_owned(), Value::String(id.to_owned()));
                    m
                }
            };
            self.redactor.map(&mut keys);
            keys
        });
        Event {
            name: name.to_owned(),
            timestamp: now,
            request: ctx.map(|ctx| self.request_summary(ctx)),
            properties,
            client_ip: ip,
            user,
            ip_meta: ip.map(|address| IpMeta {
                address,
                critical: self.critical.is_critical(address),
                metadata: ip_metadata(address),
            }),
        }
    }

    fn request_summary(&self, ctx: &RequestContext) -> RequestSummary {
        let inner = ctx.inner();
        let text = |v: &Option<http::HeaderValue>, key: &str| {
            v.as_ref().map(|v| {
                self.redactor
                    .string(Some(key), &String::from_utf8_lossy(v.as_bytes()))
            })
        };
        let host_header = text(&inner.headers.host, "host")
            .or_else(|| inner.uri.authority().map(|a| a.to_string()));
        let (host, port) = match &host_header {
            Some(h) => split_host_port(h),
            None => (None, None),
        };
        let mut headers = Map::new();
        for (name, value) in [
            ("HTTP_X_FORWARDED_FOR", &inner.headers.x_forwarded_for),
            ("HTTP_X_REAL_IP", &inner.headers.x_real_ip),
            ("HTTP_FORWARDED", &inner.headers.forwarded),
        ] {
            if let Some(v) = text(value, name) {
                headers.insert(name.to_owned(), Value::String(v));
            }
        }
        RequestSummary {
            rid: inner.rid.to_string(),
            verb: inner.method.as_str().to_owned(),
            scheme: inner.uri.scheme_str().unwrap_or("http").to_owned(),
            host,
            port: port.or_else(|| inner.uri.port_u16()),
            path: self.redactor.string(None, inner.uri.path()),
            referer: text(&inner.headers.referer, "referer"),
            user_agent: text(&inner.headers.user_agent, "user_agent"),
            remote_ip: inner.peer.map(|p| p.ip()),
            remote_port: inner.peer.map(|p| p.port()),
            headers,
            parameters: Parameters {
                query: self.query_parameters(inner.uri.query().unwrap_or("")),
                ..Parameters::default()
            },
        }
    }

    /// The query string as a JSON object (repeated names give arrays), redacted and bounded.
    fn query_parameters(&self, query: &str) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()).take(MAX_QUERY_PARAMS) {
            let value = Value::String(self.redactor.string(Some(&key), &value));
            match out.get_mut(key.as_ref()) {
                Some(Value::Array(items)) => items.push(value),
                Some(first) => {
                    let first = first.take();
                    out.insert(key.into_owned(), Value::Array(vec![first, value]));
                }
                None => {
                    out.insert(key.into_owned(), value);
                }
            }
        }
        out
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
    use super::split_host_port;

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
}
