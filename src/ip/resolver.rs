//! Client IP resolution: which address a request really comes from, given the TCP peer and the
//! request headers, without letting a client choose its own address.
//!
//! It owns the trust decision (which peers may speak for a client), the choice and order of
//! forwarding headers, and the parsing of their values (`X-Forwarded-For`-style lists and RFC 7239
//! `Forwarded`). It must never panic on any header bytes, never believe a header that an untrusted
//! party could have written, and never allocate on the request path (values are parsed in place
//! from byte slices). It knows nothing of deny lists or what the address is used for.
//!
//! # The rules
//!
//! - **`SQREEN_IP_HEADER` configured** (`ip_header`): only that header is read, whatever the peer
//!   (the operator chose it, so the operator vouches for it): the *first* valid address in it,
//!   left to right, across all its lines. If it is named `forwarded` it is parsed as RFC 7239
//!   (`for=`); otherwise as a comma-separated list. If it is absent or holds no valid address,
//!   the peer is the client (or `None` if there is no peer). No other header is ever read.
//! - **Otherwise**: with no peer, the client is unknown (`None`): headers are not believed
//!   without a peer. A peer that is not a trusted proxy is the client, whatever the headers say.
//!   From a trusted peer, the headers of [`ClientIpResolver::DEFAULT_HEADERS`] are tried in order
//!   (`X-Forwarded-For`, `X-Real-IP`, `True-Client-IP`, `X-Client-IP`, `Forwarded`,
//!   `X-Cluster-Client-IP`, `Fastly-Client-IP`, `CF-Connecting-IP`); the first that yields an
//!   address decides, and if none does, the peer is the client.
//! - **Reading a header**: every header is a list. All its lines are concatenated in order and
//!   split on commas (for `Forwarded`, on commas outside quoted strings). The list is walked right
//!   to left: a valid trusted address is skipped (it is one of our proxies); the first valid
//!   untrusted address is the client. An element that is not a valid address (garbage, empty,
//!   `unknown`, an obfuscated `_id`, a `Forwarded` element without `for=`) stops the walk: nothing
//!   left of it can be believed, so the header yields nothing and the next header is tried. If
//!   every element is a valid trusted address, the header yields the leftmost one.
//! - **An element** is trimmed of spaces, tabs and double quotes, then must be one of `1.2.3.4`,
//!   `1.2.3.4:8080`, `[2001:db8::1]`, `[2001:db8::1]:443` or a bare `2001:db8::1`. A port is 1 to
//!   5 digits up to 65535, or an RFC 7239 obfuscated port (`_` then letters, digits, `.`, `_`,
//!   `-`). A bare IPv6 address takes no port (`2001:db8::1:443` is read as an address). IPv4
//!   octets with leading zeros (`01.2.3.4`, ambiguous with octal) are rejected, and so are IPv6
//!   zone ids (`fe80::1%eth0`): a zone names an interface of the sender, meaningless here. An
//!   element longer than 64 bytes, or not UTF-8, is invalid.
//! - **`Forwarded`** (RFC 7239): pairs are separated by `;` (outside quoted strings), the `for`
//!   name is case-insensitive, its value a token or a quoted string
//!   (`for="[2001:db8:cafe::17]:4711"`, `for=192.0.2.60;proto=http;by=203.0.113.43`). An element
//!   with no `for=`, or with more than one, or whose quoted value contains an escape, is invalid.
//! - **Results**: IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are returned, and checked against
//!   the trusted proxies, as IPv4; this applies to the peer too.
//!
//! This is stricter than the common "first public IP in the header" rule, which lets any client
//! name its own address by prepending it. Here a client can only add elements to the left of
//! what our trusted proxies append, and the walk stops at the first untrusted address on the right.
//! One caveat is the operator's: if the proxy in front sets only, say, `X-Real-IP` and forwards a
//! client's `X-Forwarded-For` untouched, that client-written header is read first; such a
//! deployment must set `SQREEN_IP_HEADER`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::header::{GetAll, HeaderName, HeaderValue};
use http::HeaderMap;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::IpSet;

#[cfg(test)]
#[path = "resolver_tests.rs"]
mod tests;

/// The longest element worth parsing: `"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535"`
/// with its quotes is 55 bytes.
const MAX_ELEMENT_LEN: usize = 64;

/// How a header's value is split into elements and each element read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    /// Comma-separated addresses (`X-Forwarded-For` and the single-address headers).
    List,
    /// RFC 7239 `Forwarded`: comma-separated elements of `;`-separated pairs, read for `for=`.
    Forwarded,
}

impl Syntax {
    fn of(name: &HeaderName) -> Syntax {
        if name == http::header::FORWARDED {
            Syntax::Forwarded
        } else {
            Syntax::List
        }
    }
}

