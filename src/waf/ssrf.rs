//! Server-side request forgery (`app.sqreen.attack.ssrf`): a URL-like value pointing at cloud
//! metadata, at the server's own network, or written so as to hide where it points
//! (CRS 934110, 934120, 934190).
//!
//! Values with no `:`, `/` or `\` are rejected by one `memchr3` (the WAF's scan does not
//! call the detector on them: its shared byte-class pass, `super::classes`, already knows).
//!
//! What it looks at:
//! * **URLs with a scheme**, anywhere in the value: every `scheme:` followed by `/` or `\`
//!   (any number, any mix: `http:/x`, `http:\\x`), and for the special schemes (`http`, `https`,
//!   `ws`, `wss`, `ftp`) also `scheme:host` with no slash, which WHATWG parsers accept. The scheme
//!   itself does not matter (`xri://`, `rsync://`, `acap://` reach the same hosts), except that
//!   `gopher://`, `dict://` and `tftp://` fire on their own (`ssrf-scheme`): they exist in
//!   request parameters only to smuggle raw bytes to internal services. Database connection
//!   strings (`postgres://`, `mysql://`, `redis://`, `mongodb://`, ...) count only for a
//!   metadata host: no URL fetcher speaks them, and development settings name `localhost`.
//! * **Scheme-less values** at the start of the value: `//host` (protocol-relative; any host
//!   notation), and `host/…` or `host:port/…`, where only unambiguous internal names
//!   (`localhost`, `*.internal`, `*.localhost`, `kubernetes.default.svc`, ...), dotted-quad IPv4
//!   and bracketed IPv6 count (frameworks prepend `http://` to such values). A bare `localhost`
//!   or `127.0.0.1:8080` without a path does not fire: that is what Host and X-Forwarded-For
//!   headers carry. A CIDR (`10.0.0.0/8`) does not fire.
//! * **Authority confusion**: every host candidate of the authority is checked, i.e. the part
//!   before any `@` cut at `#`, `?`, `\` or a blank (parsers disagree on those) and each part
//!   after an `@` (`http://good.com@127.0.0.1/`, `http://a:80 &@b:80# @127.0.0.1:22/`).
//! * **Host classification**: unicode look-alikes are mapped first (circled/negative-circled/
//!   dingbat digits and letters, fullwidth forms, ideographic and halfwidth full stops), as IDNA
//!   would. Then: IPv4 in any `inet_aton` notation (decimal `2130706433`, hex `0x7f000001`, octal
//!   `0177.0.0.1`, short `127.1`, mixed, with 32-bit and per-byte overflow wrapped as lax parsers
//!   do: `7147006462`, `0x41414141A9FEA9FE`, `425.510.425.510`); IPv6 (`std::net`), with
//!   IPv4-mapped, -compatible, NAT64 and 6to4 addresses classified by their IPv4 part; names.
//!   - `ssrf-metadata`: cloud metadata endpoints (169.254.169.254, 169.254.170.2,
//!     100.100.100.200, 192.0.0.192, fd00:ec2::254, `metadata.google.internal`, `metadata`,
//!     `instance-data`, `metadata.packet.net`, ...), also inside `*.nip.io`-style names.
//!   - `ssrf-internal-host`: loopback, private, link-local, CGNAT, unspecified, broadcast,
//!     multicast/reserved IPv4; IPv6 outside global unicast 2000::/3 (loopback, ULA, link-local,
//!     zone ids, and unassigned space like `[a::b]`); local names (`localhost`, `*.localhost`,
//!     `*.local`, `*.localdomain`, `*.internal`, `*.home.arpa`, `localtest.me`, `lvh.me`,
//!     Docker/Podman/Kubernetes names), and wildcard-DNS names embedding such an address
//!     (`127.0.0.1.nip.io`).
//!   - `ssrf-obfuscated-host`: a public address in a non-canonical notation (`http:123456789`,
//!     `http://0x08080808/`), enclosed alphanumerics in a host, or a backslash-escaped host
//!     (`http://\\g\\o\\o…`): no legitimate link is written that way.
//!
//! Deliberately not done: public hosts in canonical form (that would flag every link; the lfi
//! detector reports RFI-style `http://<public IP>/` URLs), DNS rebinding (needs resolution),
//! `ldap://` and `sftp://` on their own (admin settings forms legitimately hold such URLs; they
//! fire when the host is internal). On headers the WAF runs it only where servers act on a
//! URL or host (`header_kind`), and on `Origin`, `Referer` and the forwarded-host headers
//! keeps only metadata, smuggling schemes and obfuscated hosts: in development they
//! legitimately name `localhost`.
use super::Finding;

