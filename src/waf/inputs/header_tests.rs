//! SSRF in request headers that carry a URL or a host: cases written for these tests,
//! generated from the header names each kind covers, internal targets in several notations,
//! schemes, ports and paths; each class must be found at 99% or more through
//! [`super::scan_head`], and the values such headers carry in ordinary (and development)
//! traffic must stay clean.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::waf::{AttackCategory, Scan};

/// The SSRF hits of a request with the one header `name: value`.
fn ssrf_inputs(name: &str, value: &str) -> Vec<String> {
    let mut headers = HeaderMap::new();
    let Ok(v) = HeaderValue::from_str(value) else {
        return vec!["(not a header value)".to_owned()];
    };
    headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), v);
    let uri: Uri = "/".parse().unwrap();
    let mut s = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
    super::scan_head(&mut s, &uri, &headers).unwrap();
    s.hits
        .iter()
        .filter(|h| h.category == AttackCategory::Ssrf)
        .map(|h| h.input.clone())
        .collect()
}

fn found(name: &str, value: &str) -> bool {
    ssrf_inputs(name, value) == [format!("header.{name}")]
}

/// Headers whose URL a server fetches, rewrites to or calls back.
const FETCHED: &[&str] = &[
    "x-original-url",
    "x-rewrite-url",
    "x-wap-profile",
    "destination",
    "x-callback-url",
    "callback",
    "x-webhook",
    "x-notify-url",
    "x-target-uri",
    "x-status-callback",
];
/// Internal targets, in several notations.
const INTERNAL: &[&str] = &[
    "127.0.0.1",
    "localhost",
    "10.0.0.5",
    "192.168.1.1",
    "172.16.0.10",
    "[::1]",
    "169.254.169.254",
    "metadata.google.internal",
    "0x7f000001",
    "2130706433",
    "127.1",
    "kubernetes.default.svc",
    "redis.internal",
    "[::ffff:127.0.0.1]",
];
/// Cloud metadata endpoints, and addresses written so as to hide where they point.
const METADATA_OR_HIDDEN: &[&str] = &[
    "169.254.169.254",
    "metadata.google.internal",
    "100.100.100.200",
    "169.254.170.2",
    "[fd00:ec2::254]",
    "0xa9fea9fe",
    "2852039166",
    "0251.0376.0251.0376",
    "0x08080808",
    "134744072",
];

fn urls(hosts: &[&str], schemes: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for host in hosts {
        for scheme in schemes {
            for port in ["", ":8080", ":6379"] {
                for path in [
                    "/",
                    "/admin",
                    "/latest/meta-data/iam/",
                    "/computeMetadata/v1/",
                ] {
                    out.push(format!("{scheme}://{host}{port}{path}"));
                }
            }
        }
    }
    out
}

#[track_caller]
fn at_least_99(class: &str, cases: &[(String, String)]) {
    let missed: Vec<_> = cases.iter().filter(|(n, v)| !found(n, v)).collect();
    let pct = 100.0 * (cases.len() - missed.len()) as f64 / cases.len() as f64;
    println!(
        "{class}: {}/{} = {pct:.2}%",
        cases.len() - missed.len(),
        cases.len()
    );
    assert!(
        pct >= 99.0,
        "{class}: {pct:.2}%, missed e.g. {:?}",
        &missed[..missed.len().min(8)]
    );
}

#[test]
fn urls_to_internal_addresses_in_fetched_headers() {
    let mut cases = Vec::new();
    for name in FETCHED {
        for url in urls(INTERNAL, &["http", "https", "gopher", "HTTP"]) {
            cases.push((name.to_string(), url));
        }
    }
    at_least_99("fetched-url headers", &cases);
}

#[test]
fn metadata_and_hidden_hosts_in_host_headers() {
    let mut cases = Vec::new();
    for name in [
        "x-forwarded-host",
        "x-host",
        "x-forwarded-server",
        "x-original-host",
        "x-http-host-override",
    ] {
        for host in METADATA_OR_HIDDEN {
            for value in [
                host.to_string(),
                format!("{host}:80"),
                format!("{host}:8443"),
                format!("www.example.com, {host}"),
                format!(" {host} "),
            ] {
                cases.push((name.to_string(), value));
            }
        }
    }
    for host in METADATA_OR_HIDDEN {
        for value in [
            format!("for=203.0.113.7;host={host};proto=https"),
            format!("host=\"{host}:80\""),
            format!("for=198.51.100.1, for=203.0.113.7;Host={host}"),
        ] {
            cases.push(("forwarded".to_owned(), value));
        }
    }
    at_least_99("host headers", &cases);
}

#[test]
fn metadata_smuggling_schemes_and_hidden_hosts_in_referer_and_origin() {
    let mut cases = Vec::new();
    for name in ["referer", "origin"] {
        for url in urls(METADATA_OR_HIDDEN, &["http", "https"]) {
            cases.push((name.to_owned(), url));
        }
        for url in urls(
            &["127.0.0.1", "example.com", "10.1.2.3"],
            &["gopher", "dict"],
        ) {
            cases.push((name.to_owned(), url));
        }
    }
    at_least_99("referer and origin", &cases);
}

#[test]
fn ordinary_header_values_stay_clean() {
    for (name, value) in [
        // development traffic names the developer's own machine
        ("referer", "http://localhost:3000/checkout?step=2"),
        ("referer", "http://127.0.0.1:8080/"),
        ("referer", "http://192.168.1.20:5173/app"),
        ("origin", "http://localhost:5173"),
        ("referer", "https://www.google.com/search?q=sleep"),
        ("x-forwarded-host", "localhost:3000"),
        ("x-forwarded-host", "shop.example.com"),
        ("x-forwarded-host", "10.0.0.12:8443"),
        ("x-forwarded-host", "api.example.com, edge.example.net"),
        ("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"),
        ("forwarded", "for=10.0.0.1;host=internal-lb:8080"),
        ("x-original-url", "/admin/users?page=2"),
        ("x-rewrite-url", "/index.php/blog"),
        ("x-callback-url", "https://hooks.example.com/sqreen"),
        ("destination", "https://dav.example.com/files/report.pdf"),
        (
            "x-wap-profile",
            "http://wap.samsungmobile.com/uaprof/SGH-I900.xml",
        ),
        // a header no server fetches is not read as a URL
        ("x-debug-target", "http://127.0.0.1:6379/"),
        ("x-request-id", "169.254.169.254"),
    ] {
        assert!(
            ssrf_inputs(name, value).is_empty(),
            "{name}: {value} -> {:?}",
            ssrf_inputs(name, value)
        );
    }
}

/// A URL header value is remembered only when it is clean for every SSRF rule: the
/// development `Referer` that is clean there (an internal host) still fires as a URL the
/// server fetches, on the same thread right after.
#[test]
fn only_urls_clean_for_every_rule_are_remembered() {
    for _ in 0..2 {
        assert!(ssrf_inputs("referer", "http://localhost:3000/cart").is_empty());
        assert!(found("x-original-url", "http://localhost:3000/cart"));
        assert!(ssrf_inputs("referer", "https://shop.example/cart?step=2").is_empty());
        assert!(ssrf_inputs("x-callback-url", "https://shop.example/cart?step=2").is_empty());
    }
}
