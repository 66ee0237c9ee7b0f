//! Which request bodies the layer reads (forms and JSON, up to `SQREEN_MAX_BODY_BYTES`), and
//! what it keeps of them: the parameters, parsed and bounded, for events (and the WAF).

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use serde_json::{Map, Value};

use crate::context::{BodyParams, RequestContext};

/// At most this many form parameters are kept.
const MAX_FORM_PARAMS: usize = 256;

/// A body the layer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Form,
    Json,
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
        } else {
            None
        }
    }
}

/// Parses what was read of the body (`complete`: all of it) into the context's parameters.
/// A truncated JSON body cannot be parsed and is skipped; a truncated form keeps the parameters
/// read whole. Never fails: unparseable bodies leave the parameters empty.
pub(crate) fn record(ctx: &RequestContext, kind: BodyKind, bytes: &[u8], complete: bool) {
    let params = match kind {
        BodyKind::Json if complete => match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => BodyParams {
                json: Some(json),
                ..BodyParams::default()
            },
            Err(_) => return,
        },
        BodyKind::Json => return,
        BodyKind::Form => {
            let bytes = if complete {
                bytes
            } else {
                // drop the last, possibly cut, parameter
                &bytes[..bytes.iter().rposition(|b| *b == b'&').unwrap_or(0)]
            };
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
            BodyParams {
                form,
                ..BodyParams::default()
            }
        }
    };
    let _ = ctx.inner().body.set(std::sync::Arc::new(params));
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
        assert_eq!(kind("multipart/form-data; boundary=x"), None);
        assert_eq!(kind("text/plain"), None);
        assert_eq!(BodyKind::of(&HeaderMap::new()), None);
    }
}
