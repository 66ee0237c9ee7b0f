//! Remote file inclusion (`lfi-rfi-*`): URLs with a public IP host, the trailing `?`
//! include-suffix trick, register_globals parameter names, and the off-site include subset
//! ([`detect_offsite`]).

use crate::waf::Finding;

/// Is this IPv4 address internal (left to the ssrf detector)?
pub(super) fn v4_internal(a: std::net::Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || o[0] >= 224
}

pub(super) fn rfi(input: &str) -> Option<Finding> {
    let lead = match input.as_bytes().first() {
        Some(c) if c.is_ascii_alphabetic() => 0,
        _ => input.len() - input.trim_start().len(),
    };
    let t = &input.as_bytes()[lead..];
    // scheme: file, ftp, ftps, http, https
    let mut w = [0u8; 5];
    for (d, s) in w.iter_mut().zip(t) {
        *d = s.to_ascii_lowercase();
    }
    let n = match &w {
        b"https" => 5,
        [b'f', b't', b'p', b's', _] | [b'h', b't', b't', b'p', _] | [b'f', b'i', b'l', b'e', _] => {
            4
        }
        [b'f', b't', b'p', _, _] => 3,
        _ => return None,
    };
    let rest = &t[n..];
    // trailing-question-mark include trick: "<scheme>?" or "<scheme>:[//]…?" with one '?' run
    let body = input[lead..].trim_end().as_bytes();
    if body.ends_with(b"?") && body.len() >= n {
        let mut k = body.len();
        while k > n && body[k - 1] == b'?' {
            k -= 1;
        }
        let mid = &body[n..k];
        let ok = mid.is_empty()
            || (mid[0] == b':' && !mid.iter().any(|&c| c == b'?' || c.is_ascii_whitespace()));
        if ok {
            return Some(Finding {
                rule: "lfi-rfi-trailing-qmark",
                span: lead..lead + body.len(),
            });
        }
    }
    if !rest.starts_with(b"://") {
        return None;
    }
    let a = n + 3;
    // authority up to '/', '?', '#' or a blank (at most 300 bytes looked at); host after the
    // last '@'. One loop, which also notes whether a ':' occurs (an IPv6 host needs one).
    let mut auth_len = t.len() - a;
    let mut at = 0;
    let mut any_colon = false;
    // one table lookup and one (rarely taken) branch per byte
    static AUTH: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 8 {
            t[b"/?# \t\n\r\x0c"[i] as usize] = 1;
            i += 1;
        }
        t[b'@' as usize] = 2;
        t[b':' as usize] = 3;
        t
    };
    for (i, &c) in t[a..].iter().take(300).enumerate() {
        match AUTH[c as usize] {
            0 => {}
            1 => {
                auth_len = i;
                break;
            }
            2 => at = i + 1,
            _ => any_colon = true,
        }
    }
    let auth = &input[lead + a..lead + a + auth_len];
    let host = &auth[at.min(auth.len())..];
    // an IP literal ends in a digit (IPv4, with or without port) or holds a ':' (IPv6)
    if !(any_colon || host.as_bytes().last().is_some_and(u8::is_ascii_digit)) {
        return None;
    }
    let public_ip = if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.split(']').next().unwrap_or(inner);
        let inner = inner.split('%').next().unwrap_or(inner);
        inner
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|a| (a.segments()[0] & 0xe000) == 0x2000)
    } else if let Ok(a) = host.parse::<std::net::Ipv6Addr>() {
        (a.segments()[0] & 0xe000) == 0x2000
    } else {
        let h = match host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| !v4_internal(a))
    };
    public_ip.then(|| Finding {
        rule: "lfi-rfi-ip-host",
        span: lead..lead + a + auth_len,
    })
}