/// Rule ids this detector can report.
pub const RULES: &[&str] = &[
    "ssrf-metadata",
    "ssrf-internal-host",
    "ssrf-obfuscated-host",
    "ssrf-scheme",
];

/// How a request header that carries a URL or a host is read (see [`header_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderUrl {
    /// A URL the application or a proxy fetches, rewrites to or calls back: every rule.
    Fetched,
    /// A host (`host[:port]`, a comma-separated list, or `Forwarded`'s `host=`) that
    /// applications build absolute URLs from: metadata endpoints and obfuscated notations
    /// only (a development proxy forwards `localhost:3000`).
    Host,
    /// The page a browser came from (`Referer`, `Origin`): metadata endpoints, smuggling
    /// schemes and obfuscated notations only (in development they name `localhost`).
    Page,
}

/// The request headers read for SSRF, and how. Headers that name where the request is
/// going or where the answer is sent are acted on by servers: IIS and Symfony rewrite to
/// `X-Original-URL` / `X-Rewrite-URL`, WebDAV copies to `Destination`, handset gateways fetch
/// `X-Wap-Profile`, webhook and notification endpoints call `*-Callback*` / `*-Webhook*` /
/// `*-Url` headers back; `X-Forwarded-Host` and its kin make password-reset and redirect
/// links; link-preview and analytics code fetches the `Referer`. Other headers are not URLs
/// servers act on.
pub(crate) fn header_kind(name: &str) -> Option<HeaderUrl> {
    match name {
        "referer" | "origin" => Some(HeaderUrl::Page),
        "x-forwarded-host"
        | "x-host"
        | "x-forwarded-server"
        | "x-original-host"
        | "x-http-host-override"
        | "forwarded" => Some(HeaderUrl::Host),
        "x-original-url" | "x-rewrite-url" | "x-wap-profile" | "destination" => {
            Some(HeaderUrl::Fetched)
        }
        // (`callback` and `webhook` both hold a `k`: most names have none)
        _ if name.ends_with("-url")
            || name.ends_with("-uri")
            || (memchr::memchr(b'k', name.as_bytes()).is_some()
                && (name.contains("callback") || name.contains("webhook"))) =>
        {
            Some(HeaderUrl::Fetched)
        }
        _ => None,
    }
}

/// Looks for an SSRF target in the value of a header read as `kind`.
pub(crate) fn detect_header(kind: HeaderUrl, value: &str) -> Option<Finding> {
    match kind {
        HeaderUrl::Fetched => detect(value),
        HeaderUrl::Page => detect(value).filter(|f| f.rule != "ssrf-internal-host"),
        HeaderUrl::Host => {
            // each host of the list (`Forwarded: for=..;host=x`, `X-Forwarded-Host: a, b`),
            // read as the authority of a URL
            let mut at = 0;
            for part in value.split([',', ';']).take(16) {
                let start = at;
                at += part.len() + 1;
                let trimmed = part.trim();
                let host = match trimmed.get(..5) {
                    Some(k) if k.eq_ignore_ascii_case("host=") => &trimmed[5..],
                    _ if trimmed.contains('=') => continue,
                    _ => trimmed,
                };
                let host = host.trim_matches('"');
                if host.is_empty() || host.len() > 255 {
                    continue;
                }
                let url = format!("http://{host}/");
                if let Some(f) = detect(&url).filter(|f| f.rule != "ssrf-internal-host") {
                    let end = (start + part.len()).min(value.len());
                    return Some(Finding {
                        rule: f.rule,
                        span: start..end,
                    });
                }
            }
            None
        }
    }
}

