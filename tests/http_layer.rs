//! The layer over real HTTP: an axum server on 127.0.0.1:0 and a reqwest client.

mod common;

use std::time::Duration;

use common::{client, eventually, get_with, serve, serve_router};
use serde_json::Value;
use sqreen::{Agent, Config, ManualClock};

const DENY_RULES: &str = r#"{
    "version": "t1",
    "ip_denylist": ["203.0.113.0/24", "2001:db8:bad::/48"],
    "ip_passlist": ["203.0.113.7"],
    "user_denylist": ["mallory@example.com"],
    "redirect_passlist": ["/blocked"]
}"#;

/// `POST /invite` as `user`.
async fn invite(base: &str, user: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/invite"))
        .header("x-user", user)
        .send()
        .await
        .unwrap()
}

fn agent() -> Agent {
    Agent::builder().rules_json(DENY_RULES).build().unwrap()
}

#[tokio::test]
async fn cidr_denied_client_behind_trusted_proxy_gets_403_json_and_html() {
    let agent = agent();
    let base = serve(&agent).await;
    // 127.0.0.1 is a trusted proxy by default, so its X-Forwarded-For is believed
    let (status, body) = get_with(&base, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(status, 403);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["errors"][0]["title"], "You've been blocked");
    let rid = json["security_response_id"].as_str().unwrap();
    assert_eq!(rid.len(), 32);

    let res = client()
        .get(&base)
        .header("x-forwarded-for", "203.0.113.9")
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("You've been blocked"));
    assert!(!page.contains("{rid}"));

    // a client outside the network is served
    assert_eq!(
        get_with(&base, &[("x-forwarded-for", "192.0.2.1")]).await.0,
        200
    );
    assert_eq!(agent.stats().blocked_ip, 2);
}

#[tokio::test]
async fn pass_list_beats_deny_list() {
    let base = serve(&agent()).await;
    let (status, body) = get_with(&base, &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_eq!((status, body.as_str()), (200, "hello"));
}

#[tokio::test]
async fn prepending_a_passlisted_address_does_not_spoof() {
    let base = serve(&agent()).await;
    // the attacker at 203.0.113.9 sends "X-Forwarded-For: 203.0.113.7"; the proxy appends its IP
    let (status, _) = get_with(
        &base,
        &[("x-forwarded-for", "203.0.113.7, 10.0.0.1, 203.0.113.9")],
    )
    .await;
    assert_eq!(status, 403);
    let (_, who) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "198.51.100.1, 192.0.2.55")],
    )
    .await;
    assert!(who.starts_with("192.0.2.55 "), "{who}");
}

