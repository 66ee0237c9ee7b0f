//! Unit tests of `ClientIpResolver`: a table of header cases (trusted and untrusted peers, chains,
//! spoofing attempts, the exclusive IP header, IPv6 forms, RFC 7239 `Forwarded`, garbage and
//! non-UTF-8 bytes, header precedence), a randomised check of the one-pass walk against a naive
//! right-to-left model, and a no-panic loop over random bytes. Tests only.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PROXY: &str = "10.0.0.2";
const OUTSIDER: &str = "198.51.100.7";
const XFF: &str = "x-forwarded-for";
const FWD: &str = "forwarded";

enum Trust {
    Default,
    Nobody,
    List(&'static str),
}

struct Case {
    name: &'static str,
    trust: Trust,
    ip_header: Option<&'static str>,
    peer: Option<&'static str>,
    headers: Vec<(&'static str, Vec<u8>)>,
    expected: Option<&'static str>,
}

/// A case with the default trusted proxies and no IP header.
fn case(name: &'static str, peer: Option<&'static str>, expected: Option<&'static str>) -> Case {
    Case {
        name,
        trust: Trust::Default,
        ip_header: None,
        peer,
        headers: Vec::new(),
        expected,
    }
}

impl Case {
    fn h(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    fn trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    fn ip_header(mut self, name: &'static str) -> Self {
        self.ip_header = Some(name);
        self
    }

    fn run(&self) -> Option<IpAddr> {
        let trusted = match self.trust {
            Trust::Default => ClientIpResolver::default_trusted_proxies(),
            Trust::Nobody => IpSet::new(),
            Trust::List(list) => IpSet::parse_list(list).unwrap(),
        };
        let ip_header = self
            .ip_header
            .map(|name| HeaderName::from_bytes(name.as_bytes()).unwrap());
        let resolver = ClientIpResolver::new(trusted, ip_header);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let peer = self.peer.map(|p| p.parse().unwrap());
        resolver.resolve(peer, &headers)
    }
}

const CLIENT: Option<&str> = Some("203.0.113.9");
const AT_PROXY: Option<&str> = Some(PROXY);

fn cases() -> Vec<Case> {
    let p = Some(PROXY);
    let long_chain = format!("{}203.0.113.9", "10.0.0.1, ".repeat(1_000));
    vec![
        // Basics.
        case("no headers, trusted peer", p, AT_PROXY),
        case("no headers, untrusted peer", Some(OUTSIDER), Some(OUTSIDER)),
        case("plain XFF from trusted proxy", p, CLIENT).h(XFF, "203.0.113.9"),
        case("XFF from loopback proxy", Some("127.0.0.1"), CLIENT).h(XFF, "203.0.113.9"),
        case("XFF from IPv6 loopback proxy", Some("::1"), CLIENT).h(XFF, "203.0.113.9"),
        case("XFF from unique-local IPv6 proxy", Some("fd00::5"), CLIENT).h(XFF, "203.0.113.9"),
        case("XFF from CGNAT proxy", Some("100.64.1.1"), CLIENT).h(XFF, "203.0.113.9"),
        // Chains.
        case("chain with trusted hops", p, CLIENT).h(XFF, "203.0.113.9, 10.0.0.5, 192.168.1.1"),
        case("rightmost untrusted wins", p, CLIENT).h(XFF, "198.51.100.1, 203.0.113.9, 10.0.0.5"),
        case("all trusted: leftmost", p, Some("10.0.0.1"))
            .h(XFF, "10.0.0.1, 192.168.0.1, 172.16.0.1"),
        case("single trusted element", p, Some("192.168.0.9")).h(XFF, "192.168.0.9"),
        case("long chain of trusted hops", p, CLIENT).h(XFF, long_chain),
        // Untrusted peers and spoofing.
        case(
            "untrusted peer: XFF ignored",
            Some(OUTSIDER),
            Some(OUTSIDER),
        )
        .h(XFF, "203.0.113.9"),
        case(
            "untrusted peer: X-Real-IP ignored",
            Some(OUTSIDER),
            Some(OUTSIDER),
        )
        .h("x-real-ip", "203.0.113.9"),
        case(
            "untrusted peer: Forwarded ignored",
            Some(OUTSIDER),
            Some(OUTSIDER),
        )
        .h(FWD, "for=203.0.113.9"),
        case("spoof: prepended private address", p, CLIENT).h(XFF, "10.0.0.1, 203.0.113.9"),
        case("spoof: prepended public address", p, CLIENT).h(XFF, "1.2.3.4, 203.0.113.9"),
        case("spoof: prepended garbage", p, CLIENT).h(XFF, "<script>, 203.0.113.9"),
        case("spoof: prepended loopback", p, CLIENT).h(XFF, "127.0.0.1, 203.0.113.9, 10.0.0.3"),
        // Trusted sets.
        case(
            "empty trusted set trusts nobody",
            Some("127.0.0.1"),
            Some("127.0.0.1"),
        )
        .trust(Trust::Nobody)
        .h(XFF, "203.0.113.9"),
        case("custom trusted proxy", Some(OUTSIDER), CLIENT)
            .trust(Trust::List("198.51.100.0/24"))
            .h(XFF, "203.0.113.9"),
        case("custom list does not trust private", p, AT_PROXY)
            .trust(Trust::List("198.51.100.0/24"))
            .h(XFF, "203.0.113.9"),
        case(
            "custom list: private hop is the client",
            Some(OUTSIDER),
            Some("10.0.0.1"),
        )
        .trust(Trust::List("198.51.100.0/24"))
        .h(XFF, "203.0.113.9, 10.0.0.1, 198.51.100.8"),
        // No peer.
        case("no peer: headers not believed", None, None).h(XFF, "203.0.113.9"),
        case("no peer, no headers", None, None),
        // The exclusive IP header.
        case("ip header ignores XFF", p, CLIENT)
            .ip_header("x-my-ip")
            .h(XFF, "198.51.100.1")
            .h("x-my-ip", "203.0.113.9"),
        case("ip header absent: peer, XFF ignored", p, AT_PROXY)
            .ip_header("x-my-ip")
            .h(XFF, "203.0.113.9"),
        case("ip header garbage: peer", p, AT_PROXY)
            .ip_header("x-my-ip")
            .h("x-my-ip", "garbage")
            .h(XFF, "203.0.113.9"),
        case("ip header from untrusted peer", Some(OUTSIDER), CLIENT)
            .ip_header("x-my-ip")
            .h("x-my-ip", "203.0.113.9"),
        case("ip header: first valid address", p, CLIENT)
            .ip_header("x-my-ip")
            .h("x-my-ip", "unknown, 203.0.113.9, 198.51.100.1"),
        case("ip header: valid address on a later line", p, CLIENT)
            .ip_header("x-my-ip")
            .h("x-my-ip", "nope")
            .h("x-my-ip", "203.0.113.9"),
        case("ip header, no peer, absent", None, None).ip_header("x-my-ip"),
        case("ip header, no peer, present", None, CLIENT)
            .ip_header("x-my-ip")
            .h("x-my-ip", "203.0.113.9"),
        case(
            "ip header private address taken as is",
            Some(OUTSIDER),
            Some("10.1.1.1"),
        )
        .ip_header("x-my-ip")
        .h("x-my-ip", "10.1.1.1"),
        case(
            "ip header named forwarded reads for=",
            Some(OUTSIDER),
            CLIENT,
        )
        .ip_header("forwarded")
        .h(FWD, "proto=https, for=203.0.113.9;proto=https"),
        case("ip header CF-Connecting-IP", Some(OUTSIDER), CLIENT)
            .ip_header("CF-Connecting-IP")
            .h("cf-connecting-ip", "203.0.113.9")
            .h(XFF, "198.51.100.1"),
        case("ip header with empty trusted set", p, CLIENT)
            .trust(Trust::Nobody)
            .ip_header("x-my-ip")
            .h("x-my-ip", "203.0.113.9"),
        // IPv6 and address forms.
        case("IPv6 bare", p, Some("2001:db8::1")).h(XFF, "2001:db8::1"),
        case("IPv6 bracketed", p, Some("2001:db8::1")).h(XFF, "[2001:db8::1]"),
        case("IPv6 bracketed with port", p, Some("2001:db8::1")).h(XFF, "[2001:db8::1]:443"),
        case(
            "IPv6 bare with port-like tail is an address",
            p,
            Some("2001:db8::1:443"),
        )
        .h(XFF, "2001:db8::1:443"),
        case("IPv4 with port", p, CLIENT).h(XFF, "203.0.113.9:8080"),
        case("IPv4-mapped returned as IPv4", p, CLIENT).h(XFF, "::ffff:203.0.113.9"),
        case("IPv4-mapped bracketed with port", p, CLIENT).h(XFF, "[::ffff:203.0.113.9]:80"),
        case("mapped trusted hop skipped", p, CLIENT).h(XFF, "203.0.113.9, ::ffff:10.0.0.1"),
        case("mapped trusted peer", Some("::ffff:10.0.0.2"), CLIENT).h(XFF, "203.0.113.9"),
        case(
            "mapped untrusted peer as IPv4",
            Some("::ffff:198.51.100.7"),
            Some(OUTSIDER),
        )
        .h(XFF, "203.0.113.9"),
        case("zone id rejected", p, AT_PROXY).h(XFF, "fe80::1%eth0"),
        case("bracketed zone id rejected", p, AT_PROXY).h(XFF, "[fe80::1%25eth0]:80"),
        case("port too large", p, AT_PROXY).h(XFF, "203.0.113.9:65536"),
        case("empty port", p, AT_PROXY).h(XFF, "203.0.113.9:"),
        case("junk after bracket", p, AT_PROXY).h(XFF, "[2001:db8::1]x"),
        case("bracketed IPv4 rejected", p, AT_PROXY).h(XFF, "[203.0.113.9]"),
        // RFC 7239 Forwarded.
        case("Forwarded simple", p, CLIENT).h(FWD, "for=203.0.113.9"),
        case(
            "Forwarded quoted IPv6 with port",
            p,
            Some("2001:db8:cafe::17"),
        )
        .h(FWD, "for=\"[2001:db8:cafe::17]:4711\""),
        case("Forwarded quoted IPv4 with port", p, Some("192.0.2.43"))
            .h(FWD, "for=\"192.0.2.43:47011\""),
        case("Forwarded obfuscated port", p, Some("192.0.2.43")).h(FWD, "for=\"192.0.2.43:_p1\""),
        case("Forwarded mixed case", p, CLIENT).h(FWD, "For=203.0.113.9"),
        case("Forwarded upper case, quoted", p, CLIENT).h(FWD, "FOR=\"203.0.113.9\""),
        case("Forwarded with by and proto", p, Some("192.0.2.60"))
            .h(FWD, "for=192.0.2.60;proto=http;by=203.0.113.43"),
        case("Forwarded spaces around pairs", p, CLIENT).h(FWD, " for = 203.0.113.9 ; proto=http"),
        case("Forwarded multiple elements", p, CLIENT).h(FWD, "for=203.0.113.9, for=10.0.0.3"),
        case("Forwarded unknown on the right", p, AT_PROXY).h(FWD, "for=203.0.113.9, for=unknown"),
        case("Forwarded obfuscated node", p, AT_PROXY).h(FWD, "for=_hidden"),
        case("Forwarded obfuscated left of client", p, CLIENT)
            .h(FWD, "for=_hidden, for=203.0.113.9"),
        case("Forwarded element without for", p, AT_PROXY).h(FWD, "for=203.0.113.9, proto=https"),
        case("Forwarded comma inside quotes", p, CLIENT)
            .h(FWD, "for=203.0.113.9;ext=\"x, for=10.0.0.1\""),
        case("Forwarded quoted comma then element", p, CLIENT)
            .h(FWD, "for=198.51.100.1;ext=\"a,b\", for=203.0.113.9"),
        case("Forwarded duplicate for", p, AT_PROXY).h(FWD, "for=203.0.113.9;for=198.51.100.1"),
        case(
            "Forwarded unquoted brackets tolerated",
            p,
            Some("2001:db8::17"),
        )
        .h(FWD, "for=[2001:db8::17]"),
        case("Forwarded escape in quoted value", p, AT_PROXY).h(FWD, "for=\"203.0.113.\\9\""),
        case("Forwarded unterminated quote", p, AT_PROXY).h(FWD, "for=\"203.0.113.9"),
        case("Forwarded empty for", p, AT_PROXY).h(FWD, "for="),
        // Several header lines.
        case("two XFF lines, trusted last", p, CLIENT)
            .h(XFF, "203.0.113.9")
            .h(XFF, "10.0.0.5"),
        case("two XFF lines, spoof first", p, CLIENT)
            .h(XFF, "1.2.3.4")
            .h(XFF, "203.0.113.9"),
        case("two XFF lines, garbage last", p, AT_PROXY)
            .h(XFF, "203.0.113.9")
            .h(XFF, "garbage"),
        case("two Forwarded lines", p, CLIENT)
            .h(FWD, "for=198.51.100.1")
            .h(FWD, "for=203.0.113.9;by=10.0.0.2"),
        // Garbage.
        case("script tag", p, AT_PROXY).h(XFF, "<script>alert(1)</script>"),
        case("octet out of range", p, AT_PROXY).h(XFF, "999.1.1.1"),
        case("leading zero octet", p, AT_PROXY).h(XFF, "01.2.3.4"),
        case("very long string", p, AT_PROXY).h(XFF, "1".repeat(5_000)),
        case("empty value", p, AT_PROXY).h(XFF, ""),
        case("only commas", p, AT_PROXY).h(XFF, ",,,"),
        case("trailing comma is garbage", p, AT_PROXY).h(XFF, "203.0.113.9,"),
        case("unknown in XFF", p, AT_PROXY).h(XFF, "unknown"),
        case("non-UTF-8 bytes", p, AT_PROXY).h(XFF, b"\xff\xfe"),
        case("non-UTF-8 on the right", p, AT_PROXY).h(XFF, b"203.0.113.9, \xc3\x28"),
        case("non-UTF-8 on the left", p, CLIENT).h(XFF, b"\xff, 203.0.113.9"),
        case("UTF-8 lookalike digits", p, AT_PROXY).h(XFF, "２03.0.113.9"),
        // Header precedence.
        case("XFF beats X-Real-IP", p, CLIENT)
            .h("x-real-ip", "198.51.100.1")
            .h(XFF, "203.0.113.9"),
        case("X-Real-IP when XFF absent", p, Some("198.51.100.1")).h("x-real-ip", "198.51.100.1"),
        case("X-Real-IP when XFF is garbage", p, Some("198.51.100.1"))
            .h(XFF, "garbage")
            .h("x-real-ip", "198.51.100.1"),
        case("X-Real-IP as a list", p, CLIENT).h("x-real-ip", "203.0.113.9, 10.0.0.1"),
        case("True-Client-IP beats CF-Connecting-IP", p, CLIENT)
            .h("cf-connecting-ip", "198.51.100.1")
            .h("true-client-ip", "203.0.113.9"),
        case("CF-Connecting-IP alone", p, CLIENT).h("cf-connecting-ip", "203.0.113.9"),
        case("X-Client-IP alone", p, CLIENT).h("x-client-ip", "203.0.113.9"),
        case("X-Cluster-Client-IP alone", p, CLIENT).h("x-cluster-client-ip", "203.0.113.9"),
        case("Fastly-Client-IP alone", p, CLIENT).h("fastly-client-ip", "203.0.113.9"),
        case("XFF beats Forwarded", p, CLIENT)
            .h(FWD, "for=198.51.100.1")
            .h(XFF, "203.0.113.9"),
        case("Forwarded beats X-Cluster-Client-IP", p, CLIENT)
            .h("x-cluster-client-ip", "198.51.100.1")
            .h(FWD, "for=203.0.113.9"),
        case("unlisted header ignored", p, AT_PROXY).h("x-originating-ip", "203.0.113.9"),
        case("mixed-case header name", p, CLIENT).h("X-Forwarded-For", "203.0.113.9"),
        // Whitespace.
        case("spaces and tabs", p, CLIENT).h(XFF, "  203.0.113.9  ,\t10.0.0.1 "),
        case("no spaces", p, CLIENT).h(XFF, "203.0.113.9,10.0.0.1"),
        case("quoted XFF element", p, CLIENT).h(XFF, "\"203.0.113.9\""),
        case("inner space is garbage", p, AT_PROXY).h(XFF, "203.0.113. 9"),
    ]
}

#[test]
fn header_cases() {
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let expected: Option<IpAddr> = c.expected.map(|e| e.parse().unwrap());
        let got = c.run();
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

#[test]
fn accessors_and_defaults() {
    let resolver = ClientIpResolver::new(
        ClientIpResolver::default_trusted_proxies(),
        Some(HeaderName::from_static("x-my-ip")),
    );
    assert_eq!(resolver.ip_header().map(|h| h.as_str()), Some("x-my-ip"));
    let trusted = resolver.trusted();
    assert_eq!(trusted.len(), 9);
    for addr in [
        "127.0.0.1",
        "::1",
        "10.1.1.1",
        "172.31.0.1",
        "192.168.9.9",
        "fd00::1",
    ] {
        assert!(trusted.contains(addr.parse().unwrap()), "{addr}");
    }
    for addr in ["169.254.1.1", "fe80::1", "100.100.0.1", "::ffff:10.0.0.1"] {
        assert!(trusted.contains(addr.parse().unwrap()), "{addr}");
    }
    for addr in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::"] {
        assert!(!trusted.contains(addr.parse().unwrap()), "{addr}");
    }
    let copy = resolver.clone();
    assert!(format!("{copy:?}").contains("x-my-ip"));
}

#[test]
fn element_parser_forms() {
    let ok = [
        ("1.2.3.4", "1.2.3.4"),
        (" \"1.2.3.4:80\" ", "1.2.3.4"),
        ("[::1]", "::1"),
        ("[::1]:_obf", "::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255:65535", "255.255.255.255"),
    ];
    for (input, expected) in ok {
        assert_eq!(
            parse_element(input.as_bytes()),
            expected.parse().ok(),
            "{input}"
        );
    }
    let bad = [
        "",
        " ",
        "\"\"",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.4:0x50",
        "1.2.3.4:+80",
        "1.2.3.4:_",
        "1.2.3.4:_a b",
        "[::1",
        "::1]",
        "[]",
        "[::1]:",
        "[::1]::80",
        "1.2.3.4:80:90",
        "unknown",
        "_hidden",
        "fe80::1%eth0",
        "00.0.0.0",
        "1.2.3.04",
        "::ffff:01.2.3.4",
        "1.2.3.4%",
    ];
    for input in bad {
        assert_eq!(parse_element(input.as_bytes()), None, "{input:?}");
    }
}

#[test]
fn dotted_quad_reads_what_the_standard_parser_reads() {
    // every string of digits and dots (the only bytes of its shape), short and near-valid ones
    // made often: the fast path must accept exactly what `Ipv4Addr`'s parser accepts
    const ALPHABET: &[u8] = b"0123456789.....";
    let mut rng = StdRng::seed_from_u64(0x1b_4e);
    let mut accepted = 0;
    for _ in 0..200_000 {
        let len = rng.random_range(0..18);
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
            .collect();
        let text = std::str::from_utf8(&bytes).unwrap();
        let expected = text.parse::<Ipv4Addr>().ok();
        assert_eq!(dotted_quad(&bytes), expected, "{text:?}");
        accepted += usize::from(expected.is_some());
    }
    assert!(accepted > 100, "too few valid addresses drawn: {accepted}");
    for text in [
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "1.2.3.4.",
        ".1.2.3",
        "1..2.3",
    ] {
        assert_eq!(dotted_quad(text.as_bytes()), text.parse().ok(), "{text}");
    }
}

/// The rule as written: walk right to left over the parsed elements.
fn naive_walk(elements: &[Option<IpAddr>], trusted: &IpSet) -> Option<IpAddr> {
    for element in elements.iter().rev() {
        match element {
            None => return None,
            Some(ip) if !trusted.contains(*ip) => return Some(*ip),
            Some(_) => {}
        }
    }
    elements.first().copied().flatten()
}

#[test]
fn one_pass_walk_agrees_with_right_to_left_model() {
    let pool = [
        "10.0.0.1",
        "127.0.0.1",
        "::1",
        "192.168.1.1",
        "203.0.113.9",
        "198.51.100.1",
        "2001:db8::1",
        "unknown",
        "",
        "_x",
        "999.1.1.1",
        "[fd00::1]:80",
        "1.2.3.4:5",
    ];
    let trusted = ClientIpResolver::default_trusted_proxies();
    let resolver = ClientIpResolver::new(trusted.clone(), None);
    let peer: IpAddr = PROXY.parse().unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..5_000 {
        let count = rng.random_range(1..8);
        let picked: Vec<&str> = (0..count)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect();
        let elements: Vec<Option<IpAddr>> =
            picked.iter().map(|e| parse_element(e.as_bytes())).collect();
        let expected = naive_walk(&elements, &trusted).or(Some(peer));
        // Spread the list over one or two header lines.
        let mut headers = HeaderMap::new();
        let cut = rng.random_range(1..=count);
        for line in [&picked[..cut], &picked[cut..]] {
            if !line.is_empty() {
                headers.append(
                    "x-forwarded-for",
                    HeaderValue::from_str(&line.join(", ")).unwrap(),
                );
            }
        }
        assert_eq!(
            resolver.resolve(Some(peer), &headers),
            expected,
            "{picked:?}"
        );
    }
}

#[test]
fn random_bytes_never_panic() {
    const ALPHABET: &[u8] = b"0123456789abcdefABCDEF.:,;=[]\"_ \t%forFORunknwxyz-\\\x80\xc3\xff";
    let names: Vec<&str> = ClientIpResolver::DEFAULT_HEADERS
        .iter()
        .copied()
        .chain(["x-my-ip"])
        .collect();
    let peers = [
        None,
        Some(PROXY),
        Some(OUTSIDER),
        Some("::1"),
        Some("::ffff:10.0.0.9"),
    ];
    let mut rng = StdRng::seed_from_u64(0xf0_22);
    let plain = ClientIpResolver::new(ClientIpResolver::default_trusted_proxies(), None);
    let with_header = [
        ClientIpResolver::new(IpSet::new(), Some(HeaderName::from_static("x-my-ip"))),
        ClientIpResolver::new(IpSet::new(), Some(HeaderName::from_static("forwarded"))),
    ];
    for _ in 0..10_000 {
        let mut headers = HeaderMap::new();
        for _ in 0..rng.random_range(0..4) {
            let len = rng.random_range(0..80);
            let value: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
                .collect();
            let name = names[rng.random_range(0..names.len())];
            headers.append(name, HeaderValue::from_bytes(&value).unwrap());
        }
        let peer: Option<IpAddr> =
            peers[rng.random_range(0..peers.len())].map(|p| p.parse().unwrap());
        let got = plain.resolve(peer, &headers);
        match peer.map(|p| p.to_canonical()) {
            None => assert_eq!(got, None),
            Some(p) if !plain.trusted().contains(p) => assert_eq!(got, Some(p)),
            Some(_) => assert!(got.is_some()),
        }
        for resolver in &with_header {
            let got = resolver.resolve(peer, &headers);
            if let Some(IpAddr::V6(v6)) = got {
                assert!(
                    v6.to_ipv4_mapped().is_none(),
                    "mapped address returned: {v6}"
                );
            }
        }
        if let Some(IpAddr::V6(v6)) = got {
            assert!(
                v6.to_ipv4_mapped().is_none(),
                "mapped address returned: {v6}"
            );
        }
    }
}
