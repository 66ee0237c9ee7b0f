//! `tracing` integration: the per-request span and the W3C trace id, so security decisions can
//! be joined to the app's own traces.
//!
//! The layer opens one span per request it inspects: target `sqreen`, name `sqreen.request`, at
//! INFO level, with the fields `rid`, `client_ip`, `trace_id`, `user` (recorded when the user is
//! known: a resolver, automatic user monitoring, `identify` or `auth_track`) and `verdict` (the
//! layer's first decision: one of the `VERDICT_*` names, `pass` when it let the handler's
//! response through). INFO because the verdict is what an operator looks for in a trace and most
//! apps filter at INFO; `RUST_LOG=sqreen=warn` (or any filter) turns it off. The handler's
//! future is polled inside it, so the app's own spans nest under it.
//!
//! With no subscriber interested, `span!` returns a disabled span after one cached interest
//! check, and no field value is formatted: the request path pays a few nanoseconds.
//!
//! A `traceparent` request header (W3C Trace Context) that parses strictly gives its trace id to
//! the span, to every event of the request (`trace_id`) and to the JSON block page. It is a
//! label only: never trusted for anything else (no decision, list or counter reads it).

use std::fmt;

use http::HeaderMap;

/// The verdict of a request the handler answered.
pub(crate) const VERDICT_PASS: &str = "pass";
/// Answered with the block page: the client IP is denied or blocked.
pub(crate) const VERDICT_BLOCKED_IP: &str = "blocked_ip";
/// Answered with the block page: the user is denied or blocked.
pub(crate) const VERDICT_BLOCKED_USER: &str = "blocked_user";
/// Answered with a redirect action.
pub(crate) const VERDICT_REDIRECT: &str = "redirect";
/// Answered with the block page by the WAF (an attack, or a refused body).
pub(crate) const VERDICT_WAF_BLOCK: &str = "waf_block";
/// A RASP check refused a value in the handler; the block page replaced its response.
pub(crate) const VERDICT_RASP_BLOCK: &str = "rasp_block";
/// 503: the agent failed and is configured to fail closed.
pub(crate) const VERDICT_UNAVAILABLE: &str = "unavailable";

/// A W3C trace id: 128 bits, never zero, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TraceId(u128);

impl TraceId {
    /// The trace id of the request's `traceparent` header, if there is exactly one and it is
    /// well formed: `{version}-{trace id}-{parent id}-{flags}`, lowercase hex, version not `ff`
    /// (version `00` is exactly 55 bytes; a later version may append `-...`), ids not all zeros.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<TraceId> {
        // a constant name: no parsing of the name on the request path
        static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
        let mut values = headers.get_all(&TRACEPARENT).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        TraceId::parse(value.as_bytes())
    }

    #[cfg(test)]
    pub(crate) fn for_tests(id: u128) -> TraceId {
        TraceId(id)
    }

    fn parse(s: &[u8]) -> Option<TraceId> {
        if s.len() < 55 || (s.len() > 55 && s[55] != b'-') {
            return None;
        }
        let (version, trace, parent, flags) = (&s[0..2], &s[3..35], &s[36..52], &s[53..55]);
        if s[2] != b'-' || s[35] != b'-' || s[52] != b'-' {
            return None;
        }
        if version == b"ff" || (version == b"00" && s.len() != 55) {
            return None;
        }
        hex(version)?;
        hex(flags)?;
        let id = hex(trace)?;
        if id == 0 || hex(parent)? == 0 {
            return None;
        }
        Some(TraceId(id))
    }
}

/// Lowercase hex digits (at most 32) as a number.
fn hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(n << 4 | u128::from(v))
    })
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

/// The request's span (see the module docs); disabled, and free, when no subscriber wants it.
pub(crate) fn request_span(
    rid: crate::Rid,
    client_ip: Option<std::net::IpAddr>,
    trace_id: Option<TraceId>,
) -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        target: "sqreen",
        "sqreen.request",
        rid = %rid,
        client_ip = client_ip.map(tracing::field::display),
        trace_id = trace_id.map(tracing::field::display),
        user = Empty,
        verdict = Empty,
    )
}

#[cfg(test)]
mod tests {
    use super::TraceId;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn parse(s: &str) -> Option<String> {
        TraceId::parse(s.as_bytes()).map(|t| t.to_string())
    }

    #[test]
    fn valid_traceparents() {
        assert_eq!(
            parse(VALID).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        // a later version may carry more fields after a dash
        assert!(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x").is_some());
        assert!(parse("00-00000000000000000000000000000001-0000000000000001-00").is_some());
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            "",
            &VALID[..54],
            &format!("{VALID}-"),
            &format!("{VALID}0"),
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn two_traceparent_headers_are_ignored() {
        let mut headers = http::HeaderMap::new();
        headers.append("traceparent", VALID.parse().unwrap());
        assert!(TraceId::from_headers(&headers).is_some());
        headers.append("traceparent", VALID.parse().unwrap());
        assert_eq!(TraceId::from_headers(&headers), None);
    }
}
