//! `Accept` negotiation between the two block-page formats, HTML and JSON.
//!
//! HTML is chosen only when the client prefers `text/html` over `application/json`, quality values
//! honoured, and each type's quality taken from the most specific range that matches it
//! (`text/html` before `text/*` before `*/*`). A tie, a missing or an unreadable header gives JSON:
//! API clients and `curl` get JSON, browsers get the page. Never allocates.

use http::HeaderValue;

/// True when `accept` prefers `text/html` over `application/json`.
pub(crate) fn prefers_html(accept: Option<&HeaderValue>) -> bool {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut html, mut json) = (Quality::NONE, Quality::NONE);
    for range in accept.split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim();
        let Some((ty, sub)) = media.split_once('/') else {
            continue;
        };
        let q = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1000), |(_, v)| parse_q(v.trim()));
        let Some(q) = q else { continue };
        html.offer(ty, sub, "text", "html", q);
        json.offer(ty, sub, "application", "json", q);
    }
    html.value() > json.value()
}

/// The quality of one target type: (specificity of the best range so far, its q in thousandths).
#[derive(Clone, Copy)]
struct Quality {
    specificity: u8,
    q: u16,
}

impl Quality {
    const NONE: Quality = Quality {
        specificity: 0,
        q: 0,
    };

    fn offer(&mut self, ty: &str, sub: &str, want_ty: &str, want_sub: &str, q: u16) {
        let specificity = if ty == "*" && sub == "*" {
            1
        } else if ty.eq_ignore_ascii_case(want_ty) && sub == "*" {
            2
        } else if ty.eq_ignore_ascii_case(want_ty) && sub.eq_ignore_ascii_case(want_sub) {
            3
        } else {
            return;
        };
        if specificity > self.specificity || (specificity == self.specificity && q > self.q) {
            *self = Quality { specificity, q };
        }
    }

    fn value(self) -> u16 {
        self.q
    }
}

/// Parses an RFC 9110 qvalue (`0`, `0.5`, `1`, `1.000`) into thousandths; `None` if malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(accept: &str) -> bool {
        prefers_html(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    #[test]
    fn browsers_get_html_api_clients_get_json() {
        assert!(html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(html("text/html"));
        assert!(html("text/*"));
        assert!(!html("*/*"), "curl's default is a tie: JSON");
        assert!(!html("application/json"));
        assert!(!html("application/json, text/html;q=0.9"));
        assert!(html("application/json;q=0.5, text/html"));
        assert!(!html("text/html;q=0, */*"));
        assert!(!prefers_html(None));
    }

    #[test]
    fn most_specific_range_sets_the_quality() {
        // text/html is explicitly unwanted even though text/* is fine
        assert!(!html("text/*;q=1, text/html;q=0.1, application/json;q=0.5"));
        assert!(html("TEXT/HTML;Q=0.9, application/*;q=0.2"));
    }

    #[test]
    fn garbage_is_json_and_never_panics() {
        for junk in [
            "",
            ",,,",
            "text/html;q=2",
            "text/html;q=abc",
            "text/html;q=0.1234",
            "html",
            ";;;=",
            "text/html;q=",
            "text/html;q=1.5",
        ] {
            assert!(!html(junk), "{junk}");
        }
        assert!(!prefers_html(Some(
            &HeaderValue::from_bytes(b"text/html\xff").unwrap()
        )));
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.1"), None);
        assert_eq!(parse_q("-0"), None);
    }
}
