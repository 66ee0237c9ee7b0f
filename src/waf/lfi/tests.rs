//! Unit tests of the file-inclusion detector.

use super::file_tables::FILES;
use super::*;

fn rule(s: &str) -> Option<&'static str> {
    let f = detect(s)?;
    assert!(
        s.get(f.span.clone()).is_some(),
        "bad span {:?} in {s:?}",
        f.span
    );
    assert!(!f.span.is_empty() || s.is_empty(), "empty span in {s:?}");
    Some(f.rule)
}

#[test]
fn traversal_attacks() {
    for s in [
        "../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "..\\pineapple",
        "../x",
        "/../../x",
        "....//....//etc/hosts",
        "..;/..;/manager/html",
        "..;.\\.;\\.",
        "..%c0%af..%c0%afetc",
        "..%u2215..%u2215boot",
        "%u002e%u002e/%u002e%u002e/x",
        "0x2e0x2e0x2f0x2e0x2e0x2fetc",
        "\u{FF0E}\u{FF0E}\u{FF0F}\u{FF0E}\u{FF0E}\u{FF0F}x",
        "..\u{2215}..\u{2215}x",
        "foo/../../bar",
        "x=1&f=..\\..\\a",
        "..\u{FFFD}\u{FFFD}..\u{FFFD}\u{FFFD}etc",
        "/.../.../WINDOWS/win.ini",
        "0x5c0x2e.\u{0}/",
    ] {
        assert_eq!(rule(s), Some("lfi-traversal"), "{s:?}");
    }
}

#[test]
fn file_attacks() {
    for (s, r) in [
        ("/etc/passwd", "lfi-os-file"),
        ("cat /etc/shadow", "lfi-os-file"),
        ("/@fs/etc/passwd", "lfi-sensitive-file"),
        ("/proc/self/environ", "lfi-os-file"),
        ("c:\\windows\\win.ini", "lfi-os-file"),
        ("C:/Windows/System32/drivers/etc/hosts", "lfi-os-file"),
        ("\\winnt\\system32\\cmd.exe", "lfi-os-file"),
        ("/root/.aws/credentials", "lfi-os-file"),
        ("/var/log/apache2/access.log", "lfi-os-file"),
        ("/sys/class", "lfi-sensitive-file"),
        (".ssh/id_rsa", "lfi-sensitive-file"),
        ("/path/to/.docker/secrets", "lfi-sensitive-file"),
        ("config/.env", "lfi-sensitive-file"),
        ("/var/www/.env.local", "lfi-sensitive-file"),
        ("/var/www/html/wp-config.php", "lfi-sensitive-file"),
        ("/WEB-INF/web.xml", "lfi-sensitive-file"),
        ("c:\\boot.ini", "lfi-os-file"),
        ("d:\\boot.ini", "lfi-os-file"),
        ("/home/bob/.bash_history", "lfi-sensitive-file"),
        ("backup.sql.gz", "lfi-sensitive-file"),
    ] {
        assert_eq!(rule(s), Some(r), "{s:?}");
    }
}

#[test]
fn wrappers_nul_rfi() {
    for (s, r) in [
        (
            "php://filter/convert.base64-encode/resource=index.php",
            "lfi-wrapper",
        ),
        ("PHP://input", "lfi-wrapper"),
        ("phar://uploads/x.jpg/shell", "lfi-wrapper"),
        ("zip://shell.jpg#payload.php", "lfi-wrapper"),
        ("expect://id", "lfi-wrapper"),
        ("data://text/plain;base64,PD9waHA=", "lfi-wrapper"),
        ("file:///etc/passwd", "lfi-wrapper"),
        ("file://foo.bar", "lfi-wrapper"),
        ("url:file://etc/services", "lfi-wrapper"),
        ("jar:http://evil.co/b.zip!a", "lfi-wrapper"),
        ("jar:file:/path/to/myApp.jar!/com/x.txt", "lfi-wrapper"),
        ("netdoc:/etc/passwd", "lfi-wrapper"),
        ("local_file://something", "lfi-wrapper"),
        ("index.php\u{0}", "lfi-null-byte"),
        ("images/x\u{0}.jpg", "lfi-null-byte"),
        ("http://66.240.183.75/crash.php", "lfi-rfi-ip-host"),
        (
            "https://[2001:41d0:701:1100::29c8]/gecko.php",
            "lfi-rfi-ip-host",
        ),
        (
            "https://2001:41d0:701:1100::29c8/gecko.php",
            "lfi-rfi-ip-host",
        ),
        ("ftp://user:pw@8.8.8.8/x.txt", "lfi-rfi-ip-host"),
        ("http://1.2.3.4:8080/x.txt", "lfi-rfi-ip-host"),
        ("https://foo.bar?", "lfi-rfi-trailing-qmark"),
        ("http://evil.example/shell.txt??", "lfi-rfi-trailing-qmark"),
        ("https?", "lfi-rfi-trailing-qmark"),
        ("file?", "lfi-rfi-trailing-qmark"),
        ("mosConfig_absolute_path", "lfi-rfi-global-param"),
        ("_SERVER[DOCUMENT_ROOT]", "lfi-rfi-global-param"),
    ] {
        assert_eq!(rule(s), Some(r), "{s:?}");
    }
}