/// Off-site remote inclusion (a safe subset of CRS 931130, rule `lfi-rfi-offsite`), for query
/// and body values: `host` is the request's `Host` header (a port is ignored; empty when the
/// request has none, and then every host counts as off-site). Fires on a value that *is* an
/// `http(s)`/`ftp(s)` URL whose host is neither `host` nor a subdomain or parent domain of it,
/// and either
/// * whose last path segment names a file the remote server would hand over as source text
///   (`.txt`, `.inc`, `.sh`, `.pl`, `.py`, `.pm`, `.cgi`, `.phtml`, `.php` followed by a `?`,
///   `#` or NUL suffix…; see `OFFSITE_EXT`): what an include of a remote file needs, and not what
///   share links, OAuth `redirect_uri`s or webhook URLs look like; or
/// * whose user-info is `host` itself (`https://shop.example@evil.example/`): a link disguised
///   as ours, which no legitimate URL is.
///
/// Deliberately not flagged (CRS PL2 does): any other off-site URL (`next=https://accounts.
/// google.com/…`, share links, webhooks ending in `.php`), a different port, look-alike hosts
/// (`example.com.s3.amazonaws.com` is a real bucket), `@` inside the path (Mastodon
/// `/@user@instance`), bare `ftp://host` (backup settings forms).
pub fn detect_offsite(input: &str, host: &str) -> Option<Finding> {
    let b = input.as_bytes();
    if b.len() < 10 || memchr::memchr(b':', &b[..b.len().min(40)]).is_none() {
        return None;
    }
    let lead = input.len() - input.trim_start().len();
    let t = &input[lead..];
    let tb = t.as_bytes();
    let pre = |p: &[u8]| tb.len() >= p.len() && tb[..p.len()].eq_ignore_ascii_case(p);
    if !(pre(b"https://") || pre(b"http://") || pre(b"ftp://") || pre(b"ftps://")) {
        return None;
    }
    let a = tb.iter().position(|&c| c == b':')? + 3;
    let auth_len = tb[a..]
        .iter()
        .take(300)
        .position(|&c| matches!(c, b'/' | b'?' | b'#' | b'\\' | 0) || c.is_ascii_whitespace())
        .unwrap_or(tb.len() - a);
    let auth = &t[a..a + auth_len];
    let (userinfo, hostport) = match auth.rfind('@') {
        Some(i) => (Some(&auth[..i]), &auth[i + 1..]),
        None => (None, auth),
    };
    let url_host = host_name(hostport);
    let req_host = host_name(host);
    if url_host.is_empty() || same_site(url_host, req_host) {
        return None;
    }
    let span_to = |e: usize| Finding {
        rule: "lfi-rfi-offsite",
        span: lead..lead + e,
    };
    // user-info naming our host: "https://shop.example@evil.example/"
    if let Some(ui) = userinfo {
        let name = ui.split(':').next().unwrap_or(ui);
        if !req_host.is_empty() && host_name(name).eq_ignore_ascii_case(req_host) {
            return Some(span_to(a + auth_len));
        }
    }
    // last path segment and what follows it
    let rest = &tb[a + auth_len..];
    if rest.first() != Some(&b'/') {
        return None;
    }
    let path_len = rest
        .iter()
        .position(|&c| matches!(c, b'?' | b'#' | 0) || c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let path = &rest[..path_len];
    let seg = &path[path.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1)..];
    let dot = seg.iter().rposition(|&c| c == b'.')?;
    let ext = &seg[dot + 1..];
    if dot == 0 || ext.is_empty() || ext.len() > 6 {
        return None;
    }
    let mut buf = [0u8; 6];
    buf[..ext.len()].copy_from_slice(ext);
    buf.make_ascii_lowercase();
    let ext = &buf[..ext.len()];
    let suffix = &rest[path_len..];
    let tail_ok = |strict: bool| {
        let s = suffix.trim_ascii_end();
        if s.iter().any(u8::is_ascii_whitespace) {
            // the value is more than one URL (text around a link)
            false
        } else if strict {
            // a server-side script: only with a truncation suffix ("?", "#", NUL) and nothing
            // after it, so the include's appended extension is cut off
            matches!(s, [b'?' | b'#' | 0, ..] if s[1..].iter().all(|&c| matches!(c, b'?' | b'#' | 0)))
        } else {
            true
        }
    };
    let hit = match OFFSITE_EXT.iter().find(|(e, _)| e.as_bytes() == ext) {
        Some(&(_, strict)) => tail_ok(strict),
        None => false,
    };
    hit.then(|| span_to(a + auth_len + path_len))
}

/// Extensions for [`detect_offsite`]: `(ext, strict)`. Non-strict: files served as source
/// text, which is what a remote include fetches (`shell.txt`, `c99.inc`); a query may follow
/// (`shell.txt?cmd=id`). Strict: server-side scripts, flagged only with a truncation suffix and
/// nothing else after the path (`crash.php?`, `x.php%00`) — a bare `https://other/ipn.php` is a
/// payment or webhook URL.
pub(super) const OFFSITE_EXT: &[(&str, bool)] = &[
    ("txt", false),
    ("inc", false),
    ("sh", false),
    ("pl", false),
    ("pm", false),
    ("py", false),
    ("cgi", true),
    ("php", true),
    ("php3", true),
    ("php4", true),
    ("php5", true),
    ("phtml", true),
    ("jsp", true),
    ("asp", true),
    ("aspx", true),
];

/// Host name of a `host[:port]` / `[v6]:port` authority, without port, brackets or final dot.
pub(super) fn host_name(hp: &str) -> &str {
    let h = if let Some(inner) = hp.strip_prefix('[') {
        inner.split(']').next().unwrap_or(inner)
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
            _ => hp,
        }
    };
    h.trim_end_matches('.')
}

/// Same site: equal, or one a subdomain of the other (ASCII case-insensitive). An empty
/// request host matches nothing.
pub(super) fn same_site(url: &str, req: &str) -> bool {
    if req.is_empty() {
        return false;
    }
    let sub = |a: &str, b: &str| {
        a.len() > b.len()
            && a.as_bytes()[a.len() - b.len() - 1] == b'.'
            && a.as_bytes()[a.len() - b.len()..].eq_ignore_ascii_case(b.as_bytes())
    };
    url.eq_ignore_ascii_case(req) || sub(url, req) || sub(req, url)
}

/// A value that is a register_globals include variable name (CRS 931110's parameter list).
pub(super) fn global_param(input: &str) -> Option<Finding> {
    const NAMES: &[&str] = &[
        "mosconfig_absolute_path",
        "_conf[path]",
        "_server[document_root]",
        "gallery_basedir",
        "path[docroot]",
        "appserv_root",
        "config[root_dir]",
    ];
    let t = input.trim();
    if t.len() < 10 || t.len() > 32 || !t.contains(['_', '[']) {
        return None;
    }
    if NAMES.iter().any(|n| t.eq_ignore_ascii_case(n)) {
        let s = input.len() - input.trim_start().len();
        return Some(Finding {
            rule: "lfi-rfi-global-param",
            span: s..s + t.len(),
        });
    }
    None
}