/// Decides the client address of a request from its peer address and headers (see the module
/// documentation for the exact rules).
#[derive(Clone, Debug)]
pub struct ClientIpResolver {
    trusted: IpSet,
    ip_header: Option<(HeaderName, Syntax)>,
    defaults: [(HeaderName, Syntax); 8],
}

impl ClientIpResolver {
    /// The forwarding headers read from a trusted proxy when no IP header is configured, in order.
    pub const DEFAULT_HEADERS: [&'static str; 8] = [
        "x-forwarded-for",
        "x-real-ip",
        "true-client-ip",
        "x-client-ip",
        "forwarded",
        "x-cluster-client-ip",
        "fastly-client-ip",
        "cf-connecting-ip",
    ];

    /// `trusted`: the trusted proxies. `ip_header`: the exclusive header, if configured.
    pub fn new(trusted: IpSet, ip_header: Option<HeaderName>) -> Self {
        let defaults = Self::DEFAULT_HEADERS.map(|name| {
            let name = HeaderName::from_static(name);
            let syntax = Syntax::of(&name);
            (name, syntax)
        });
        ClientIpResolver {
            trusted,
            ip_header: ip_header.map(|name| {
                let syntax = Syntax::of(&name);
                (name, syntax)
            }),
            defaults,
        }
    }

    /// The default trusted proxies: loopback (`127.0.0.0/8`, `::1`), private (`10.0.0.0/8`,
    /// `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`), link-local (`169.254.0.0/16`, `fe80::/10`)
    /// and carrier-grade NAT (`100.64.0.0/10`).
    pub fn default_trusted_proxies() -> IpSet {
        let v4 = [
            ([127, 0, 0, 0], 8),
            ([10, 0, 0, 0], 8),
            ([172, 16, 0, 0], 12),
            ([192, 168, 0, 0], 16),
            ([169, 254, 0, 0], 16),
            ([100, 64, 0, 0], 10),
        ]
        .into_iter()
        .filter_map(|(addr, len)| Ipv4Net::new(Ipv4Addr::from(addr), len).ok())
        .map(IpNet::V4);
        let v6 = [
            ([0, 0, 0, 0, 0, 0, 0, 1], 128),
            ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
            ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        ]
        .into_iter()
        .filter_map(|(addr, len)| Ipv6Net::new(Ipv6Addr::from(addr), len).ok())
        .map(IpNet::V6);
        IpSet::from_nets(v4.chain(v6))
    }

    /// The trusted proxies.
    pub fn trusted(&self) -> &IpSet {
        &self.trusted
    }

    /// The exclusive client IP header, if configured.
    pub fn ip_header(&self) -> Option<&HeaderName> {
        self.ip_header.as_ref().map(|(name, _)| name)
    }

    /// The client address for a request from `peer` (None when the server gave no ConnectInfo).
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(|p| p.to_canonical());
        if let Some((name, syntax)) = &self.ip_header {
            return first_address(headers.get_all(name), *syntax).or(peer);
        }
        let peer = peer?;
        if headers.is_empty() || !self.trusted.contains(peer) {
            return Some(peer);
        }
        self.defaults
            .iter()
            .find_map(|(name, syntax)| self.walk(headers.get_all(name), *syntax))
            .or(Some(peer))
    }

    /// The address a header names, walking its list right to left (see the module docs).
    ///
    /// Done in one left-to-right pass with a small state machine that, after each element, holds
    /// what the right-to-left walk over the elements seen so far would give.
    fn walk(&self, values: GetAll<'_, HeaderValue>, syntax: Syntax) -> Option<IpAddr> {
        let mut state = Walk::Empty;
        for value in values {
            for element in Elements::new(value.as_bytes(), syntax) {
                state = match element {
                    None => Walk::Broken,
                    Some(ip) if !self.trusted.contains(ip) => Walk::Found(ip),
                    Some(ip) => match state {
                        Walk::Empty => Walk::AllTrusted(ip),
                        other => other,
                    },
                };
            }
        }
        match state {
            Walk::Found(ip) | Walk::AllTrusted(ip) => Some(ip),
            Walk::Empty | Walk::Broken => None,
        }
    }
}

/// What a right-to-left walk over a prefix of the list would give.
#[derive(Clone, Copy)]
enum Walk {
    /// No element yet.
    Empty,
    /// Every element is a valid trusted address; this is the leftmost.
    AllTrusted(IpAddr),
    /// The walk would stop on this untrusted address: the client.
    Found(IpAddr),
    /// The walk would stop on an invalid element: nothing.
    Broken,
}

/// The first valid address of a header, left to right, across all its lines.
fn first_address(values: GetAll<'_, HeaderValue>, syntax: Syntax) -> Option<IpAddr> {
    values
        .into_iter()
        .find_map(|value| Elements::new(value.as_bytes(), syntax).flatten().next())
}