#[test]
fn benign() {
    for s in crate::waf::tests::NEAR_MISSES.iter().copied().chain([
        "https://foo.bar?foo=bar",
        "C:\\Program Files (x86)\\App\\app.exe",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        r#"{"name": "x", "tags": ["a", "b"], "path": "/api/v1/items"}"#,
        ".env",
        "copy the .env file and edit it",
        "1.2.3.4",
        "version 1.2.3.4",
        "see ../docs for details",
        "[a](../a.md) and [b](../b.md)",
        "Wait... what?/ok",
        "/get/foo../1234",
        "/get/foo.../1234",
        "/get/..foo",
        "/get/..",
        "/test.environment",
        "firstname.dockery@host.tld",
        "/api/users/42/profile",
        "/windows/download",
        "https://github.com/org/repo/blob/main/.gitignore",
        "data:image/png;base64,iVBORw0KGgo=",
        "File:///",
        "profile:/x",
        "http://www.example.com/some/path",
        "https://example.com/search?q=what?",
        "10.0.0.0/8",
        "1/26/11",
        "2-3/4 CELLO BAGS",
        "Is this file?",
        "files?",
        "https://foo.bar",
        "2001:db8::1",
        "http://127.0.0.1/x",
        "/sys-admin/login",
        "/etcetera/x",
        "/usr/share/doc",
        "mosConfig",
        "the backup .sql.gz file",
        ".sql.gz",
        "",
    ]) {
        assert_eq!(rule(s), None, "{s:?}");
    }
}

#[test]
fn paths() {
    for (p, r) in [
        ("/@fs/etc/passwd", "lfi-sensitive-file"),
        ("/@fs/.env", "lfi-sensitive-file"),
        ("/get/sys/class", "lfi-sensitive-file"),
        ("/get/proc/interrupts", "lfi-sensitive-file"),
        ("/get/backup.sql.zip", "lfi-sensitive-file"),
        ("/wp-content/debug.log", "lfi-restricted-path"),
        ("/@id/__x00__", "lfi-restricted-path"),
        ("/.gitignore", "lfi-restricted-path"),
        ("/.claude/settings.json", "lfi-hidden-path"),
        ("/app/.cursor/mcp.json", "lfi-hidden-path"),
        ("/static/../../etc/passwd", "lfi-traversal"),
    ] {
        let f = detect_path(p).unwrap_or_else(|| panic!("{p}"));
        assert_eq!(f.rule, r, "{p}");
        assert!(p.get(f.span).is_some());
    }
    for p in [
        "/",
        "/login",
        "/api/users",
        "/search",
        "/css/style.css",
        "/.well-known/openid-configuration",
        "/jquery.nivo.slider.pack.js",
        "/jquery.history.min.js",
        "/node_modules/@osd/ui-framework/dist/kui_light.css",
        "/api/continue/session",
        "/assets/config.json",
        "/package.json",
        "/users/@alice",
        "/v1.2/items",
        "/files/report.final.pdf",
    ] {
        assert_eq!(detect_path(p), None, "{p}");
    }
}

#[test]
fn spans() {
    let s = "x=../../etc/passwd";
    let f = detect(s).unwrap();
    assert_eq!(&s[f.span], "../../");
    let s = "look: /etc/passwd now";
    let f = detect(s).unwrap();
    assert_eq!(&s[f.span], "/etc/passwd");
    let s = "a\\\\b\\.env";
    let f = detect(s).unwrap();
    assert_eq!(&s[f.span], ".env");
}

#[test]
fn rules_listed() {
    for s in [
        "../x",
        "/etc/passwd",
        "/x/.htpasswd",
        "php://input",
        "a.php\u{0}",
        "http://8.8.8.8/x",
        "http?",
        "appserv_root",
    ] {
        let f = detect(s).unwrap();
        assert!(RULES.contains(&f.rule));
    }
}

