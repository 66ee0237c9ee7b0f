//! Turning an action into the HTTP response: the 403 block page (HTML or JSON) and redirects.
//!
//! Templates are read once, at set-up, and split around `{rid}` then, so rendering is a
//! concatenation: no file access and no template parsing on the request path. The request id is
//! 32 hex digits, so substituting it needs no escaping.

use std::path::Path;

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{Response, StatusCode};

use super::model::ActionKind;
use super::negotiate::prefers_html;
use crate::context::{ContextInner, Rid};
use crate::error::{Error, Result};
use crate::trace::TraceId;

const DEFAULT_HTML: &str = include_str!("block.html");
const DEFAULT_JSON: &str = r#"{"errors":[{"status":403,"code":"blocked","title":"You've been blocked","detail":"Sorry, you cannot access this page. Please contact the site owner."}],"security_response_id":"{rid}"}"#;
/// The default JSON body for a request that carried a W3C `traceparent`.
const DEFAULT_JSON_TRACED: &str = r#"{"errors":[{"status":403,"code":"blocked","title":"You've been blocked","detail":"Sorry, you cannot access this page. Please contact the site owner."}],"security_response_id":"{rid}","trace_id":"{trace_id}"}"#;
const UNAVAILABLE_JSON: &str = r#"{"errors":[{"status":503,"code":"unavailable","title":"Service unavailable","detail":"The request could not be checked. Please try again later."}],"security_response_id":"{rid}"}"#;

/// A template with `{rid}` and `{trace_id}` placeholders, pre-split.
#[derive(Clone, Debug)]
struct Template {
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Rid,
    /// The request's W3C trace id, or nothing when it has none.
    TraceId,
}

impl Template {
    fn new(text: &str) -> Self {
        let mut pieces = Vec::new();
        for (i, part) in text.split("{rid}").enumerate() {
            if i > 0 {
                pieces.push(Piece::Rid);
            }
            for (j, text) in part.split("{trace_id}").enumerate() {
                if j > 0 {
                    pieces.push(Piece::TraceId);
                }
                pieces.push(Piece::Text(text.to_owned()));
            }
        }
        Template { pieces }
    }

    fn render(&self, rid: Rid, trace_id: Option<TraceId>) -> Bytes {
        let rid = rid.to_string();
        let trace_id = trace_id.map(|t| t.to_string()).unwrap_or_default();
        let len = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.len(),
                Piece::Rid => rid.len(),
                Piece::TraceId => trace_id.len(),
            })
            .sum();
        let mut out = String::with_capacity(len);
        for piece in &self.pieces {
            out.push_str(match piece {
                Piece::Text(text) => text,
                Piece::Rid => &rid,
                Piece::TraceId => &trace_id,
            });
        }
        Bytes::from(out)
    }
}

/// The block-page templates, HTML and JSON; `{rid}` is replaced by the request id, and
/// `{trace_id}` by the trace id of the request's W3C `traceparent` header (nothing without one).
/// The default JSON body has a `trace_id` field when the request has a trace id.
#[derive(Clone, Debug)]
pub struct Templates {
    html: Template,
    json: Template,
    /// The JSON body for a request with a trace id, when it differs from `json`.
    json_traced: Option<Template>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            html: Template::new(DEFAULT_HTML),
            json: Template::new(DEFAULT_JSON),
            json_traced: Some(Template::new(DEFAULT_JSON_TRACED)),
        }
    }
}

impl Templates {
    /// Templates from text.
    pub fn new(html: &str, json: &str) -> Self {
        Templates {
            html: Template::new(html),
            json: Template::new(json),
            json_traced: None,
        }
    }

    /// The built-in templates, with either replaced by the file at its path
    /// (`SQREEN_BLOCK_HTML_PATH`, `SQREEN_BLOCK_JSON_PATH`).
    pub fn from_files(html: Option<&Path>, json: Option<&Path>) -> Result<Self> {
        let mut templates = Templates::default();
        if let Some(path) = html {
            templates.html = Template::new(&read_template("SQREEN_BLOCK_HTML_PATH", path)?);
        }
        if let Some(path) = json {
            templates.json = Template::new(&read_template("SQREEN_BLOCK_JSON_PATH", path)?);
            templates.json_traced = None;
        }
        Ok(templates)
    }
}

