//! Paranoia level 2 rule `lfi-rfi-pl2-offsite`, modelled on CRS 931130 ("Off-Domain
//! Reference/Link"): a value that is a URL, with one of the schemes CRS lists (`http`, `ftp`,
//! `gopher`, `ldap`, `jar:`/`url:` prefixed...), whose host is not the request's `Host` nor a
//! subdomain of it. As in CRS, the host is what follows the first `@` of the URL when there is
//! one (`http://example.com/:x@evil.com/`, the decoded form of `example.com%2f:x@evil.com`,
//! reaches `evil.com` in parsers that split at the last `@`), and an explicit port other than
//! the request's (or the scheme's default) makes the URL off-site.
//!
//! Where it differs from CRS, and why:
//! * The value must *be* the URL (after leading blanks, up to the end, with no blank inside):
//!   that is what an include parameter carries. CRS matches a URL anywhere, which flags every
//!   user agent with a `+http://…/bot.html` link and every comment with a link in it.
//! * No request `Host` (an HTTP/1.0 request): nothing to compare with, so nothing fires; CRS
//!   compares with an empty host and flags every URL.
//! * An empty host (`file:///etc/passwd`) is local, not off-site: the level 1 rules judge the
//!   path.
//!
//! What it fires on: every URL parameter pointing to another site — `next=https://accounts.
//! google.com/…`, share links, OAuth `redirect_uri`, webhook URLs, a profile's home page —
//! and our own URLs with an `@` in the path (`/@user`). That is what CRS level 2 does, and why
//! the rule is level 2 only; the scan keeps it off headers (`Referer`, `Origin`).

use super::rfi::host_name;
use crate::waf::Finding;

/// Rule id of the off-site URL rule.
pub(super) const R_PL2_OFFSITE: &str = "lfi-rfi-pl2-offsite";

/// URL schemes of CRS 931130 (lower case).
const SCHEMES: &[&str] = &[
    "acap",
    "afp",
    "afs",
    "attachment",
    "beshare",
    "bitcoin",
    "blob",
    "callto",
    "cap",
    "cid",
    "cvs",
    "compress.zlib",
    "compress.bzip2",
    "dav",
    "data",
    "dict",
    "dns",
    "dntp",
    "ed2k",
    "expect",
    "fd",
    "feed",
    "file",
    "finger",
    "fish",
    "ftp",
    "ftps",
    "git",
    "go",
    "gopher",
    "glob",
    "h323",
    "http",
    "https",
    "iax",
    "icap",
    "imap",
    "imaps",
    "ipp",
    "ipps",
    "irc",
    "irc6",
    "ircs",
    "jar",
    "jabber",
    "ldap",
    "ldapi",
    "ldaps",
    "local_file",
    "mailto",
    "maven",
    "mms",
    "mumble",
    "netdoc",
    "news",
    "nfs",
    "ntp",
    "ntps",
    "ogg",
    "paparazzi",
    "phar",
    "php",
    "pop2",
    "pop3",
    "pop3s",
    "pres",
    "proxy",
    "psyc",
    "rmi",
    "rsync",
    "rtm",
    "rtmp",
    "rtmfp",
    "rar",
    "s3",
    "sftp",
    "sip",
    "sips",
    "smb",
    "sms",
    "smtp",
    "smtps",
    "snews",
    "snmp",
    "ssh",
    "ssh2",
    "ssh2.shell",
    "ssh2.sftp",
    "ssh2.scp",
    "ssh2.exec",
    "ssh2.tunnel",
    "svn",
    "svn+ssh",
    "teamspeak",
    "telnet",
    "tftp",
    "turn",
    "turns",
    "udp",
    "unreal",
    "ut2004",
    "ventrilo",
    "view-source",
    "vnc",
    "webcal",
    "ws",
    "wss",
    "xmpp",
    "xri",
    "zip",
];

/// Longest scheme in [`SCHEMES`] plus an optional `url:`/`jar:` prefix.
const MAX_SCHEME: usize = 16;

/// `lfi-rfi-pl2-offsite` on one value; `host` is the request's `Host` (with its port, if any).
pub(super) fn offsite_url(input: &str, host: &str) -> Option<Finding> {
    let req_name = host_name(host);
    let (_, req_port) = split_port(host);
    if req_name.is_empty() {
        return None;
    }
    let lead = input.len() - input.trim_start().len();
    let t = input[lead..].trim_end();
    let tb = t.as_bytes();
    if tb.len() < 6 || tb.iter().any(u8::is_ascii_whitespace) {
        return None;
    }
    let sep = memchr::memmem::find(&tb[..tb.len().min(MAX_SCHEME + 8)], b"://")?;
    let mut scheme = &t[..sep];
    for prefix in ["url:", "jar:"] {
        // bytes, not `str` slices: the scheme part may hold any character (`htt€e`)
        let sb = scheme.as_bytes();
        if sb.len() > prefix.len() && sb[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()) {
            // after the ASCII prefix: a char boundary
            scheme = &scheme[prefix.len()..];
            break;
        }
    }
    if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return None;
    }
    let a = sep + 3;
    // the URL up to its query or fragment; CRS's `(?:[^@]+@)?` ends the user-info at the
    // first `@`, wherever it is
    let url_end = tb[a..]
        .iter()
        .position(|&c| matches!(c, b'?' | b'#'))
        .map_or(tb.len(), |p| a + p);
    let h = match memchr::memchr(b'@', &tb[a..url_end]) {
        Some(p) => a + p + 1,
        None => a,
    };
    let host_len = tb[h..url_end]
        .iter()
        .position(|&c| matches!(c, b'/' | b'\\'))
        .unwrap_or(url_end - h);
    let authority = &t[h..h + host_len];
    let name = host_name(authority);
    if name.is_empty() {
        return None;
    }
    let (_, url_port) = split_port(authority);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    };
    let same_port = match (url_port, req_port) {
        (None, None) => true,
        (Some(u), Some(r)) => u == r,
        (Some(u), None) | (None, Some(u)) => default == Some(u),
    };
    let ours = name.eq_ignore_ascii_case(req_name)
        || (name.len() > req_name.len()
            && name.as_bytes()[name.len() - req_name.len() - 1] == b'.'
            && name[name.len() - req_name.len()..].eq_ignore_ascii_case(req_name));
    if ours && same_port {
        return None;
    }
    Some(Finding {
        rule: R_PL2_OFFSITE,
        span: lead..lead + h + host_len,
    })
}

/// `host[:port]` (or `[v6]:port`) split at the port, when there is a numeric one.
fn split_port(hp: &str) -> (&str, Option<&str>) {
    match hp.rsplit_once(':') {
        Some((h, p))
            if !p.is_empty()
                && p.bytes().all(|c| c.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']')) =>
        {
            (h, Some(p))
        }
        _ => (hp, None),
    }
}