#[test]
fn leftover_escapes() {
    for (s, r, frag) in [
        (
            "ftp%3A%2F%2F1.1.1.1",
            "lfi-rfi-ip-host",
            "ftp%3A%2F%2F1.1.1.1",
        ),
        ("0x5c0x2e.%00/", "lfi-traversal", "0x2e.%00/"),
        ("%2Fetc%2Fpasswd", "lfi-os-file", "%2Fetc%2Fpasswd"),
        ("php%3A%2F%2Finput", "lfi-wrapper", "php%3A%2F%2F"),
        (
            "x=%2e%2e%2f%2e%2e%2fboot.ini",
            "lfi-traversal",
            "%2e%2e%2f%2e%2e%2f",
        ),
    ] {
        let f = detect(s).unwrap_or_else(|| panic!("{s:?}"));
        assert_eq!((f.rule, &s[f.span]), (r, frag), "{s:?}");
    }
    for s in [
        "100%25 cotton",
        "50% off",
        "a%2Fb",
        "https%3A%2F%2Fshop.example%2Fcart",
        "%2Fhome%2Fuser%2Fdocs",
        "%E2%82%AC 5",
        "%",
        "%%41",
    ] {
        assert_eq!(rule(s), None, "{s:?}");
    }
}

#[test]
fn offsite() {
    fn off<'a>(s: &'a str, h: &str) -> Option<&'a str> {
        detect_offsite(s, h).map(|f| &s[f.span])
    }
    for (s, h) in [
        ("http://evil.example/shell.txt", "shop.example"),
        ("http://evil.example/shell.txt?cmd=id", "shop.example"),
        ("HTTPS://EVIL.EXAMPLE/C99.TXT", "shop.example"),
        ("ftp://evil.example/x/r57.inc", "shop.example"),
        ("http://evil.example/x.sh", ""),
        ("http://evil.example/x.php#", "shop.example:8080"),
        ("http://evil.example/x.php\0", "shop.example"),
        ("https://evil.example/include.py", "shop.example"),
        ("https://shop.example@evil.example/", "shop.example"),
        ("https://shop.example:x@evil.example/login", "shop.example"),
        ("http://sub.evil.example/a.txt", "evil.example.shop.example"),
    ] {
        let s = &s.replace("\\0", "\0");
        let f = detect_offsite(s, h).unwrap_or_else(|| panic!("{s:?} {h:?}"));
        assert_eq!(f.rule, "lfi-rfi-offsite");
        assert!(s.get(f.span).is_some());
    }
    assert_eq!(
        off("http://evil.example/shell.txt?x=1", "a.example"),
        Some("http://evil.example/shell.txt")
    );
    for (s, h) in [
        // same host, subdomain, parent domain, other port
        ("https://shop.example/robots.txt", "shop.example"),
        ("https://SHOP.example./robots.txt", "shop.example:443"),
        ("https://cdn.shop.example/notes.txt", "shop.example"),
        ("https://shop.example/notes.txt", "www.shop.example"),
        ("https://shop.example:8443/notes.txt", "shop.example"),
        // ordinary off-site links
        (
            "https://accounts.google.com/o/oauth2/auth?client_id=1",
            "shop.example",
        ),
        ("https://client.example/oauth/callback.php", "auth.example"),
        ("https://merchant.example/ipn.php", "pay.example"),
        ("https://forum.example/viewtopic.php?t=1", "shop.example"),
        ("https://example.org", "shop.example"),
        ("https://example.org/", "shop.example"),
        ("https://example.org/about", "shop.example"),
        ("https://example.org/a.pdf", "shop.example"),
        ("https://example.org/script.js", "shop.example"),
        (
            "https://example.org/@alice@mastodon.example",
            "shop.example",
        ),
        (
            "https://example.org/readme.txt is worth reading",
            "shop.example",
        ),
        ("see https://example.org/readme.txt", "shop.example"),
        ("ftp://ftp.example.org/pub/", "shop.example"),
        ("https://user@example.org/x.txt.bak", "shop.example"),
        ("https://bob@example.org/", "shop.example"),
        ("https://example.com.s3.amazonaws.com/a.png", "example.com"),
        ("mailto:bob@example.org", "shop.example"),
        ("https:///x.txt", "shop.example"),
        ("O'Brien", "shop.example"),
        ("", ""),
    ] {
        assert_eq!(off(s, h), None, "{s:?} {h:?}");
    }
}

