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
use crate::context::Rid;
use crate::error::{Error, Result};

const DEFAULT_HTML: &str = include_str!("block.html");
const DEFAULT_JSON: &str = r#"{"errors":[{"status":403,"code":"blocked","title":"You've been blocked","detail":"Sorry, you cannot access this page. Please contact the site owner."}],"security_response_id":"{rid}"}"#;
const UNAVAILABLE_JSON: &str = r#"{"errors":[{"status":503,"code":"unavailable","title":"Service unavailable","detail":"The request could not be checked. Please try again later."}],"security_response_id":"{rid}"}"#;

/// A template with `{rid}` placeholders, pre-split.
#[derive(Clone, Debug)]
struct Template {
    parts: Vec<String>,
}

impl Template {
    fn new(text: &str) -> Self {
        Template {
            parts: text.split("{rid}").map(str::to_owned).collect(),
        }
    }

    fn render(&self, rid: Rid) -> Bytes {
        let rid = rid.to_string();
        let len = self.parts.iter().map(String::len).sum::<usize>()
            + rid.len() * self.parts.len().saturating_sub(1);
        let mut out = String::with_capacity(len);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_str(&rid);
            }
            out.push_str(part);
        }
        Bytes::from(out)
    }
}

/// The block-page templates, HTML and JSON; `{rid}` is replaced by the request id.
#[derive(Clone, Debug)]
pub struct Templates {
    html: Template,
    json: Template,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            html: Template::new(DEFAULT_HTML),
            json: Template::new(DEFAULT_JSON),
        }
    }
}

impl Templates {
    /// Templates from text.
    pub fn new(html: &str, json: &str) -> Self {
        Templates {
            html: Template::new(html),
            json: Template::new(json),
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
        match kind {
            ActionKind::Block => self.block(rid, accept),
            ActionKind::Redirect { url } => self.redirect(url, rid, accept),
        }
    }

    /// 403 with the HTML page when `accept` prefers HTML, else the JSON body.
    pub fn block(&self, rid: Rid, accept: Option<&HeaderValue>) -> Response<Bytes> {
        if prefers_html(accept) {
            respond(
                StatusCode::FORBIDDEN,
                "text/html; charset=utf-8",
                self.templates.html.render(rid),
            )
        } else {
            respond(
                StatusCode::FORBIDDEN,
                "application/json",
                self.templates.json.render(rid),
            )
        }
    }

    /// A redirect to `url`; a location that is not acceptable becomes a block.
    pub fn redirect(&self, url: &str, rid: Rid, accept: Option<&HeaderValue>) -> Response<Bytes> {
        match HeaderValue::from_str(url) {
            Ok(location) if super::model::is_valid_location(url) => {
                let mut res = respond(
                    self.redirect_status,
                    "text/plain; charset=utf-8",
                    Bytes::new(),
                );
                res.headers_mut().insert(LOCATION, location);
                res
            }
            _ => self.block(rid, accept),
        }
    }

    /// 503, for an internal failure when the agent is configured to fail closed.
    pub fn unavailable(&self, rid: Rid) -> Response<Bytes> {
        respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            Template::new(UNAVAILABLE_JSON).render(rid),
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
