//! The client-IP resolver on arbitrary forwarding headers and peers, with and without a
//! configured IP header (a list header, and `Forwarded`). Asserts the rules that need no parsing
//! to check: with no IP header, no peer gives no client and an untrusted peer is the client
//! whatever the headers say; a result is never an IPv4-mapped IPv6 address; from a trusted
//! peer, a header-named client is the peer or an address written in one of the headers.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sqreen::ip::{ClientIpResolver, IpSet};
use sqreen_fuzz::TRUSTED;

#[derive(Arbitrary, Debug)]
enum Peer {
    None,
    /// In `10.0.0.0/8` (trusted).
    TrustedV4(u8, u8),
    /// In `2001:db8:1::/48` (trusted).
    TrustedV6(u16),
    /// `::ffff:10.0.0.x` (trusted once canonical).
    MappedTrusted(u8),
    Any(IpAddr),
}

impl Peer {
    fn ip(&self) -> Option<IpAddr> {
        match *self {
            Peer::None => None,
            Peer::TrustedV4(a, b) => Some(Ipv4Addr::new(10, 0, a, b).into()),
            Peer::TrustedV6(x) => Some(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, x).into()),
            Peer::MappedTrusted(x) => Some(Ipv4Addr::new(10, 0, 0, x).to_ipv6_mapped().into()),
            Peer::Any(ip) => Some(ip),
        }
    }
}

/// The forwarding headers the resolver reads, a custom one and `Host`.
fn header_name(index: u8) -> &'static str {
    const EXTRA: [&str; 2] = ["x-custom-ip", "host"];
    let known = ClientIpResolver::DEFAULT_HEADERS;
    let i = usize::from(index) % (known.len() + EXTRA.len());
    known
        .get(i)
        .copied()
        .unwrap_or_else(|| EXTRA[i - known.len()])
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    peer: Peer,
    headers: Vec<(u8, &'a [u8])>,
}

fn resolvers() -> &'static [ClientIpResolver; 3] {
    static R: OnceLock<[ClientIpResolver; 3]> = OnceLock::new();
    R.get_or_init(|| {
        let trusted = || IpSet::parse_list(&TRUSTED.join(",")).expect("trusted proxies");
        [
            ClientIpResolver::new(trusted(), None),
            ClientIpResolver::new(trusted(), Some(HeaderName::from_static("x-custom-ip"))),
            ClientIpResolver::new(trusted(), Some(HeaderName::from_static("forwarded"))),
        ]
    })
}

/// Whether `ip` is written in `value`: some run of hex digits, dots and colons in it, or that
/// run without a trailing port, is `ip`.
fn written_in(value: &[u8], ip: IpAddr) -> bool {
    String::from_utf8_lossy(value)
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .flat_map(|s| {
            let t = s.trim_matches(':');
            [Some(s), Some(t), t.rsplit_once(':').map(|(a, _)| a)]
        })
        .flatten()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .any(|a| a.to_canonical() == ip)
}

fuzz_target!(|input: Input<'_>| {
    let mut headers = HeaderMap::new();
    for (name, value) in &input.headers {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            let name = header_name(*name);
            headers.append(HeaderName::from_static(name), value);
        }
    }
    let peer = input.peer.ip();
    let canonical = peer.map(|p| p.to_canonical());
    for (i, resolver) in resolvers().iter().enumerate() {
        let got = resolver.resolve(peer, &headers);
        if let Some(ip) = got {
            assert_eq!(ip, ip.to_canonical(), "an IPv4-mapped result");
        }
        if i == 0 {
            match canonical {
                None => assert_eq!(got, None, "no peer, no client"),
                Some(p) if !resolver.trusted().contains(p) => {
                    assert_eq!(got, Some(p), "an untrusted peer is the client")
                }
                Some(p) => {
                    let ip = got.expect("a trusted peer gives a client");
                    if ip != p {
                        let written = headers.values().any(|v| written_in(v.as_bytes(), ip));
                        assert!(written, "{ip} is in no header: {headers:?}");
                    }
                }
            }
        }
    }
});