/// Looks for an SSRF target in one decoded input value.
pub fn detect(input: &str) -> Option<Finding> {
    let b = input.as_bytes();
    memchr::memchr3(b':', b'/', b'\\', b)?;
    // 1. scheme URLs anywhere
    for p in memchr::memchr_iter(b':', b).take(64) {
        let mut s = p;
        while s > 0 && p - s < 32 && is_scheme_char(b[s - 1]) {
            s -= 1;
        }
        while s < p && !b[s].is_ascii_alphabetic() {
            s += 1;
        }
        if s == p || (s > 0 && b[s - 1].is_ascii_alphanumeric()) {
            continue;
        }
        let scheme = &input[s..p];
        let mut h = p + 1;
        while h < b.len() && (b[h] == b'/' || b[h] == b'\\') && h - p <= 8 {
            h += 1;
        }
        let slashes = h - p - 1;
        let special = ["http", "https", "ws", "wss", "ftp"]
            .iter()
            .any(|x| scheme.eq_ignore_ascii_case(x));
        if slashes == 0 && !special {
            continue;
        }
        if slashes > 0
            && ["gopher", "dict", "tftp"]
                .iter()
                .any(|x| scheme.eq_ignore_ascii_case(x))
        {
            return Some(Finding {
                rule: "ssrf-scheme",
                span: s..h,
            });
        }
        if DATABASE_SCHEMES
            .iter()
            .any(|x| scheme.eq_ignore_ascii_case(x))
        {
            // a connection string: no URL fetcher speaks these protocols, and a local
            // database is what development settings name (`postgres://localhost/test`)
            if let Some(f) = authority(input, h, false).filter(|f| f.rule == "ssrf-metadata") {
                return Some(f);
            }
            continue;
        }
        if let Some(f) = authority(input, h, false) {
            return Some(f);
        }
    }
    // 2. scheme-less, at the start of the value
    let t = input.len() - input.trim_start().len();
    let rest = &b[t..];
    if rest.len() > 2 && matches!(rest[0], b'/' | b'\\') && matches!(rest[1], b'/' | b'\\') {
        let mut h = t + 2;
        while h < b.len() && (b[h] == b'/' || b[h] == b'\\') && h - t < 8 {
            h += 1;
        }
        return authority(input, h, false);
    }
    authority(input, t, true)
}

/// Schemes of database connection strings: URL fetchers (curl, HTTP clients) cannot reach a
/// host through them, so only a metadata endpoint counts there.
const DATABASE_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "sqlserver",
    "mssql",
    "clickhouse",
    "cockroachdb",
];

fn is_scheme_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_')
}

/// What a host points at.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Class {
    Obfuscated,
    Internal,
    Metadata,
}

impl Class {
    fn rule(self) -> &'static str {
        match self {
            Class::Metadata => "ssrf-metadata",
            Class::Internal => "ssrf-internal-host",
            Class::Obfuscated => "ssrf-obfuscated-host",
        }
    }
}

/// Checks the authority starting at byte `h` (after `scheme:` and slashes, or at the value
/// start when `schemeless`).
fn authority(input: &str, h: usize, schemeless: bool) -> Option<Finding> {
    let b = input.as_bytes();
    if h >= b.len() {
        return None;
    }
    // the region parsers may read as authority: up to the first '/', a newline, or 256 bytes
    let mut e = h;
    while e < b.len() && e - h < 256 && !matches!(b[e], b'/' | b'\n' | b'\r') {
        e += 1;
    }
    while !input.is_char_boundary(e) {
        e -= 1;
    }
    let region = &input[h..e];
    if schemeless {
        // host[:port] directly followed by '/', not a CIDR, no blanks, no userinfo games
        if e >= b.len() || b[e] != b'/' || region.is_empty() {
            return None;
        }
        if region.bytes().any(|c| {
            matches!(
                c,
                b' ' | b'\t' | b'@' | b'?' | b'#' | b'\\' | b'=' | b'&' | b',' | b';'
            )
        }) {
            return None;
        }
        let after = &b[e + 1..];
        let digits = after
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let cidr_end = after
            .get(digits)
            .is_none_or(|&c| !(c.is_ascii_alphanumeric() || b"./_-%".contains(&c)));
        if (1..=3).contains(&digits) && cidr_end {
            return None; // CIDR: "10.0.0.0/8", "10.0.0.0/8, 172.16.0.0/12"
        }
        let c = classify(region, true)?;
        return Some(Finding {
            rule: c.rule(),
            span: h..e,
        });
    }
    // backslash-escaped host: "\\l\\o\\c\\a\\l\\h\\o\\s\\t"
    if region.contains('\\') {
        let chunks: Vec<&str> = region.split('\\').filter(|c| !c.is_empty()).collect();
        if chunks.len() >= 3 && chunks.iter().all(|c| c.chars().count() <= 2) {
            let joined: String = chunks.concat();
            let c = classify(&joined, false).unwrap_or(Class::Obfuscated);
            return Some(Finding {
                rule: c.rule(),
                span: h..e,
            });
        }
    }
    let mut best: Option<(Class, usize, usize)> = None;
    let mut off = 0;
    for (i, piece) in region.split('@').enumerate() {
        let start = off;
        off += piece.len() + 1;
        if i > 8 {
            break;
        }
        let lead = piece.len() - piece.trim_start().len();
        let p = &piece[lead..];
        let cut = p.find(['#', '?', '\\', ' ', '\t']).unwrap_or(p.len());
        let cand = &p[..cut];
        if cand.is_empty() {
            continue;
        }
        if let Some(c) = classify(cand, false) {
            if best.is_none_or(|(bc, _, _)| c > bc) {
                let s = h + start + lead;
                best = Some((c, s, s + cut));
            }
        }
    }
    best.map(|(c, s, e)| Finding {
        rule: c.rule(),
        span: s..e,
    })
}