#[test]
fn file_gate_is_exact_for_no() {
    // whenever the four-byte gate says no, neither automaton can match
    let fa = &*FILES;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let parts: &[&str] = &[
        "/", "etc", "/etc/", "passwd", "proc", "self", ".env", "WEB-INF", "web", "win", "Windows",
        "system32", "a", "1", ".", "-", "_", "boot", ".ssh", "id_rsa", "usr", "var", "log", "@fs",
        "@id", "ROOT", "sys", "config", "conf", "user", "secrets",
    ];
    for round in 0..100_000 {
        // some long, with separators all along (the gate reads every `/` of them too)
        let mut v = if round % 10 == 0 {
            "ab/cd ".repeat(300)
        } else {
            String::new()
        };
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for _ in 0..(seed >> 60) + 1 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.push_str(parts[(seed >> 40) as usize % parts.len()]);
        }
        if fa.may_match(v.as_bytes()) {
            continue;
        }
        assert!(fa.main.find(v.as_str()).is_none(), "{v:?}");
        let input = aho_corasick::Input::new(&v).anchored(aho_corasick::Anchored::Yes);
        assert!(
            v.starts_with('/') || fa.start.find(input).is_none(),
            "{v:?}"
        );
    }
    // and the common benign shapes take the no
    for v in [
        "/api/orders/42",
        "/api/v1/users/42",
        "https://shop.example/cart?step=2",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ] {
        assert!(!fa.may_match(v.as_bytes()), "{v}");
    }
    // case-insensitive, at every position kind
    for v in [
        "/ETC/passwd",
        "x=/Etc/Shadow",
        "etc/passwd",
        "a/WEB-INF/web.xml",
        "/x/./etc/passwd",
    ] {
        assert!(fa.may_match(v.as_bytes()), "{v}");
        assert!(detect(v).is_some(), "{v}");
    }
}

#[test]
fn fast_paths_keep_detections() {
    for (s, r) in [
        ("https://8.8.8.8/x.php", "lfi-rfi-ip-host"),
        ("http://1.2.3.4:8080/", "lfi-rfi-ip-host"),
        ("http://u@[2001:db8:1::1]/", "lfi-rfi-ip-host"),
        ("https://x.example/?", "lfi-rfi-trailing-qmark"),
        ("x.php://filter", "lfi-wrapper"),
        ("COMPRESS.ZLIB://x", "lfi-wrapper"),
        ("ssh2.exec://h/id", "lfi-wrapper"),
        ("jar:http://evil.co/b.zip!a", "lfi-wrapper"),
        ("file:x/y", "lfi-wrapper"),
        ("db.SQL.gz", "lfi-sensitive-file"),
        ("dump.Sql.tar.gz", "lfi-sensitive-file"),
        ("/x/backup.sql.bz2", "lfi-sensitive-file"),
        ("0x2e0x2e/0x2e0x2e/x", "lfi-traversal"),
    ] {
        assert_eq!(rule(s), Some(r), "{s:?}");
    }
    // long values take the SIMD paths
    let pad = "a ".repeat(400);
    for (s, r) in [
        (format!("{pad}/etc/passwd"), "lfi-os-file"),
        (format!("{pad} ../../x"), "lfi-traversal"),
        (format!("{pad} php://input"), "lfi-wrapper"),
        (format!("{pad} 0x2e0x2e0x2f0x2e0x2e0x2f"), "lfi-traversal"),
    ] {
        assert_eq!(rule(&s), Some(r), "{s:?}");
    }
    for s in [
        "https://x.example/a.b/c",
        "http://shop.example:8080/x",
        "ftp://a.b/c",
        &format!("{pad} a0x2e0x2e0x2f0x2e0x2e0x2f"),
    ] {
        assert_eq!(rule(s), None, "{s:?}");
    }
}

#[test]
fn no_panic_on_weird_input() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let alphabet: &[&str] = &[
        ".", "/", "\\", "%", "u", "0x", "2e", "c0", "af", "\u{0}", "\u{FFFD}", "\u{FF0E}", "é",
        ":", "?", "[", "]", "@", "etc", "passwd", "%u", "e0%80", "…", "a", "1",
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
        for h in ["", "a.example", "é:1", "[::1]:8"] {
            if let Some(f) = detect_offsite(&format!("http://{s}"), h) {
                assert!(f.span.end <= s.len() + 7);
            }
        }
        let bytes: Vec<u8> = s.bytes().rev().collect();
        let t = String::from_utf8_lossy(&bytes);
        if let Some(f) = detect(&t) {
            assert!(t.get(f.span).is_some());
        }
    }
    for s in [
        "%", "%u", "%u00", "0x", "0x2", "%c0%", "%e0%80%", "..", "\u{0}", "…/…/",
    ] {
        let _ = detect(s);
    }
}