fn read_template(variable: &str, path: &Path) -> Result<String> {
    const MAX: u64 = 1 << 20;
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::config(variable, &shown, format!("cannot read the template: {e}")))?;
    if meta.len() > MAX {
        return Err(Error::config(
            variable,
            &shown,
            "the template is larger than 1 MiB",
        ));
    }
    std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            variable,
            &shown,
            format!("cannot read the template as UTF-8 text: {e}"),
        )
    })
}

/// Renders security responses.
#[derive(Clone, Debug)]
pub struct ResponseRenderer {
    templates: Templates,
    redirect_status: StatusCode,
}

impl Default for ResponseRenderer {
    fn default() -> Self {
        ResponseRenderer::new(Templates::default(), StatusCode::SEE_OTHER)
    }
}

impl ResponseRenderer {
    /// A renderer with these templates; `redirect_status` must be 301, 302, 303 or 307
    /// (anything else is replaced by 303).
    pub fn new(templates: Templates, redirect_status: StatusCode) -> Self {
        let redirect_status = match redirect_status.as_u16() {
            301 | 302 | 303 | 307 => redirect_status,
            _ => StatusCode::SEE_OTHER,
        };
        ResponseRenderer {
            templates,
            redirect_status,
        }
    }

    /// The response for `kind`: the block page negotiated on `accept`, or a redirect.
    pub fn render(
        &self,
        kind: &ActionKind,
        rid: Rid,
        accept: Option<&HeaderValue>,
    ) -> Response<Bytes> {
        self.render_traced(kind, rid, None, accept)
    }

    /// [`ResponseRenderer::render`] for the request of `ctx`, with its trace id, if any.
    pub(crate) fn render_for(&self, kind: &ActionKind, ctx: &ContextInner) -> Response<Bytes> {
        self.render_traced(kind, ctx.rid, ctx.trace_id, ctx.accept.as_ref())
    }

    fn render_traced(
        &self,
        kind: &ActionKind,
        rid: Rid,
        trace_id: Option<TraceId>,
        accept: Option<&HeaderValue>,
    ) -> Response<Bytes> {
        match kind {
            ActionKind::Block => self.block_traced(rid, trace_id, accept),
            ActionKind::Redirect { url } => match HeaderValue::from_str(url) {
                Ok(location) if super::model::is_valid_location(url) => {
                    let mut res = respond(
                        self.redirect_status,
                        "text/plain; charset=utf-8",
                        Bytes::new(),
                    );
                    res.headers_mut().insert(LOCATION, location);
                    res
                }
                _ => self.block_traced(rid, trace_id, accept),
            },
        }
    }

    /// 403 with the HTML page when `accept` prefers HTML, else the JSON body.
    pub fn block(&self, rid: Rid, accept: Option<&HeaderValue>) -> Response<Bytes> {
        self.block_traced(rid, None, accept)
    }

    fn block_traced(
        &self,
        rid: Rid,
        trace_id: Option<TraceId>,
        accept: Option<&HeaderValue>,
    ) -> Response<Bytes> {
        let templates = &self.templates;
        if prefers_html(accept) {
            respond(
                StatusCode::FORBIDDEN,
                "text/html; charset=utf-8",
                templates.html.render(rid, trace_id),
            )
        } else {
            let json = match (&templates.json_traced, trace_id) {
                (Some(traced), Some(_)) => traced,
                _ => &templates.json,
            };
            respond(
                StatusCode::FORBIDDEN,
                "application/json",
                json.render(rid, trace_id),
            )
        }
    }

