//! Outbound URLs (server-side request forgery): a URL about to be requested is checked against
//! the request's inputs, and the checked client.
//!
//! An input matters only where it chooses the destination: when it occurs in the URL's scheme
//! or authority (user info, host, port). A URL whose host the app wrote (an input in the path
//! or query only) passes without a lookup. When an input does choose the destination, the
//! request is an exploit if the scheme is not `http` or `https` (`file:`, `gopher:`, `dict:`,
//! ...), or if the host is internal: a name such as `localhost` or
//! `metadata.google.internal`, or an address (written in any form `inet_aton` reads: decimal
//! `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`; IPv6, IPv4-mapped included)
//! or a name that **resolves** to one: loopback, private (RFC 1918, unique local `fc00::/7`,
//! which holds AWS's `fd00:ec2::254`), link-local (`169.254.0.0/16`, which holds the cloud
//! metadata address `169.254.169.254`, and `fe80::/10`), carrier-grade NAT, unspecified,
//! multicast, reserved. The name is resolved once, and [`CheckedUrl`] keeps the addresses that
//! were checked: the checked client connects to those, so a name cannot resolve to something
//! else between the check and the connection (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::ops::Range;

/// A URL split where it matters here.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) scheme: Range<usize>,
    /// The authority (`user@host:port`), without the `//`.
    pub(crate) authority: Range<usize>,
    /// The host (brackets of an IPv6 literal excluded).
    pub(crate) host: Range<usize>,
    pub(crate) port: Option<u16>,
}

/// Splits `url` (`scheme://authority/...`); `None` when it has no scheme or authority.
pub(crate) fn parts(url: &str) -> Option<Parts> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    if scheme.is_empty()
        || !scheme.bytes().next()?.is_ascii_alphabetic()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let rest = &url[colon + 1..];
    // browsers and many clients take `\` as `/` and any number of slashes
    let slashes = rest
        .bytes()
        .take_while(|b| *b == b'/' || *b == b'\\')
        .count();
    let a_start = colon + 1 + slashes;
    let a_len = url[a_start..]
        .find(['/', '\\', '?', '#'])
        .unwrap_or(url.len() - a_start);
    let authority = a_start..a_start + a_len;
    let auth = &url[authority.clone()];
    let h_start = auth.rfind('@').map_or(0, |i| i + 1);
    let host_port = &auth[h_start..];
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let close = inner.find(']')?;
        let port = inner[close + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        (a_start + h_start + 1..a_start + h_start + 1 + close, port)
    } else {
        match host_port.rfind(':') {
            Some(i) => (
                a_start + h_start..a_start + h_start + i,
                host_port[i + 1..].parse().ok(),
            ),
            None => (a_start + h_start..a_start + h_start + host_port.len(), None),
        }
    };
    Some(Parts {
        scheme: 0..colon,
        authority,
        host,
        port,
    })
}

/// The first input that chooses `url`'s destination, and its range in the URL.
pub(crate) fn controlling<'a>(
    url: &str,
    parts: &Parts,
    inputs: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, Range<usize>)> {
    let chooses = parts.scheme.start..parts.authority.end;
    for (i, input) in inputs.into_iter().enumerate() {
        if input.is_empty() {
            continue;
        }
        for s in memchr::memmem::find_iter(url.as_bytes(), input.as_bytes()) {
            let e = s + input.len();
            if s < chooses.end && e > chooses.start && (e - s >= 2 || parts.host.len() <= 1) {
                return Some((i, s..e));
            }
        }
    }
    None
}

/// What a destination is, as far as a request to it goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// An external `http(s)` destination, at these addresses.
    External(Vec<SocketAddr>),
    /// Not to be requested: why.
    Internal(&'static str),
    /// The name did not resolve.
    Unresolved,
}

/// Classifies the destination of `url` (resolving its host name once).
pub(crate) fn destination(url: &str, parts: &Parts) -> Verdict {
    let scheme = url[parts.scheme.clone()].to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Verdict::Internal("scheme"),
    };
    let host = url[parts.host.clone()]
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let port = parts.port.unwrap_or(default_port);
    if host.is_empty() {
        return Verdict::Internal("no host");
    }
    if internal_name(&host) {
        return Verdict::Internal("internal name");
    }
    let addrs: Vec<SocketAddr> = match parse_ip(&host) {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => match (host.as_str(), port).to_socket_addrs() {
            Ok(addrs) => addrs.collect(),
            Err(_) => return Verdict::Unresolved,
        },
    };
    if addrs.is_empty() {
        return Verdict::Unresolved;
    }
    if let Some(why) = addrs.iter().find_map(|a| internal_ip(a.ip())) {
        return Verdict::Internal(why);
    }
    Verdict::External(addrs)
}