#[test]
fn level2_offsite_url() {
    fn strict<'a>(v: &'a str, h: &str) -> Option<(&'static str, &'a str)> {
        detect_strict(v, h).map(|f| (f.rule, &v[f.span]))
    }
    for (v, h, frag) in [
        ("https://foo.bar", "localhost", "https://foo.bar"),
        ("ftp://foo.bar", "localhost", "ftp://foo.bar"),
        (
            "https://evilexample.com/",
            "localhost",
            "https://evilexample.com",
        ),
        (
            "https://example.com.evil.com/",
            "example.com",
            "https://example.com.evil.com",
        ),
        (
            "https://example.com:1234/",
            "example.com",
            "https://example.com:1234",
        ),
        (
            "http://example.com/:asd@evil.com/",
            "example.com",
            "http://example.com/:asd@evil.com",
        ),
        (
            "http://example.com/@evil.com/",
            "example.com",
            "http://example.com/@evil.com",
        ),
        (
            "gopher://google.com/_SSRFTest!",
            "localhost",
            "gopher://google.com",
        ),
        ("ldap://127.0.0.1/", "localhost", "ldap://127.0.0.1"),
        (
            "  url:http://evil.co/x",
            "shop.example",
            "url:http://evil.co",
        ),
        (
            "https://example.com/",
            "example.com:8443",
            "https://example.com",
        ),
        (
            "https://example.com/",
            "sub.example.com",
            "https://example.com",
        ),
    ] {
        assert_eq!(
            strict(v, h),
            Some(("lfi-rfi-pl2-offsite", frag)),
            "{v:?} on {h:?}"
        );
    }
    for (v, h) in [
        ("https://example.com/", "example.com"),
        ("https://Example.COM./a?b=c", "example.com"),
        ("https://example.com:443/", "example.com"),
        ("http://example.com:8080/x", "example.com:8080"),
        ("http://www.example.com/some/path", "example.com"),
        ("http://foo:bar@example.com/", "example.com"),
        ("https://example.com/?next=a@b.example", "example.com"),
        ("https://evil.example/", ""),
        ("file:///etc/passwd", "localhost"),
        ("see https://evil.example/ for details", "example.com"),
        ("https://evil.example/ (Unix)", "example.com"),
        ("O'Brien", "example.com"),
        ("select a plan", "example.com"),
        ("1 or 2 bedrooms", "example.com"),
        ("a<b && c>d", "example.com"),
        ("myapp://callback", "example.com"),
        ("12:30", "example.com"),
    ] {
        assert_eq!(strict(v, h), None, "{v:?} on {h:?}");
    }
}

#[test]
fn level2_offsite_only_at_paranoia_2() {
    use crate::waf::{detect_at, AttackCategory, Paranoia, Scan, Source};
    use std::time::Duration;
    let v = "https://evilexample.com/";
    // `detect_at` knows no request `Host`: without one the rule has nothing to compare with
    assert!(detect_at(AttackCategory::Lfi, v, Paranoia::Level2).is_none());
    let uri: http::Uri = "/".parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::HOST, "localhost".parse().unwrap());
    let scan_at = |paranoia, source| {
        let mut scan = Scan::new(&[], false, Duration::from_secs(5), Duration::ZERO)
            .with_request(&uri, &headers)
            .with_paranoia(paranoia);
        let _ = scan.value(source, &"query.x", v);
        scan.hits.iter().map(|h| h.rule).collect::<Vec<_>>()
    };
    assert!(scan_at(Paranoia::Level1, Source::Query).is_empty());
    assert_eq!(
        scan_at(Paranoia::Level2, Source::Query),
        ["lfi-rfi-pl2-offsite"]
    );
    assert_eq!(
        scan_at(Paranoia::Level2, Source::Body),
        ["lfi-rfi-pl2-offsite"]
    );
    // never on headers (`Referer`, `Origin`)
    assert!(scan_at(Paranoia::Level2, Source::Header).is_empty());
    assert!(crate::waf::is_rule("lfi-rfi-pl2-offsite"));
}

