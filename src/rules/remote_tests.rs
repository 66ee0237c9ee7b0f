//! Unit tests of the rules URL's pure parts: the signature header, the backoff bounds, the URL
//! shown in logs and the checks made at build. The poller itself is tested over real HTTP in
//! `tests/remote_rules.rs`.

use super::*;
use crate::rules::poller::failure_wait;

#[test]
fn signature_header_forms() {
    let body = br#"{"version":"v1"}"#;
    let header = sign(body, b"k");
    let hex = header.strip_prefix("sha256=").unwrap();
    assert_eq!(hex.len(), 64);
    assert_eq!(
        hex,
        webhook::sign(body, b"k"),
        "the webhook's HMAC, prefixed"
    );
    assert!(verify(body, b"k", &header));
    assert!(verify(body, b"k", hex), "a bare digest is accepted");
    assert!(verify(
        body,
        b"k",
        &format!(" SHA256={} ", hex.to_uppercase())
    ));
    assert!(!verify(body, b"other", &header));
    assert!(!verify(br#"{"version":"v2"}"#, b"k", &header));
    assert!(!verify(body, b"k", &format!("sha1={hex}")));
    assert!(!verify(body, b"k", "sha256="));
    assert!(!verify(body, b"k", "sha256=zz"));
    assert!(!verify(body, b"k", ""));
}

#[test]
fn failure_waits_grow_from_half_the_cap_and_stop_at_the_cap() {
    let policy = RetryPolicy {
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(1000),
        ..default_policy()
    };
    for _ in 0..200 {
        let first = failure_wait(&policy, 1, None);
        assert!((50..=100).contains(&first.as_millis()), "{first:?}");
        let third = failure_wait(&policy, 3, None);
        assert!((200..=400).contains(&third.as_millis()), "{third:?}");
        let late = failure_wait(&policy, 40, None);
        assert!((500..=1000).contains(&late.as_millis()), "{late:?}");
    }
    // Retry-After makes the wait longer, never beyond the cap
    let after = failure_wait(&policy, 1, Some(Duration::from_millis(700)));
    assert_eq!(after, Duration::from_millis(700));
    let after = failure_wait(&policy, 1, Some(Duration::from_secs(3600)));
    assert_eq!(after, Duration::from_millis(1000));
}

fn config(vars: &[(&str, &str)]) -> Config {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| Ok(vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))).unwrap()
}

/// A signing secret of full strength (32 bytes).
const SECRET: &str = "a-rules-secret-of-32-bytes-0123456";

#[test]
fn the_url_is_shown_without_its_query_or_user_info() {
    let c = config(&[
        (
            "SQREEN_RULES_URL",
            "http://user:pw@rules.example.com:8080/app/rules.json?token=s3cret",
        ),
        ("SQREEN_RULES_SECRET", SECRET),
    ]);
    let source = RemoteSource::from_config(&c, default_policy())
        .unwrap()
        .unwrap();
    assert_eq!(
        source.source(),
        RulesSource::Url("http://rules.example.com:8080/app/rules.json".to_owned())
    );
    assert!(!format!("{source:?}").contains("s3cret"));
}

#[test]
fn a_rules_url_with_a_rules_path_is_an_error_naming_both() {
    let c = config(&[
        ("SQREEN_RULES_URL", "http://127.0.0.1:9/rules.json"),
        ("SQREEN_RULES_PATH", "/etc/sqreen/rules.json"),
    ]);
    let err = RemoteSource::from_config(&c, default_policy()).unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_RULES_URL"));
    let msg = err.to_string();
    assert!(
        msg.contains("SQREEN_RULES_PATH") && msg.contains("/etc/sqreen/rules.json"),
        "{msg}"
    );
}

#[test]
fn no_url_is_no_source_and_a_secret_alone_is_ignored() {
    let c = config(&[("SQREEN_RULES_SECRET", "k")]);
    assert!(RemoteSource::from_config(&c, default_policy())
        .unwrap()
        .is_none());
}

#[test]
fn cold_start_reports_a_refused_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.cache.json");
    std::fs::write(&path, "garbage").unwrap();
    let c = config(&[
        ("SQREEN_RULES_URL", "http://127.0.0.1:9/rules.json"),
        ("SQREEN_RULES_CACHE_PATH", path.to_str().unwrap()),
        ("SQREEN_RULES_SECRET", SECRET),
    ]);
    let source = RemoteSource::from_config(&c, default_policy())
        .unwrap()
        .unwrap();
    let cold = source.cold_start();
    assert!(cold.refused && cold.cached.is_none());
    std::fs::remove_file(&path).unwrap();
    let cold = source.cold_start();
    assert!(
        !cold.refused && cold.cached.is_none(),
        "no cache yet is normal"
    );
}