/// Names that are internal whatever they resolve to.
fn internal_name(host: &str) -> bool {
    matches!(
        host,
        "localhost" | "metadata" | "metadata.google.internal" | "instance-data"
    ) || host.ends_with(".localhost")
        || host.ends_with(".internal")
        || host.ends_with(".local")
}

/// An address in any form `inet_aton` reads, or an IPv6 literal.
pub(crate) fn parse_ip(host: &str) -> Option<IpAddr> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    inet_aton(host).map(IpAddr::V4)
}

/// `inet_aton`: 1 to 4 parts, each decimal, octal (`0` prefix) or hex (`0x`); the last part
/// fills the remaining bytes.
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    let mut n: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        if *v > 255 {
            return None;
        }
        n |= v << (24 - 8 * i);
    }
    let room = 32 - 8 * head.len() as u32;
    if *last >= 1u64 << room {
        return None;
    }
    Some(Ipv4Addr::from((n | last) as u32))
}

/// Why an address is internal, if it is.
pub(crate) fn internal_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("private") // unique local, fd00:ec2::254 among them
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                // NAT64: the IPv4 address it carries
                internal_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ))
            } else {
                None
            }
        }
    }
}

fn internal_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let o = v4.octets();
    if v4.is_loopback() {
        Some("loopback")
    } else if o[0] == 169 && o[1] == 254 {
        Some(if o[2] == 169 && o[3] == 254 {
            "metadata"
        } else {
            "link-local"
        })
    } else if v4.is_private() {
        Some("private")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared address space")
    } else if o[0] == 0 {
        Some("unspecified")
    } else if o[0] >= 224 {
        Some("multicast or reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(url: &str) -> Verdict {
        destination(url, &parts(url).unwrap())
    }

    #[test]
    fn urls_split_where_the_destination_is_chosen() {
        let u = "https://user:pw@Example.com:8443/a?b#c";
        let p = parts(u).unwrap();
        assert_eq!(&u[p.scheme.clone()], "https");
        assert_eq!(&u[p.authority.clone()], "user:pw@Example.com:8443");
        assert_eq!(&u[p.host.clone()], "Example.com");
        assert_eq!(p.port, Some(8443));
        let u = "http://[::ffff:127.0.0.1]:80/";
        let p = parts(u).unwrap();
        assert_eq!(&u[p.host.clone()], "::ffff:127.0.0.1");
        let u = "http:\\\\127.0.0.1\\x";
        assert_eq!(&u[parts(u).unwrap().host], "127.0.0.1");
        assert!(parts("/relative/path").is_none());
        assert!(parts("1http://x").is_none());
    }

    #[test]
    fn internal_destinations_in_every_form() {
        for url in [
            "http://127.0.0.1/",
            "http://localhost:8080/admin",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.1/",
            "http://0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://[fe80::1]/",
            "http://100.64.0.1/",
            "http://[64:ff9b::7f00:1]/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "dict://example.com:11211/",
        ] {
            assert!(
                matches!(verdict(url), Verdict::Internal(_)),
                "{url}: {:?}",
                verdict(url)
            );
        }
    }

    #[test]
    fn public_addresses_are_external() {
        for url in [
            "http://93.184.215.14/",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
        ] {
            assert!(matches!(verdict(url), Verdict::External(_)), "{url}");
        }
        assert_eq!(inet_aton("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("256.1.1.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton("example"), None);
        assert_eq!(inet_aton("1.16777216"), None);
    }

    #[test]
    fn only_inputs_in_the_scheme_or_authority_choose_the_destination() {
        let url = "http://127.0.0.1:8081/internal/secret";
        let p = parts(url).unwrap();
        assert!(controlling(url, &p, ["127.0.0.1:8081"]).is_some());
        assert!(controlling(url, &p, ["http://127.0.0.1:8081/internal/secret"]).is_some());
        assert!(controlling(url, &p, ["/internal/secret"]).is_none());
        assert!(controlling(url, &p, ["secret"]).is_none());
        assert!(
            controlling(url, &p, ["1"]).is_none(),
            "one character chooses nothing"
        );
    }
}
