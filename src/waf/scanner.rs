//! Security-scanner recognition: `app.sqreen.http.scanner`.
//!
//! Two independent signals, both cheap and list-driven:
//!
//! * **User-Agent** ([`detect_user_agent`]): the tokens of security tools the crate ships
//!   (`lists::SCANNER_USER_AGENTS`: SQL injection and XSS tools, content discovery, CMS and
//!   vulnerability scanners, internet-wide scanners, ...) matched as case-insensitive
//!   substrings, the way OWASP CRS rule 913100 matches its own list. Generic HTTP clients
//!   (`curl`, `Wget`, `python-requests`, `Go-http-client`, `libwww-perl`) and search-engine
//!   crawlers are deliberately *not* scanners: they are used by legitimate integrations.
//! * **Probe path** ([`detect_probe_path`]): the request path names a file or endpoint that
//!   scanners probe for. The WAF only counts this when the response is a 404, so the list may
//!   be broad. It is the crate's sensitive-file list (`lists::sensitive_files`, every scope, and
//!   SQL dump names) matched as a case-insensitive substring of the decoded path after Windows
//!   path normalisation (`\` → `/`, `//` → `/`, `/./` → `/`), as CRS rule 930130 matches its
//!   list, plus common admin/debug/CMS/appliance probe paths ([`EXTRA_PROBE_PATHS`]) and the
//!   paths of exploit campaigns (`lists::CAMPAIGN_PROBE_PATHS`: router and IoT endpoints, log
//!   files, plugin connectors, Exchange chains, dropped webshells) matched on
//!   path-segment boundaries so that `/consoles` does not match `/console`, and any hidden
//!   segment but `/.well-known/`.
//!
//! Known gaps: scanners that send a browser User-Agent (most of them can) are invisible to the
//! UA signal; the probe-path signal depends on the application answering 404.
use super::{lists, Finding};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::LazyLock;

/// Rule ids this module can report.
pub const RULES: &[&str] = &[
    "scanner-user-agent",
    "scanner-probe-restricted-file",
    "scanner-probe-path",
    "scanner-probe-hidden",
];

/// Common probe paths (beyond the sensitive files) that scanners request on every host:
/// CMS admin and install pages, database admin tools, server status pages, framework debug
/// endpoints, appliance login pages, CGI and backup archives. Matched case-insensitively on the
/// normalised path; an entry ending in a letter or digit must end at a segment boundary.
pub const EXTRA_PROBE_PATHS: &[&str] = &[
    // WordPress / Joomla / Drupal and other CMS
    "/wp-login.php",
    "/wp-admin",
    "/wp-includes/",
    "/xmlrpc.php",
    "/wp-json/wp/v2/users",
    "/administrator/index.php",
    "/user/register?element_parents",
    "/install.php",
    "/installer.php",
    "/setup.php",
    "/setup-config.php",
    // database admin tools
    "/phpmyadmin",
    "/pma/",
    "/myadmin",
    "/mysqladmin",
    "/adminer.php",
    "/dbadmin",
    "/sqlitemanager",
    // generic admin / debug / info pages
    "/admin.php",
    "/phpinfo",
    "/info.php",
    "/test.php",
    "/shell.php",
    "/cmd.php",
    "/c99.php",
    "/r57.php",
    "/eval-stdin.php",
    "/vendor/phpunit",
    "/_ignition/execute-solution",
    "/telescope/requests",
    "/_profiler",
    "/app_dev.php",
    "/elmah.axd",
    "/trace.axd",
    // server / runtime status and management consoles
    "/server-status",
    "/server-info",
    "/cgi-bin/",
    "/actuator",
    "/jolokia",
    "/manager/html",
    "/host-manager/",
    "/jmx-console",
    "/web-console",
    "/invoker/jmxinvokerservlet",
    "/console/login",
    "/solr/admin",
    "/druid/index.html",
    "/nacos/",
    "/api/jsonws/invoke",
    "/debug/pprof",
    "/debug/vars",
    "/metrics/v1",
    // version control / secrets / backups
    "/.git/",
    "/.git/config",
    "/.git/head",
    "/.svn/",
    "/.hg/",
    "/.bzr/",
    "/.env",
    "/.aws/credentials",
    "/.ssh/",
    "/backup.zip",
    "/backup.tar.gz",
    "/backup.sql",
    "/dump.sql",
    "/database.sql",
    "/db.sql",
    "/site.tar.gz",
    "/www.zip",
    "/sftp-config.json",
    // network appliances and IoT exploits seen in the wild
    "/hnap1",
    "/boaform/",
    "/setup.cgi",
    "/goform/",
    "/remote/login",
    "/+cscoe+/",
    "/dana-na/",
    "/owa/auth/",
    "/autodiscover/autodiscover.xml",
    "/ecp/",
    "/mgmt/tm/",
    "/vpn/index.html",
    "/global-protect/",
    "/sslvpn",
    "/cgi/login.cgi",
    "/stalker_portal",
    "/portal/redlion",
    "/geoserver/",
];

