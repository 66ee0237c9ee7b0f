//! `GET explorer`: the Events Explorer, one self-contained HTML page (`explorer.html`).
//!
//! The page is compiled into the crate and fetches nothing but the admin API's own `events`
//! and `attacks/top` (inline script, inline SVG charts, no chart library, no font, no CDN). Its Content Security
//! Policy says so to the browser: `connect-src 'self'` and `default-src 'none'`, and the one
//! inline script is allowed by its SHA-256 hash, computed here once, so even text that slipped
//! into the page could not run (the page only ever writes event data with `textContent`).
//!
//! The page holds no data, so it is served without a token (`admin::AdminApi::head`). It takes
//! the token from the address's fragment (`explorer#token=...`: browsers never send a fragment,
//! so the token reaches no access log), moves it to the tab's session storage and out of the
//! address bar, or asks for it in a form; its calls send it in the `Authorization` header. A
//! `?token=` in the query is not used (the server and its logs have seen it): the page says so.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_FRAME_OPTIONS};
use http::{Response, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use super::respond;

/// The page.
pub(crate) const PAGE: &str = include_str!("explorer.html");

/// The page's Content Security Policy, with the hash of its inline script.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let script = inline_script(PAGE).unwrap_or_default();
    let hash = STANDARD.encode(Sha256::digest(script.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
});

/// The text of the page's one `<script>` element.
fn inline_script(page: &str) -> Option<&str> {
    let start = page.find("<script>")? + "<script>".len();
    let end = start + page[start..].find("</script>")?;
    Some(&page[start..end])
}

/// The page, with its security headers.
pub(crate) fn page() -> Response<Bytes> {
    let mut response = respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Bytes::from_static(PAGE.as_bytes()),
    );
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        let script = inline_script(PAGE).expect("one inline script");
        assert_eq!(script.matches("fetch(").count(), 2);
        assert!(script.contains("fetch(\"events?"), "the events call");
        assert!(
            script.contains("fetch(\"attacks/top?"),
            "the top attacks call"
        );
        assert_eq!(PAGE.matches("<script").count(), 1, "one script, inline");
        // the SVG namespace is a name, not a fetch; nothing else may point outside
        let page = PAGE.replace("\"http://www.w3.org/2000/svg\"", "");
        for outside in [
            "http://", "https://", "src=", "href=\"/", "@import", "url(", "<iframe",
        ] {
            let hits: Vec<_> = page.match_indices(outside).collect();
            assert!(hits.is_empty(), "{outside} in the page: {hits:?}");
        }
        assert!(CSP.contains("script-src 'sha256-") && !CSP.contains("sha256-'"));
    }
}