/// The elements of one header line, each read as an address (`None` when invalid).
struct Elements<'a> {
    parts: Split<'a>,
    syntax: Syntax,
}

impl<'a> Elements<'a> {
    fn new(value: &'a [u8], syntax: Syntax) -> Self {
        let quoted = syntax == Syntax::Forwarded;
        Elements {
            parts: Split::new(value, b',', quoted),
            syntax,
        }
    }
}

impl Iterator for Elements<'_> {
    type Item = Option<IpAddr>;

    fn next(&mut self) -> Option<Option<IpAddr>> {
        let part = self.parts.next()?;
        Some(match self.syntax {
            Syntax::List => parse_element(part),
            Syntax::Forwarded => forwarded_for(part),
        })
    }
}

/// Splits bytes on a delimiter; when `quoted`, delimiters inside double-quoted strings (with
/// backslash escapes) do not count. An unterminated quote runs to the end.
struct Split<'a> {
    rest: Option<&'a [u8]>,
    delimiter: u8,
    quoted: bool,
}

impl<'a> Split<'a> {
    fn new(bytes: &'a [u8], delimiter: u8, quoted: bool) -> Self {
        Split {
            rest: Some(bytes),
            delimiter,
            quoted,
        }
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        if !self.quoted {
            // a plain list (`X-Forwarded-For`): the next delimiter, found by `memchr`
            return Some(match memchr::memchr(self.delimiter, rest) {
                Some(i) => {
                    self.rest = rest.get(i + 1..);
                    &rest[..i]
                }
                None => {
                    self.rest = None;
                    rest
                }
            });
        }
        let mut in_quotes = false;
        let mut escaped = false;
        for (i, &b) in rest.iter().enumerate() {
            if in_quotes {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_quotes = false;
                }
            } else if b == self.delimiter {
                self.rest = rest.get(i + 1..);
                return rest.get(..i);
            } else if b == b'"' && self.quoted {
                in_quotes = true;
            }
        }
        self.rest = None;
        Some(rest)
    }
}

/// The `for=` address of one RFC 7239 element; `None` if it has no `for`, several, or a value
/// that is not a valid node address.
fn forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let mut found = None;
    for pair in Split::new(element, b';', true) {
        let pair = pair.trim_ascii();
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = pair.split_at(eq);
        let value = value.get(1..).unwrap_or_default();
        if !name.trim_ascii().eq_ignore_ascii_case(b"for") {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some(value);
    }
    let value = found?.trim_ascii();
    let value = match value.strip_prefix(b"\"") {
        Some(inner) => {
            let inner = inner.strip_suffix(b"\"")?;
            if inner.iter().any(|&b| b == b'"' || b == b'\\') {
                return None;
            }
            inner
        }
        None => value,
    };
    parse_element(value)
}

/// One list element as an address (see the module docs for what is accepted).
fn parse_element(element: &[u8]) -> Option<IpAddr> {
    let trimmed = trim_element(element);
    if trimmed.is_empty() || trimmed.len() > MAX_ELEMENT_LEN {
        return None;
    }
    if let Some(v4) = dotted_quad(trimmed) {
        return Some(IpAddr::V4(v4));
    }
    let text = std::str::from_utf8(trimmed).ok()?;
    let addr = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        if !after.is_empty() && !is_port(after.strip_prefix(':')?) {
            return None;
        }
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    } else {
        match text.bytes().filter(|&b| b == b':').count() {
            0 => IpAddr::V4(text.parse::<Ipv4Addr>().ok()?),
            1 => {
                let (addr, port) = text.split_once(':')?;
                if !is_port(port) {
                    return None;
                }
                IpAddr::V4(addr.parse::<Ipv4Addr>().ok()?)
            }
            _ => IpAddr::V6(text.parse::<Ipv6Addr>().ok()?),
        }
    };
    Some(addr.to_canonical())
}

/// The common element, a bare `a.b.c.d`, read in one pass: exactly what `Ipv4Addr`'s parser
/// accepts of that shape (four decimal octets up to 255, no leading zero), `None` for anything
/// else, which the general path then reads.
fn dotted_quad(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            value = value * 10 + u32::from(d - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

/// Trims spaces, tabs and double quotes from both ends.
fn trim_element(bytes: &[u8]) -> &[u8] {
    let junk = |b: &u8| matches!(b, b' ' | b'\t' | b'"');
    let start = bytes.iter().position(|b| !junk(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !junk(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// A port: 1 to 5 digits up to 65535, or an RFC 7239 obfuscated port (`_` then `[A-Za-z0-9._-]`).
fn is_port(port: &str) -> bool {
    match port.strip_prefix('_') {
        Some(obfuscated) => {
            !obfuscated.is_empty()
                && obfuscated
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        None => {
            (1..=5).contains(&port.len())
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        }
    }
}