#[test]
fn shell_redirect_into_a_path() {
    for v in [">/tmp/curl", ">>/var/www/x.php", "  >/tmp/a/b  "] {
        assert_eq!(rule(v), Some("lfi-shell-redirect"), "{v:?}");
    }
    for v in [
        "> /r/rust is great",
        "a > /b/c",
        ">/x",
        "><script>alert(1)</script>",
        ">/tmp/x y",
        "=>/api/v1",
        "O'Brien",
        "a<b && c>d",
    ] {
        assert_eq!(rule(v), None, "{v:?}");
    }
    assert_eq!(detect_path(">/tmp/curl").map(|f| f.rule), None);
}

/// The flags of a long value taken from the shared pass's OR (`long_flags`) are the ones
/// `flags` finds with its own passes: on every corpus value lengthened past `FLAGS_SHORT`
/// (repeated, and with `0x` / `x`-and-`0` endings), and on random byte strings.
#[test]
fn long_flags_from_the_class_or_match_the_flags_passes() {
    // the OR the scan's shared pass computes
    let class_or = |v: &[u8]| v.iter().fold(0u16, |a, &c| a | CLASS[c as usize]);
    let check = |v: &[u8]| {
        assert!(v.len() > FLAGS_SHORT);
        assert_eq!(
            super::long_flags(v, class_or(v)),
            super::flags(v).0,
            "{:?}",
            String::from_utf8_lossy(v)
        );
    };
    let Some(values) = crate::waf::tests::corpus_values(true) else {
        return;
    };
    assert!(values.len() > 10_000);
    // and the detector given those flags finds what it finds on its own, attacks included
    let pad = "lorem ipsum dolor sit amet ".repeat(FLAGS_SHORT / 20);
    let mut found = 0;
    for v in &values {
        let long = format!("{pad}{v}");
        let alone = detect(&long);
        found += usize::from(alone.is_some());
        assert_eq!(
            detect_classified(&long, class_or(long.as_bytes())),
            alone,
            "{v:?}"
        );
    }
    assert!(found > 100, "{found}");
    for v in &values {
        let mut long = v.repeat(FLAGS_SHORT / v.len().max(1) + 1).into_bytes();
        if long.len() <= FLAGS_SHORT {
            long.resize(FLAGS_SHORT + 1, b' ');
        }
        check(&long);
        for tail in [&b"0x1f"[..], b"x 0", b"0X", b"x0"] {
            let mut t = long.clone();
            t.extend_from_slice(tail);
            check(&t);
        }
    }
    let mut seed = 0x1234_5678_9abc_def1u64;
    for _ in 0..2000 {
        let v: Vec<u8> = (0..FLAGS_SHORT + 1 + (seed % 300) as usize)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // mostly letters, then any byte now and then
                if seed % 64 == 0 {
                    (seed >> 8) as u8
                } else {
                    b'a' + (seed >> 8) as u8 % 26
                }
            })
            .collect();
        check(&v);
    }
}

/// A multi-byte character in the scheme part, where the `url:`/`jar:` prefix is compared, is
/// no reason to panic (a caught panic lets the request through uninspected in fail-open mode).
#[test]
fn offsite_scheme_with_multibyte_characters() {
    for s in [
        "htt€e://foo.test/",
        "url€://foo.test/",
        "jar:€://foo.test/",
        "€€€€€://x.test/",
        "ur\u{e9}l:http://foo.test/",
        "url:htt€://foo.test/",
    ] {
        assert_eq!(detect_strict(s, "example.com"), None, "{s}");
    }
    // the prefix still works
    assert!(detect_strict("url:http://evil.test/x", "example.com").is_some());
}

/// Long values take the same gates as short ones: a file or a traversal far into a value full
/// of separators and near-misses is still found, and the near-misses alone are not.
#[test]
fn long_values_keep_file_and_traversal_detections() {
    let filler = "' or <a on=../;|${ x/y ".repeat(100);
    assert!(filler.len() > 2048);
    assert_eq!(detect(&filler), None);
    for tail in [
        " /etc/passwd",
        " =../../../etc/hosts",
        " C:\\Windows\\win.ini",
        " /var/www/.env",
    ] {
        let v = format!("{filler}{tail}");
        let found = detect(&v).unwrap_or_else(|| panic!("{tail}"));
        assert!(found.span.start > 2048, "{tail}: {found:?}");
    }
}