static UA_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(lists::scanner_user_agents())
        .expect("static scanner UA patterns")
});

/// The sensitive file names ([`lists::sensitive_files`], every scope) and SQL dump names,
/// which come first in [`PROBE_AC`].
fn restricted_files() -> Vec<String> {
    let mut pats: Vec<String> = lists::sensitive_files().map(|(e, _)| e).collect();
    pats.extend(lists::SQL_DUMP_SUFFIXES.iter().map(|s| format!(".sql.{s}")));
    pats
}

/// Number of sensitive file patterns (they come first in [`PROBE_AC`]).
static N_RESTRICTED: LazyLock<usize> = LazyLock::new(|| restricted_files().len());

static PROBE_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let mut pats = restricted_files();
    pats.extend(EXTRA_PROBE_PATHS.iter().map(|p| p.to_string()));
    pats.extend(lists::campaign_probe_paths().map(str::to_owned));
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(pats)
        .expect("static probe path patterns")
});

/// Builds this detector's tables now (user-agent and probe-path automata), so that the first request to need
/// them does not spend its time budget on it.
pub(crate) fn warm_up() {
    LazyLock::force(&UA_AC);
    LazyLock::force(&N_RESTRICTED);
    LazyLock::force(&PROBE_AC);
}

/// A known security scanner's User-Agent (`lists::SCANNER_USER_AGENTS`), matched as a
/// case-insensitive substring. `span` is the matched token.
pub fn detect_user_agent(ua: &str) -> Option<Finding> {
    if ua.len() < 3 {
        return None;
    }
    // Bound the work on absurd headers: scanner tokens are near the start in practice, but we
    // scan everything up to 8 KiB (header values larger than that are already abnormal).
    let hay = prefix_at_char_boundary(ua, 8192);
    UA_AC.find(hay).map(|m| Finding {
        rule: "scanner-user-agent",
        span: m.start()..m.end(),
    })
}

/// The request path is a known scanner probe: a sensitive file (`.env`, `.git/`,
/// `wp-config.`, `/proc/`, ...) anywhere in the decoded, Windows-normalised path, or one of
/// [`EXTRA_PROBE_PATHS`] (`/wp-login.php`, `/phpmyadmin`, `/server-status`, `/actuator`, ...).
/// The WAF counts it only when the response is a 404. `span` is in `path`.
pub fn detect_probe_path(path: &str) -> Option<Finding> {
    if path.len() < 2 {
        return None;
    }
    let path = prefix_at_char_boundary(path, 8192);
    let (norm, offs) = normalize_path(path);
    let n_restricted = *N_RESTRICTED;
    for m in PROBE_AC.find_overlapping_iter(norm.as_str()) {
        let idx = m.pattern().as_usize();
        let pat_last = norm.as_bytes()[m.end() - 1];
        if idx >= n_restricted && pat_last.is_ascii_alphanumeric() {
            // extra probe paths must end on a segment boundary
            if let Some(&next) = norm.as_bytes().get(m.end()) {
                if next.is_ascii_alphanumeric() || next == b'_' || next == b'-' {
                    continue;
                }
            }
        }
        let start = offs[m.start()];
        let end = offs[m.end()];
        let rule = if idx < n_restricted {
            "scanner-probe-restricted-file"
        } else {
            "scanner-probe-path"
        };
        return Some(Finding {
            rule,
            span: start..end,
        });
    }
    // any hidden segment other than /.well-known/ (AI assistant and tool dot-directories,
    // editor folders, VCS metadata not in the lists above)
    let nb = norm.as_bytes();
    for i in memchr::memmem::find_iter(nb, b"/.") {
        let s = i + 1;
        let Some(&c) = nb.get(s + 1) else { continue };
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let mut e = s + 1;
        while e < nb.len() && nb[e] != b'/' && nb[e] != b'?' {
            e += 1;
        }
        if nb[s..e].eq_ignore_ascii_case(b".well-known") {
            continue;
        }
        return Some(Finding {
            rule: "scanner-probe-hidden",
            span: offs[s]..offs[e],
        });
    }
    None
}

