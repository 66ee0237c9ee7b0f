//! `GET explorer`: the Events Explorer, one self-contained HTML page (`explorer.html`).
//!
//! The page is compiled into the crate and fetches nothing but the admin API's own `events`
//! (inline script, inline SVG charts, no chart library, no font, no CDN). Its Content Security
//! Policy says so to the browser: `connect-src 'self'` and `default-src 'none'`, and the one
//! inline script is allowed by its SHA-256 hash, computed here once, so even text that slipped
//! into the page could not run (the page only ever writes event data with `textContent`).
//! `Referrer-Policy: no-referrer` and the page itself keep the `?token=` it may be opened with
//! from leaking (the script moves it to the tab's session storage and out of the address bar).

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
    let hash = base64(&Sha256::digest(script.as_bytes()));
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

/// Standard base64 with padding (the CSP hash syntax).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
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
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0xfc]), "//79/A==");
    }

    #[test]
    fn the_page_is_self_contained() {
        let script = inline_script(PAGE).expect("one inline script");
        assert_eq!(script.matches("fetch(").count(), 1);
        assert!(script.contains("fetch(\"events?"), "only the events call");
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