    /// A redirect to `url`; a location that is not acceptable becomes a block.
    pub fn redirect(&self, url: &str, rid: Rid, accept: Option<&HeaderValue>) -> Response<Bytes> {
        let kind = ActionKind::Redirect {
            url: url.to_owned(),
        };
        self.render_traced(&kind, rid, None, accept)
    }

    /// 503, for an internal failure when the agent is configured to fail closed.
    pub fn unavailable(&self, rid: Rid) -> Response<Bytes> {
        respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            Template::new(UNAVAILABLE_JSON).render(rid, None),
        )
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Bytes> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rid() -> Rid {
        crate::context::Rid::random()
    }

    #[test]
    fn trace_ids_in_json_templates() {
        let id = rid();
        let trace = Some(TraceId::for_tests(0xab));
        let body = |r: &ResponseRenderer, trace| r.block_traced(id, trace, None).into_body();
        let default = ResponseRenderer::default();
        let with: serde_json::Value = serde_json::from_slice(&body(&default, trace)).unwrap();
        assert_eq!(with["trace_id"], format!("{:032x}", 0xab));
        assert_eq!(with["security_response_id"], id.to_string());
        let without: serde_json::Value = serde_json::from_slice(&body(&default, None)).unwrap();
        assert!(without.get("trace_id").is_none());
        let custom = Templates::new("<p>{rid}</p>", r#"{"id":"{rid}","trace":"{trace_id}"}"#);
        let custom = ResponseRenderer::new(custom, StatusCode::SEE_OTHER);
        let with = format!(r#"{{"id":"{id}","trace":"{:032x}"}}"#, 0xab);
        assert_eq!(body(&custom, trace), with.as_bytes());
        let without = format!(r#"{{"id":"{id}","trace":""}}"#);
        assert_eq!(body(&custom, None), without.as_bytes());
    }

    #[test]
    fn json_block_has_title_and_rid() {
        let r = ResponseRenderer::default();
        let id = rid();
        let res = r.block(id, None);
        assert_eq!(res.status(), 403);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(v["errors"][0]["title"], "You've been blocked");
        assert_eq!(v["security_response_id"], id.to_string());
    }

    #[test]
    fn html_block_shows_words_and_rid() {
        let r = ResponseRenderer::default();
        let id = rid();
        let res = r.block(id, Some(&HeaderValue::from_static("text/html")));
        assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let body = std::str::from_utf8(res.body()).unwrap();
        assert!(body.contains("You've been blocked"));
        assert!(body.contains(&id.to_string()));
        assert!(!body.contains("{rid}"));
    }

    #[test]
    fn templates_from_files_substitute_every_rid() {
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("b.html");
        std::fs::write(&html, "<p>{rid}</p><p>{rid}</p>").unwrap();
        let t = Templates::from_files(Some(&html), None).unwrap();
        let id = rid();
        let res = ResponseRenderer::new(t, StatusCode::SEE_OTHER)
            .block(id, Some(&HeaderValue::from_static("text/html")));
        assert_eq!(res.body(), format!("<p>{id}</p><p>{id}</p>").as_bytes());

        let missing = dir.path().join("nope.json");
        let err = Templates::from_files(None, Some(&missing)).unwrap_err();
        assert_eq!(err.variable(), Some("SQREEN_BLOCK_JSON_PATH"));
    }

    #[test]
    fn redirects_and_bad_locations() {
        let r = ResponseRenderer::default();
        let res = r.redirect("/blocked", rid(), None);
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()[LOCATION], "/blocked");
        assert_eq!(r.redirect("javascript:alert(1)", rid(), None).status(), 403);
        let r307 = ResponseRenderer::new(Templates::default(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            r307.redirect("https://x.example/", rid(), None).status(),
            307
        );
        let bad = ResponseRenderer::new(Templates::default(), StatusCode::OK);
        assert_eq!(bad.redirect("/x", rid(), None).status(), 303);
    }

    #[test]
    fn unavailable_is_503_json() {
        let res = ResponseRenderer::default().unavailable(rid());
        assert_eq!(res.status(), 503);
        let _: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
    }
}