/// Maps one host character to ASCII the way IDNA/NFKC would for the look-alikes attackers
/// use. Returns (chars, enclosed) where `enclosed` marks circled/parenthesised forms.
fn map_host_char(c: char, out: &mut String) -> Option<bool> {
    let u = c as u32;
    let push_num = |n: u32, out: &mut String| out.push_str(&n.to_string());
    match u {
        0x21..=0x7e => out.push((c as u8).to_ascii_lowercase() as char),
        0x3002 | 0xFF61 | 0xFF0E => out.push('.'),
        0xFF01..=0xFF5E => out.push(((u - 0xFEE0) as u8).to_ascii_lowercase() as char),
        0x2460..=0x2473 => {
            push_num(u - 0x2460 + 1, out);
            return Some(true);
        }
        0x24EA | 0x24FF | 0x1F10B | 0x1F10C => {
            out.push('0');
            return Some(true);
        }
        0x24B6..=0x24CF => {
            out.push((b'a' + (u - 0x24B6) as u8) as char);
            return Some(true);
        }
        0x24D0..=0x24E9 => {
            out.push((b'a' + (u - 0x24D0) as u8) as char);
            return Some(true);
        }
        0x24EB..=0x24F4 => {
            push_num(u - 0x24EB + 11, out);
            return Some(true);
        }
        0x24F5..=0x24FE => {
            push_num(u - 0x24F5 + 1, out);
            return Some(true);
        }
        0x2776..=0x277F => {
            push_num(u - 0x2776 + 1, out);
            return Some(true);
        }
        0x2780..=0x2789 => {
            push_num(u - 0x2780 + 1, out);
            return Some(true);
        }
        0x278A..=0x2793 => {
            push_num(u - 0x278A + 1, out);
            return Some(true);
        }
        0x1D7CE..=0x1D7FF => {
            push_num((u - 0x1D7CE) % 10, out);
            return Some(true);
        }
        _ => return None,
    }
    Some(false)
}

/// Classifies one host candidate (may carry `[..]`, a port, a trailing dot).
/// Hosts longer than this (in bytes, before mapping) are no address we classify.
const MAX_HOST: usize = 300;

fn classify(raw: &str, schemeless: bool) -> Option<Class> {
    if raw.len() > MAX_HOST {
        return None;
    }
    if raw.bytes().all(|c| (0x21..=0x7e).contains(&c)) {
        // printable ASCII (most hosts): lower-cased on the stack, which is all the mapping
        // below would do to it
        let mut buf = [0u8; MAX_HOST];
        let host = &mut buf[..raw.len()];
        host.copy_from_slice(raw.as_bytes());
        host.make_ascii_lowercase();
        return classify_ascii(std::str::from_utf8(host).ok()?, schemeless);
    }
    let mut host = String::with_capacity(raw.len());
    let mut enclosed = false;
    for c in raw.chars() {
        match map_host_char(c, &mut host) {
            Some(e) => enclosed |= e,
            None => return None, // IDN or garbage: not an address we know
        }
    }
    let class = classify_ascii(&host, schemeless);
    match class {
        Some(c) => Some(c),
        None if enclosed => Some(Class::Obfuscated),
        None => None,
    }
}