/// The ASCII traversal reading (`..` runs only, one byte a token) finds what the full token
/// walk finds, where both apply (ASCII, no escape, no NUL): on random sequences of near-miss
/// pieces, short and long, and on the corpus.
#[test]
fn ascii_traversal_agrees_with_the_token_walk() {
    const PIECES: &[&str] = &[
        "..", ".", "...", "/", "\\", ";", " ", "'", "=", ",", "a", "etc", "../", "..\\", "./",
        "..;", "x/", "|", "<a on=", "${", "-",
    ];
    let applies = |v: &str| v.is_ascii() && !v.contains(['%', '\0']) && !v.contains("0x");
    let mut next = crate::waf::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
    let mut found = 0;
    for round in 0..40_000 {
        let len = (next() % if round % 4 == 0 { 200 } else { 12 }) as usize;
        let v: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let want = traversal_general(&v);
        found += usize::from(want.is_some());
        assert_eq!(traversal_ascii(&v), want, "{v:?}");
    }
    assert!(found > 1000, "{found}");
    for v in crate::waf::tests::corpus_values(true).unwrap_or_default() {
        if applies(&v) {
            assert_eq!(traversal_ascii(&v), traversal_general(&v), "{v:?}");
        }
    }
}

/// The detector (value and path forms) gives the verdict of [`detect_old`], the pass before
/// escapes that read as ordinary bytes stopped sending the value to the general traversal walk
/// and the leftover round stopped carrying an offset per byte: same rule, same span.
fn escapes_agree(v: &str) {
    for path in [false, true] {
        assert_eq!(
            detect_impl(v, path),
            detect_old(v, path),
            "path {path}: {v:?}"
        );
    }
}