/// `s` cut to at most `max` bytes, on a char boundary.
fn prefix_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Windows path normalisation as CRS `t:normalizePathWin` does it, simplified: `\` → `/`,
/// runs of `/` collapsed, `/./` segments dropped. Returns the normalised text and, for each
/// byte of it (plus one past the end), the offset of the source byte in `path` (always a char
/// boundary, since only ASCII bytes are dropped or changed).
fn normalize_path(path: &str) -> (String, Vec<usize>) {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut offs = Vec::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let c = if b[i] == b'\\' { b'/' } else { b[i] };
        if c == b'/' {
            if out.last() == Some(&b'/') {
                i += 1;
                continue;
            }
            // drop a "/." segment followed by another separator
            if b.get(i + 1) == Some(&b'.') && matches!(b.get(i + 2), Some(b'/') | Some(b'\\')) {
                i += 2;
                continue;
            }
        }
        out.push(c);
        offs.push(i);
        i += 1;
    }
    offs.push(b.len());
    // Only ASCII bytes were replaced or dropped, whole UTF-8 sequences were copied.
    let norm = String::from_utf8(out).unwrap_or_default();
    (norm, offs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const FIREFOX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

    #[test]
    fn scanner_user_agents() {
        for ua in [
            "sqlmap/1.7.2#stable (https://sqlmap.org)",
            "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
            "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
            "Fuzz Faster U Fool v2.1.0-dev",
            "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
            "gobuster/3.6",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
            "Mozilla/5.0 zgrab/0.x",
            "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
            "Mozilla/5.0 Jaeles (github.com/jaeles-project/jaeles)",
        ] {
            assert!(detect_user_agent(ua).is_some(), "{ua}");
        }
    }

    #[test]
    fn every_listed_ua_entry_inside_a_browser_ua() {
        for e in lists::scanner_user_agents() {
            let ua = format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) {e} AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
            let f = detect_user_agent(&ua).unwrap_or_else(|| panic!("{e}"));
            assert_eq!(f.rule, "scanner-user-agent");
            assert!(ua.get(f.span.clone()).is_some());
        }
    }

    #[test]
    fn benign_user_agents() {
        for ua in [
            CHROME,
            FIREFOX,
            "Mozilla/5.0",
            "curl/8.4.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "python-httpx/0.25.0",
            "Go-http-client/1.1",
            "libwww-perl/6.72",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "okhttp/4.12.0",
            "axios/1.6.2",
            "PostmanRuntime/7.36.0",
            "",
        ] {
            assert!(detect_user_agent(ua).is_none(), "{ua}");
        }
    }

    #[test]
    fn probe_paths() {
        for p in [
            "/.env",
            "/.git/config",
            "/wp-login.php",
            "/wp-admin/install.php",
            "/phpmyadmin/index.php",
            "/PHPMyAdmin/",
            "/admin.php",
            "/server-status",
            "/cgi-bin/test.cgi",
            "/actuator/health",
            "/.aws/credentials",
            "/app\\.env",
            "//.git//HEAD",
            "/wp-config.php.bak",
            "/backup.sql.gz",
            "/proc/self/environ",
            "/.DS_Store",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
            "/.claude/settings.json",
            "/.n8n/config",
        ] {
            assert!(detect_probe_path(p).is_some(), "{p}");
        }
    }

    #[test]
    fn every_restricted_entry_as_path() {
        for (e, _) in lists::sensitive_files() {
            let p = format!("/{e}");
            assert!(detect_probe_path(&p).is_some(), "{p}");
        }
    }

    #[test]
    fn benign_paths() {
        for p in [
            "/",
            "/login",
            "/api/users",
            "/api/users/42/profile",
            "/search",
            "/css/style.css",
            "/js/app.min.js",
            "/favicon.ico",
            "/robots.txt",
            "/sitemap.xml",
            "/manifest.json",
            "/consoles/list",
            "/administration",
            "/actuators-guide",
            "/blog/2024/01/how-we-use-git",
            "/home/user/docs",
            "/api/continue/session",
            "/.well-known/security.txt",
            "/jquery.history.min.js",
            "/v1.2/items",
        ] {
            assert!(detect_probe_path(p).is_none(), "{p}");
        }
    }

    #[test]
    fn span_is_in_original_path() {
        let p = "/a\\\\b/./.git/config";
        let f = detect_probe_path(p).unwrap();
        assert!(p[f.span.clone()].contains(".git/"), "{:?}", &p[f.span]);
    }

    #[test]
    fn no_panic_on_weird_input() {
        let mut seed = 0x1234_5678_u64;
        for len in 0..300 {
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                bytes.push((seed >> 33) as u8);
            }
            let s = String::from_utf8_lossy(&bytes);
            let _ = detect_user_agent(&s);
            if let Some(f) = detect_probe_path(&s) {
                assert!(s.get(f.span).is_some());
            }
        }
        for s in [
            "\\",
            "/.",
            "/./",
            "\\.\\",
            "ü/./.env",
            "/\u{FFFD}.git/",
            "\u{2028}",
        ] {
            let _ = detect_probe_path(s);
            let _ = detect_user_agent(s);
        }
    }
}

#[cfg(test)]
mod campaign_tests;