#[tokio::test]
async fn spoofed_forwarded_header_from_untrusted_peer_is_ignored() {
    // loopback is not trusted here, so the peer is the client whatever the headers say
    let agent = Agent::builder()
        .trusted_proxies(["10.0.0.0/8"])
        .rules_json(r#"{"ip_denylist": ["127.0.0.1"], "ip_passlist": ["203.0.113.7"]}"#)
        .build()
        .unwrap();
    let base = serve(&agent).await;
    for header in [
        "x-forwarded-for",
        "x-real-ip",
        "true-client-ip",
        "cf-connecting-ip",
    ] {
        let (status, _) = get_with(&base, &[(header, "203.0.113.7")]).await;
        assert_eq!(status, 403, "{header} must not be believed");
    }
    let (status, _) = get_with(&base, &[("forwarded", "for=203.0.113.7")]).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn empty_trusted_proxies_trusts_nobody() {
    let config =
        Config::from_lookup(|k| Ok((k == "SQREEN_TRUSTED_PROXIES").then(String::new))).unwrap();
    let agent = sqreen::AgentBuilder::from_config(config)
        .rules_json(DENY_RULES)
        .build()
        .unwrap();
    let base = serve(&agent).await;
    let (status, _) = get_with(&base, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(status, 200);
    let (_, who) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    assert!(who.starts_with("127.0.0.1 "), "{who}");
}

#[tokio::test]
async fn ipv6_clients_are_resolved_and_denied() {
    let base = serve(&agent()).await;
    let (status, _) = get_with(&base, &[("x-forwarded-for", "2001:db8:bad::1")]).await;
    assert_eq!(status, 403);
    let (status, _) = get_with(
        &base,
        &[("forwarded", "for=\"[2001:db8:bad::42]:4711\";proto=https")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, who) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "[2001:db8:600d::1]:443")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(who.starts_with("2001:db8:600d::1 "), "{who}");
}

#[tokio::test]
async fn deny_listed_user_is_blocked_through_identify() {
    let agent = agent();
    let base = serve(&agent).await;
    let res = invite(&base, "mallory@example.com").await;
    assert_eq!(res.status(), 403, "the handler's 200 was replaced");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["title"], "You've been blocked");

    let res = invite(&base, "alice@example.com").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "alice@example.com invited");

    // a runtime redirect on a user: the handler sees the verdict, the client the redirect
    agent
        .redirect_user("bob@example.com", "/blocked", None)
        .unwrap();
    let res = invite(&base, "bob@example.com").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/blocked");
    assert!(agent.unblock_user("bob@example.com"));
    let res = invite(&base, "bob@example.com").await;
    assert_eq!(res.status(), 200);
    assert_eq!(agent.stats().blocked_user, 1);
    assert_eq!(agent.stats().redirected, 1);
}

#[tokio::test]
async fn timed_block_expires_on_the_manual_clock() {
    let clock = ManualClock::new(1_700_000_000_000);
    let agent = Agent::builder().clock(clock.clone()).build().unwrap();
    let base = serve(&agent).await;
    let ip: std::net::IpAddr = "192.0.2.50".parse().unwrap();
    agent.block_ip(ip, Some(Duration::from_secs(60))).unwrap();
    let xff = [("x-forwarded-for", "192.0.2.50")];
    assert_eq!(get_with(&base, &xff).await.0, 403);
    clock.advance(Duration::from_secs(59));
    assert_eq!(get_with(&base, &xff).await.0, 403);
    clock.advance(Duration::from_secs(1));
    assert_eq!(get_with(&base, &xff).await.0, 200);
    assert!(agent.actions().is_empty());
}

#[tokio::test]
async fn redirect_does_not_loop() {
    let agent = agent();
    let base = serve(&agent).await;
    let ip: std::net::IpAddr = "192.0.2.60".parse().unwrap();
    agent.redirect_ip(ip, "/blocked?from=sqreen", None).unwrap();
    let xff = [("x-forwarded-for", "192.0.2.60")];
    let res = client()
        .get(&base)
        .header(xff[0].0, xff[0].1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/blocked?from=sqreen");
    // the target itself is served, not redirected again
    let (status, body) = get_with(&format!("{base}/blocked"), &xff).await;
    assert_eq!((status, body.as_str()), (200, "blocked page"));
    // an absolute target is handled the same way
    agent
        .redirect_ip(ip, "https://example.com/blocked", None)
        .unwrap();
    assert_eq!(get_with(&format!("{base}/blocked"), &xff).await.0, 200);
    assert_eq!(get_with(&base, &xff).await.0, 303);
    // a browser following the redirect lands on the page
    let followed = reqwest::Client::new()
        .get(format!("{base}/"))
        .header("x-forwarded-for", "192.0.2.60")
        .send()
        .await;
    assert!(followed.is_err() || followed.unwrap().status() != 303);
}

#[tokio::test]
async fn broken_rules_file_keeps_previous_rules_and_a_fixed_one_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.json");
    std::fs::write(&path, r#"{"version": "v1", "ip_denylist": ["192.0.2.1"]}"#).unwrap();
    let agent = Agent::builder()
        .rules_path(&path)
        .rules_poll_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let base = serve(&agent).await;
    let a = [("x-forwarded-for", "192.0.2.1")];
    let b = [("x-forwarded-for", "192.0.2.2")];
    assert_eq!(get_with(&base, &a).await.0, 403);
    assert_eq!(get_with(&base, &b).await.0, 200);

    std::fs::write(
        &path,
        r#"{"version": "v2", "ip_denylist": ["192.0.2.2"], "playbooks": [{"id": "x", "trigger": {"event": "e", "threshold": 0, "period": "5m", "actor": "ip"}}]}"#,
    )
    .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().rules_rejected == 1).await,
        "the broken document was seen and rejected"
    );
    assert_eq!(agent.rules_version().as_deref(), Some("v1"));
    assert_eq!(
        get_with(&base, &a).await.0,
        403,
        "previous rules still enforced"
    );
    assert_eq!(get_with(&base, &b).await.0, 200);

    std::fs::write(&path, r#"{"version": "v3", "ip_denylist": ["192.0.2.2"]}"#).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || agent.rules_version().as_deref()
            == Some("v3"))
        .await
    );
    assert_eq!(get_with(&base, &a).await.0, 200);
    assert_eq!(get_with(&base, &b).await.0, 403);
    let err = {
        std::fs::write(&path, "{ not json").unwrap();
        agent.reload_rules().unwrap_err()
    };
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[tokio::test]
async fn disabled_agent_passes_everything_through_untouched() {
    let config =
        Config::from_lookup(|k| Ok((k == "SQREEN_DISABLE").then(|| "true".to_owned()))).unwrap();
    let agent = sqreen::AgentBuilder::from_config(config)
        .rules_json(DENY_RULES)
        .build()
        .unwrap();
    agent
        .block_ip("192.0.2.70".parse::<std::net::IpAddr>().unwrap(), None)
        .unwrap();
    let base = serve(&agent).await;
    let (status, body) = get_with(&base, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!((status, body.as_str()), (200, "hello"));
    let (_, who) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "192.0.2.70")],
    )
    .await;
    assert_eq!(who, "no context");
    let res = invite(&base, "mallory@example.com").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn handler_sees_the_context_in_extensions_and_task_local() {
    let base = serve(&agent()).await;
    let (status, who) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "192.0.2.80")],
    )
    .await;
    assert_eq!(status, 200);
    let (ip, rid) = who.split_once(' ').unwrap();
    assert_eq!(ip, "192.0.2.80");
    assert_eq!(rid.len(), 32);
    assert!(rid.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn form_and_json_bodies_reach_the_handler_byte_for_byte_within_and_over_the_limit() {
    let config =
        Config::from_lookup(|k| Ok((k == "SQREEN_MAX_BODY_BYTES").then(|| "64".to_owned())))
            .unwrap();
    let agent = sqreen::AgentBuilder::from_config(config).build().unwrap();
    // the layer for axum and the generic tower layer
    for base in [
        serve(&agent).await,
        serve_router(common::app().layer(agent.layer())).await,
    ] {
        bodies_are_handed_on_byte_for_byte(&base).await;
    }
}

async fn bodies_are_handed_on_byte_for_byte(base: &str) {
    let long_json = format!("{{\"text\": \"{}\"}}", "é".repeat(5_000));
    let long_form = format!("a=1&b={}&c=3", "x%20y".repeat(3_000));
    let cases = [
        (
            "application/json",
            r#"{"q": "shoes", "n": [1, 2, 3]}"#.to_owned(),
        ),
        ("application/json; charset=utf-8", long_json),
        (
            "application/x-www-form-urlencoded",
            "user=alice&password=hunter2".to_owned(),
        ),
        ("application/x-www-form-urlencoded", long_form),
        (
            "text/plain",
            "a note of plain text, read and handed on".to_owned(),
        ),
        ("application/json", "{ not json at all".to_owned()),
    ];
    for (content_type, body) in cases {
        let res = client()
            .post(format!("{base}/echo"))
            .header("content-type", content_type)
            .header("x-forwarded-for", "192.0.2.99")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{content_type}");
        let echoed = res.bytes().await.unwrap();
        assert_eq!(echoed.len(), body.len(), "{content_type}");
        assert!(
            echoed == body.as_bytes(),
            "{content_type}: the body changed"
        );
    }
    // chunked (no content-length): streamed in pieces, handed on whole
    let chunks: Vec<Result<&'static str, std::io::Error>> =
        vec![Ok("{\"a\": "), Ok("\"b\", "), Ok("\"c\": 1}")];
    let res = client()
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), r#"{"a": "b", "c": 1}"#);
}

fn futures_stream(
    items: Vec<Result<&'static str, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<&'static str, std::io::Error>> + Send + Sync + 'static
{
    Iter(items.into_iter())
}

struct Iter(std::vec::IntoIter<Result<&'static str, std::io::Error>>);

impl futures_core::Stream for Iter {
    type Item = Result<&'static str, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.next())
    }
}