/// ... on every corpus value, bare, with prefixes and suffixes, with escapes that read as
/// letters, and padded with the near-attack unit and the spotted unit ...
#[test]
fn escapes_agree_on_the_corpus() {
    let Some(values) = crate::waf::tests::corpus_values(true) else {
        return;
    };
    let near = "' or <a on=../;|${ ".repeat(4);
    let spot = format!("{}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13));
    // the paddings that sent a whole value to the general traversal walk
    let pads: Vec<String> = ["\u{e9} ", "%41 ", "\0 ", "\u{ff0e}", "\u{fffd} ", "0x41 "]
        .iter()
        .map(|p| format!("{}{p}", "' or <a on=../;|${ ".repeat(13)).repeat(2))
        .collect();
    for (i, v) in values.iter().enumerate() {
        // (a sample of the values padded: the reference walk is slow in debug builds)
        if i % 3 == 0 {
            let pad = &pads[i / 3 % pads.len()];
            escapes_agree(&format!("{pad}{v}"));
            escapes_agree(&format!("{v}{pad}"));
        }
        escapes_agree(&format!("\u{e9}{v}\0"));
        for (pre, post) in [
            ("", ""),
            ("%41", ""),
            ("", "%41 "),
            ("x%2e", "%2F"),
            ("0x41 ", " %u0041"),
            (&near[..], "%41"),
            (&spot[..], &spot[..]),
            ("%41 ", &spot[..]),
        ] {
            escapes_agree(&format!("{pre}{v}{post}"));
        }
    }
}

/// ... and on random sequences of escapes (of dots, separators, letters, overlong and textual
/// forms), dots, separators and words.
#[test]
fn escapes_agree_on_random_token_sequences() {
    const TOKENS: &[&str] = &[
        "%41",
        "%3b",
        "%27",
        "%30",
        "%78",
        "%32",
        "%40",
        "%2e",
        "%2E",
        "%2f",
        "%5c",
        "%25",
        "%252e",
        "%00",
        "%20",
        "%3a",
        "%3F",
        "%c0%ae",
        "%c0%af",
        "%c0%41",
        "%e0%80%ae",
        "%u002e",
        "%u0041",
        "0x2e",
        "0x2f",
        "0X5C",
        "0x41",
        "%",
        "%4",
        "%g1",
        "0",
        "x",
        ".",
        "..",
        "/",
        "\\",
        ";",
        " ",
        "=",
        "'",
        "etc",
        "passwd",
        "%2fetc%2fpasswd",
        "p%61sswd",
        "php:",
        "//",
        "http",
        "1.2.3.4",
        "?",
        "é",
        "\u{ff0e}",
        "\u{ff0f}",
        "\u{2044}",
        "\u{fffd}",
        "\0",
        "a",
        "_",
        "[",
    ];
    for v in crate::waf::tests::token_sequences(0x7f4a_7c15_9e37_79b9u64, TOKENS, 30_000, 40) {
        escapes_agree(&v);
    }
    // without escapes: which non-ASCII characters send a value to the general walk
    const UNICODE: &[&str] = &[
        ".",
        "..",
        "../",
        "/",
        "\\",
        ";",
        " ",
        "a",
        "\u{e9}",
        "\u{fffd}",
        "\u{2044}",
        "\u{ff0f}",
        "\u{2215}",
        "\u{ff0e}",
        "\u{2024}",
        "\u{2019}",
        "\0",
        "etc/passwd",
    ];
    for v in crate::waf::tests::token_sequences(0x2f6b_1d3c_55aa_9e01u64, UNICODE, 20_000, 16) {
        escapes_agree(&v);
    }
}

/// The event reading of the general traversal walk ([`traversal_general`]) finds what the
/// token walk of every byte finds ([`traversal::traversal_tokens`]): on random sequences of
/// dots, separators, escapes, NULs and non-ASCII pieces (unicode dots and slashes, U+FFFD,
/// accents), short and long (values past a 64-byte block, events across block edges).
#[test]
fn event_walk_agrees_with_the_token_walk() {
    const PIECES: &[&str] = &[
        "..",
        ".",
        "/",
        "\\",
        ";",
        " ",
        "=",
        "a",
        "etc",
        "../",
        "..;",
        "./",
        "\0",
        "é",
        "\u{e9}.",
        "\u{ff0e}",
        "\u{2024}",
        "\u{fe52}",
        "\u{ff0f}",
        "\u{2215}",
        "\u{fffd}",
        "\u{fffd}\u{fffd}",
        "%2e",
        "%2f",
        "%5c",
        "%41",
        "%u002e",
        "%uff0e",
        "%c0%ae",
        "%c0%af",
        "%e0%80%ae",
        "0x2e",
        "0X2F",
        "0x41",
        "0",
        "x",
        "%",
        "%2",
        "0x",
        "漢",
        "'",
    ];
    let mut next = crate::waf::tests::xorshift(0x2545_f491_4f6c_dd1du64);
    let mut found = 0;
    for round in 0..30_000 {
        let len = (next() % if round % 4 == 0 { 120 } else { 14 }) as usize;
        let v: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let want = traversal::traversal_tokens(&v);
        found += usize::from(want.is_some());
        assert_eq!(traversal_general(&v), want, "{v:?}");
    }
    assert!(found > 1000, "{found}");
}

/// [`file_tables::unicode_marks`] finds the characters a substring search finds, on random
/// sequences of those characters among their look-alikes (other characters led by the same
/// bytes 0xE2 and 0xEF, accents, CJK).
#[test]
fn unicode_marks_match_a_substring_search() {
    const PIECES: &[&str] = &[
        "a", "é", "漢", "\u{2019}", "\u{2026}", "\u{ff21}", "\u{feff}", "\u{fffd}", "\u{ff0e}",
        "\u{2024}", "\u{fe52}", "\u{2215}", "\u{2216}", "\u{ff0f}", "\u{ff3c}", "\u{2044}",
        "\u{29f5}", "\u{29f8}", "\u{29f9}", "\u{fe68}", "\u{2025}", "\u{ff0d}", "/", ".",
    ];
    let mut next = crate::waf::tests::xorshift(0x94d0_49bb_1331_11ebu64);
    for _ in 0..20_000 {
        let len = (next() % 6) as usize;
        let v: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let has = |cs: &[char]| v.contains(cs);
        let want = file_tables::UnicodeMarks {
            dot: has(&['\u{ff0e}', '\u{2024}', '\u{fe52}']),
            slash: has(&['\u{2215}', '\u{2216}', '\u{ff0f}', '\u{ff3c}']),
            other: has(&[
                '\u{2044}', '\u{29f5}', '\u{29f8}', '\u{29f9}', '\u{fe68}', '\u{fffd}',
            ]),
        };
        assert_eq!(file_tables::unicode_marks(v.as_bytes()), want, "{v:?}");
    }
}

/// The separator-normalised view copies runs ([`files::path_view`]) as the byte loop does
/// ([`files::path_view_bytes`]): same text, same offsets, on random sequences of separators,
/// dots, NULs, unicode slashes and look-alikes.
#[test]
fn path_view_copies_runs_as_the_byte_loop() {
    const PIECES: &[&str] = &[
        "/", "\\", ".", "./", "/./", "\0", "a", "etc", "\u{ff0f}", "\u{2215}", "\u{2216}",
        "\u{ff3c}", "\u{2019}", "\u{ff0e}", "\u{e9}", " ",
    ];
    let mut next = crate::waf::tests::xorshift(0x3c6e_f372_fe94_f82bu64);
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let v: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        assert_eq!(files::path_view(&v), files::path_view_bytes(&v), "{v:?}");
    }
}