fn classify_ascii(host: &str, schemeless: bool) -> Option<Class> {
    if let Some(inner) = host.strip_prefix('[') {
        let end = inner.find(']')?;
        let inner = &inner[..end];
        let (addr, zone) = match inner.find('%') {
            Some(z) => (&inner[..z], true),
            None => (inner, false),
        };
        let a: std::net::Ipv6Addr = addr.parse().ok()?;
        return classify_v6(a, zone);
    }
    let colons = host.bytes().filter(|&c| c == b':').count();
    if colons >= 2 {
        if schemeless {
            return None;
        }
        // unbracketed IPv6 (some parsers accept it)
        let (addr, zone) = match host.find('%') {
            Some(z) => (&host[..z], true),
            None => (host, false),
        };
        let a: std::net::Ipv6Addr = addr.parse().ok()?;
        return classify_v6(a, zone);
    }
    let name = match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|c| c.is_ascii_digit()) => &host[..i],
        Some(_) => return None,
        None => host,
    };
    let name = name.trim_end_matches('.');
    if name.is_empty() {
        return None;
    }
    if name.as_bytes()[0].is_ascii_digit() {
        if let Some((a, canonical)) = parse_ipv4_any(name) {
            if schemeless && !canonical {
                return None;
            }
            return match classify_v4(a) {
                Some(c) => Some(c),
                None if !canonical => Some(Class::Obfuscated),
                None => None,
            };
        }
    }
    classify_name(name, schemeless)
}

fn classify_v4(a: u32) -> Option<Class> {
    let o = a.to_be_bytes();
    if matches!(
        o,
        [169, 254, 169, 254] | [169, 254, 170, 2] | [100, 100, 100, 200] | [192, 0, 0, 192]
    ) {
        return Some(Class::Metadata);
    }
    let internal = o[0] == 0
        || o[0] == 10
        || o[0] == 127
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 169 && o[1] == 254)
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        || o[0] >= 224;
    internal.then_some(Class::Internal)
}

fn classify_v6(a: std::net::Ipv6Addr, zone: bool) -> Option<Class> {
    let s = a.segments();
    if s == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] {
        return Some(Class::Metadata);
    }
    let v4 = |hi: u16, lo: u16| ((hi as u32) << 16) | lo as u32;
    // IPv4-mapped ::ffff:a.b.c.d and -compatible ::a.b.c.d (not :: and ::1)
    if s[..5] == [0; 5] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(classify_v4(v4(s[6], s[7])).unwrap_or(Class::Obfuscated));
    }
    // NAT64 64:ff9b::/96
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(v4(s[6], s[7]));
    }
    // 6to4 2002:AABB:CCDD::/48
    if s[0] == 0x2002 {
        return classify_v4(v4(s[1], s[2]));
    }
    if zone || (s[0] & 0xe000) != 0x2000 {
        return Some(Class::Internal);
    }
    None
}

/// `inet_aton`-style parse, lax: 1 to 4 parts, each decimal, `0x` hex or `0` octal, the last
/// part filling the remaining bytes; overflow wraps (per byte for leading parts, 32-bit for
/// the last) as lax parsers do. Returns (address, canonical dotted-quad?).
fn parse_ipv4_any(s: &str) -> Option<(u32, bool)> {
    if s.len() > 80 {
        return None;
    }
    let mut vals = [0u128; 4];
    let mut n = 0;
    let mut canonical = true;
    for part in s.split('.') {
        if n == 4 || part.is_empty() {
            return None;
        }
        let (digits, radix) =
            if let Some(r) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (r, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (part, 10)
            };
        if radix != 10 {
            canonical = false;
        }
        if digits.len() > 24 {
            return None;
        }
        vals[n] = if digits.is_empty() {
            0
        } else {
            u128::from_str_radix(digits, radix).ok()?
        };
        n += 1;
    }
    if n != 4 {
        canonical = false;
    }
    let mut addr: u32 = 0;
    for (i, &v) in vals.iter().enumerate().take(n - 1) {
        if v > 255 {
            canonical = false;
        }
        addr |= ((v & 0xff) as u32) << (24 - 8 * i);
    }
    let width = 32 - 8 * (n as u32 - 1);
    let mask: u128 = (1u128 << width) - 1;
    if vals[n - 1] > mask {
        canonical = false;
    }
    addr |= (vals[n - 1] & mask) as u32;
    Some((addr, canonical))
}

fn classify_name(name: &str, schemeless: bool) -> Option<Class> {
    const METADATA: &[&str] = &[
        "metadata.google.internal",
        "metadata.packet.net",
        "metadata.platformequinix.com",
        "metadata.tencentyun.com",
        "instance-data.ec2.internal",
    ];
    // single-label metadata aliases: only with a scheme ("metadata/v1" is also a relative path)
    const METADATA_SHORT: &[&str] = &["metadata", "instance-data", "rancher-metadata"];
    const LOCAL: &[&str] = &[
        "localhost",
        "localhost4",
        "localhost6",
        "ip6-localhost",
        "ipv6-localhost",
        "ip6-loopback",
        "ipv6-loopback",
        "localtest.me",
        "lvh.me",
        "vcap.me",
        "lacolhost.com",
        "localh.st",
        "kubernetes.default",
        "kubernetes.default.svc",
        "broadcasthost",
    ];
    const LOCAL_SUFFIX: &[&str] = &[
        ".localhost",
        ".localdomain",
        ".localdomain4",
        ".localdomain6",
        ".internal",
        ".local",
        ".home.arpa",
        ".localtest.me",
        ".lvh.me",
        ".vcap.me",
        ".lacolhost.com",
        ".localh.st",
    ];
    const WILDCARD_IP: &[&str] = &[".nip.io", ".sslip.io", ".xip.io", ".nip.direct"];
    if !name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_')
    {
        return None;
    }
    if METADATA.contains(&name) || (!schemeless && METADATA_SHORT.contains(&name)) {
        return Some(Class::Metadata);
    }
    if LOCAL.contains(&name) || LOCAL_SUFFIX.iter().any(|s| name.ends_with(s)) {
        return Some(Class::Internal);
    }
    for suf in WILDCARD_IP {
        if let Some(pre) = name.strip_suffix(suf) {
            return embedded_ip(pre).and_then(classify_v4);
        }
    }
    None
}

/// The IPv4 address a wildcard-DNS name embeds: `a.b.c.d`, `a-b-c-d` or 8 hex digits as its
/// last label(s).
fn embedded_ip(pre: &str) -> Option<u32> {
    let labels: Vec<&str> = pre.split('.').collect();
    if labels.len() >= 4 {
        let tail = labels[labels.len() - 4..].join(".");
        if let Ok(a) = tail.parse::<std::net::Ipv4Addr>() {
            return Some(u32::from(a));
        }
    }
    let last = labels.last()?;
    let dashed = last.rsplit('-').take(4).collect::<Vec<_>>();
    if dashed.len() == 4 {
        let q: Vec<&str> = dashed.into_iter().rev().collect();
        if let Ok(a) = q.join(".").parse::<std::net::Ipv4Addr>() {
            return Some(u32::from(a));
        }
    }
    if last.len() == 8 {
        return u32::from_str_radix(last, 16).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Option<&'static str> {
        let f = detect(s)?;
        assert!(
            s.get(f.span.clone()).is_some(),
            "bad span {:?} in {s:?}",
            f.span
        );
        Some(f.rule)
    }

    /// Database connection strings name a host no URL fetcher reaches through them: only a
    /// metadata endpoint counts there; a fetchable URL to the same host still fires.
    #[test]
    fn hosts_are_classified_whatever_their_case_or_spelling() {
        // printable ASCII takes the stack path, the rest the mapping: same classes
        for (a, b) in [
            ("LocalHost", "localhost"),
            ("METADATA.GOOGLE.INTERNAL", "metadata.google.internal"),
            ("０x7F.1", "0x7f.1"),
            ("127.0.0.１", "127.0.0.1"),
            ("[::FFFF:7F00:1]", "[::ffff:7f00:1]"),
            ("Shop.Example", "shop.example"),
        ] {
            assert_eq!(classify(a, false), classify(b, false), "{a} {b}");
        }
        assert!(classify("LocalHost", false).is_some());
        assert_eq!(classify(&"a".repeat(MAX_HOST + 1), false), None);
    }

    #[test]
    fn database_connection_strings() {
        for b in [
            "export DATABASE_URL=postgres://localhost/test and then cargo test",
            "postgresql://app:secret@127.0.0.1:5432/app",
            "REDIS_URL=redis://127.0.0.1:6379/0",
            "mongodb+srv://cluster0.internal/db",
            "mysql://root@10.0.0.5/shop",
        ] {
            assert_eq!(detect(b), None, "{b}");
        }
        for (a, rule) in [
            ("mysql://169.254.169.254/latest", "ssrf-metadata"),
            ("redis://metadata.google.internal/", "ssrf-metadata"),
            ("http://localhost/admin", "ssrf-internal-host"),
            (
                "postgres://x@y/ then http://127.0.0.1:6379/",
                "ssrf-internal-host",
            ),
        ] {
            assert_eq!(detect(a).map(|f| f.rule), Some(rule), "{a}");
        }
    }

    #[test]
    fn metadata() {
        for s in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254/computeMetadata/v1/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://metadata/computeMetadata/v1/",
            "https://metadata.packet.net/userdata",
            "http://100.100.100.200/latest/meta-data/",
            "http://192.0.0.192/latest/",
            "http://[fd00:ec2::254]/latest/",
            "http://2852039166/",
            "http://7147006462/",
            "http://0xA9.0xFE.0xA9.0xFE/",
            "http://0xA9FEA9FE/",
            "http://0x41414141A9FEA9FE/",
            "http://0251.0376.0251.0376/",
            "http://0251.00376.000251.0000376/",
            "http://169.254.43518/",
            "http://169.16689662/",
            "http://425.510.425.510/",
            "http://[::ffff:a9fe:a9fe]",
            "http://[0:0:0:0:0:ffff:169.254.169.254]",
            "http://[0:0:0:0:0:0:169.254.169.254]",
            "http://169.254.169.254.nip.io/latest/",
            "http://169\u{3002}254\u{3002}169\u{3002}254/",
            "imap://\u{2460}\u{2465}\u{2468}.\u{2461}\u{2464}\u{2463}.\u{2460}\u{2465}\u{2468}.\u{2461}\u{2464}\u{2463}",
            "http://\u{246F}\u{2468}\u{FF61}\u{2461}\u{2464}\u{2463}\u{FF61}\u{246F}\u{2468}\u{FF61}\u{2461}\u{2464}\u{2463}",
            "http:2852039166",
            "http:/2852039166",
            "http:[::ffff:a9fe:a9fe]",
            "xri://[0:0:0:0:0:ffff:169.254.169.254]",
            "//169.254.169.254/latest",
        ] {
            assert_eq!(rule(s), Some("ssrf-metadata"), "{s:?}");
        }
    }

    #[test]
    fn internal() {
        for s in [
            "http://127.0.0.1/",
            "http://localhost:8080/admin",
            "http://LOCALHOST/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "ssh://0177.00.00.01",
            "rtmp://017700000001",
            "http://127.1/",
            "http://0/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[0:0:0:0:0:ffff:7f00:1]/",
            "http://[fe80::1%25eth0]/",
            "http://[fe80::%zone1]",
            "http://[a::b]",
            "http://[dead:beef:dead::beef:dead:beef:dead]",
            "http://admin.localhost/",
            "http://127.0.0.1.nip.io/",
            "http://10-0-0-1.sslip.io/",
            "http://good.com@127.0.0.1/",
            "http://127.0.0.1#@good.com/",
            "http://127.0.0.1\\@good.com/",
            "http://google.com:80 &@127.88.23.245:22/# @google.com:80/",
            "http://google.com:80 &@google.com:80# @127.88.23.245:22/",
            "http://\\\\l\\\\o\\\\c\\\\a\\\\l\\\\h\\\\o\\\\s\\\\t/",
            "irc://\u{24DB}\u{24DE}\u{24D2}\u{24D0}\u{24DB}\u{24D7}\u{24DE}\u{24E2}\u{24E3}",
            "pop3://\u{24C1}\u{24C4}\u{24B8}\u{24B6}\u{24C1}\u{24BD}\u{24C4}\u{24C8}\u{24C9}",
            "acap://\u{2460}\u{2461}\u{2466}.\u{24EA}.\u{24EA}.\u{2460}",
            "http://192.168.1.1:8080/cgi-bin/",
            "http://10.0.0.5/",
            "http://172.16.0.1/",
            "localhost/",
            "LOCALHOST/",
            "localhost:3000/api",
            "localhost.localdomain/",
            "localhost4/",
            "ip6-loopback/",
            "host.docker.internal/",
            "kubernetes.default.svc.cluster.local/",
            "localtest.me/",
            "lvh.me/",
            "127.0.0.1/admin",
            "[::1]/x",
            "http:127.0.0.1",
            "http://127.0.0.1:2375/containers/json",
            "ldap://127.0.0.1/",
            "url=http://127.0.0.1/x",
            "{\"u\":\"http://169.254.169.254/\"}",
        ] {
            let r = rule(s);
            assert!(
                matches!(r, Some("ssrf-internal-host") | Some("ssrf-metadata")),
                "{s:?} -> {r:?}"
            );
        }
    }

    #[test]
    fn obfuscated_and_scheme() {
        for (s, r) in [
            ("http:123456789", "ssrf-obfuscated-host"),
            ("http://0x08080808/", "ssrf-obfuscated-host"),
            (
                "http://\\\\g\\\\o\\\\o\\\\g\\\\l\\\\e.\\\\c\\\\o\\\\m/",
                "ssrf-obfuscated-host",
            ),
            ("gopher://google.com/_SSRFTest!", "ssrf-scheme"),
            ("dict://evil.example:11211/stat", "ssrf-scheme"),
            ("tftp://evil.example/x", "ssrf-scheme"),
        ] {
            assert_eq!(rule(s), Some(r), "{s:?}");
        }
    }

    #[test]
    fn benign() {
        for s in crate::waf::tests::NEAR_MISSES.iter().copied().chain([
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            r#"{"name": "x", "url": "https://cdn.example.com/a.png"}"#,
            "localhost",
            "localhost:3000",
            "127.0.0.1",
            "127.0.0.1:8080",
            "10.0.0.1, 192.168.1.5",
            "10.0.0.0/8",
            "192.168.0.0/16",
            "10.0.0.0/8, 172.16.0.0/12",
            "1/26/11",
            "9/PLUGS AND TUNNELS",
            "http://8.8.8.8/",
            "https://[2001:db8::1]/",
            "https://example.com:8443/path",
            "http://www.example.com/some/path",
            "mylocalhost",
            "example.com/",
            "metadata/v1/items",
            "time: 10:30",
            "note: see http://example.com",
            "mailto:bob@localhost",
            "http://münchen.de/",
            "https://www.google.com/search?q=localhost",
            "ftp://ftp.example.org/pub/",
            "ldap://ldap.example.com:389/dc=example,dc=com",
            "sftp://files.example.com/upload",
            "urn:isbn:0451450523",
            "12:34:56",
            "2001:db8::1",
            "http://1.2.3.4.example.com/",
            "https://localhost.example.com/",
        ]) {
            assert_eq!(rule(s), None, "{s:?}");
        }
    }

    #[test]
    fn inet_aton() {
        assert_eq!(parse_ipv4_any("127.0.0.1"), Some((0x7f000001, true)));
        assert_eq!(parse_ipv4_any("127.1"), Some((0x7f000001, false)));
        assert_eq!(parse_ipv4_any("0x7f.1"), Some((0x7f000001, false)));
        assert_eq!(parse_ipv4_any("017700000001"), Some((0x7f000001, false)));
        assert_eq!(parse_ipv4_any("0"), Some((0, false)));
        assert_eq!(parse_ipv4_any("1.2.3.4.5"), None);
        assert_eq!(parse_ipv4_any("08.1.1.1"), None);
        assert_eq!(parse_ipv4_any("1..2"), None);
        assert_eq!(parse_ipv4_any("99999999999999999999999999999"), None);
    }

    #[test]
    fn no_panic_on_weird_input() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet: &[&str] = &[
            "http",
            ":",
            "/",
            "\\",
            "@",
            "#",
            "?",
            "[",
            "]",
            "%",
            "0x",
            "0",
            "1",
            "9",
            ".",
            "ffff",
            "::",
            "\u{3002}",
            "\u{2460}",
            "\u{24EA}",
            "\u{FF10}",
            "é",
            " ",
            "localhost",
            "nip.io",
            "-",
            "\u{FFFD}",
        ];
        for len in 0..400 {
            let mut s = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(alphabet[(seed >> 40) as usize % alphabet.len()]);
            }
            if let Some(f) = detect(&s) {
                assert!(s.get(f.span).is_some());
            }
        }
        for s in [
            ":",
            "://",
            "http:",
            "http://",
            "http://[",
            "http://[]",
            "//",
            "\\\\",
            "a:/",
            "[::1",
            "é:/é",
        ] {
            let _ = detect(s);
        }
    }
}
