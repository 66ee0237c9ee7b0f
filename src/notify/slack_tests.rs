//! Unit tests of the Slack messages (what they say, that they are link-free and escaped) and of
//! [`SlackSink`] over real HTTP on 127.0.0.1. Tests only; never part of the build proper.

use std::time::Duration;

use super::*;
use crate::notify::delivery::test_receiver::{fast_policy, Receiver, Reply};

fn notification() -> PlaybookNotification {
    PlaybookNotification {
        playbook_id: "brute-force".to_string(),
        playbook_name: "Brute force on login".to_string(),
        severity: Severity::High,
        frequency: Frequency::Immediately,
        webhook: false,
        slack: true,
        email: false,
        actor: "ip 192.0.2.7".to_string(),
        event: "app.sqreen.auth.login_failure".to_string(),
        count: 12,
        threshold: 10,
        period: Duration::from_secs(300),
        action: "redirect to https://www.example.com/blocked?reason=abuse for 1h".to_string(),
        at: 1_795_449_600_123,
    }
}

fn digest() -> DigestEntry {
    DigestEntry {
        playbook_id: "free-plan-abuse".to_string(),
        playbook_name: "Free plan abuse".to_string(),
        frequency: Frequency::Daily,
        count: 7,
        top_actors: vec![
            ("user mallory@example.com".to_string(), 5),
            ("ip 203.0.113.9".to_string(), 2),
        ],
        first_ms: 1_795_392_000_000,
        last_ms: 1_795_449_600_123,
        period_start_ms: 1_795_392_000_000,
        period_end_ms: 1_795_478_400_000,
    }
}

#[test]
fn the_notification_says_who_did_what_how_often_and_what_was_done() {
    let message = notification_message(&notification());
    let text = message["text"].as_str().unwrap();
    for want in [
        "Brute force on login",
        "`ip 192.0.2.7`",
        "`app.sqreen.auth.login_failure`",
        "12 times",
        "within 5m",
        "`redirect to /blocked for 1h`",
        "High",
    ] {
        assert!(text.contains(want), "{want:?} in {text}");
    }
    let all = message.to_string();
    for want in [
        "Playbook fired: Brute force on login",
        "*12*",
        "*5m*",
        "12 (threshold 10)",
        "`redirect to /blocked for 1h`",
        ":red_circle: High",
        "`brute-force`",
        "2026-11-23 16:00:00 UTC",
    ] {
        assert!(all.contains(want), "{want:?} in {all}");
    }
    assert!(!all.to_lowercase().contains("http"), "{all}");
    assert!(
        !all.contains("example.com") && !all.contains("reason=abuse"),
        "{all}"
    );
    assert_eq!(message["unfurl_links"], false);
    assert_eq!(message["blocks"][0]["type"], "header");
}

#[test]
fn untrusted_text_can_neither_link_nor_mention_nor_break_out() {
    let mut n = notification();
    n.actor = "user <!channel> <https://evil.example/x|click> `ha`\n*bold*".to_string();
    n.playbook_name = "Name with http://evil.example/phish & <stuff>".to_string();
    n.event = "x".repeat(1_000);
    let message = notification_message(&n);
    let all = message.to_string();
    assert!(
        !all.contains("<!channel>") && !all.contains("<https"),
        "{all}"
    );
    assert!(!all.contains("evil.example"), "{all}");
    assert!(!all.to_lowercase().contains("http"), "{all}");
    let text = message["text"].as_str().unwrap();
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(text.contains("&amp;"), "{text}");
    assert!(text.contains("'ha'"), "no backtick inside code: {text}");
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains(&"x".repeat(201)), "cut: {text}");
    let header = message["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.chars().count() <= 151, "{header}");
}

#[test]
fn urls_are_cut_to_their_path() {
    let cases = [
        (
            "redirect to https://a.example/blocked for 1h",
            "redirect to /blocked for 1h",
        ),
        ("https://a.example", "/"),
        ("http://a.example:8080/p/q?token=x#f", "/p/q"),
        ("see(HTTPS://A.example/x)", "see(/x)"),
        ("url=http://a.example/a/http://b.example/c", "url=/a//c"),
        ("https://a.example?next=/x", "/"),
        ("no links here: /blocked", "no links here: /blocked"),
        ("tabs\tand  spaces ftp://h/x", "tabs\tand  spaces /x"),
        ("", ""),
        ("://", "/"),
    ];
    for (input, want) in cases {
        assert_eq!(strip_urls(input), want, "{input:?}");
    }
}

#[test]
fn the_digest_lists_counts_times_and_top_actors() {
    let message = digest_message(&digest());
    let all = message.to_string();
    for want in [
        "Daily digest: Free plan abuse",
        "*7* times",
        "2026-11-23 00:00:00 UTC",
        "2026-11-24 00:00:00 UTC",
        "2026-11-23 16:00:00 UTC",
        "`user mallory@example.com`: 5",
        "`ip 203.0.113.9`: 2",
        "`free-plan-abuse`",
        "daily digest",
    ] {
        assert!(all.contains(want), "{want:?} in {all}");
    }
    assert!(!all.to_lowercase().contains("http"), "{all}");
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("Free plan abuse") && text.contains("7 times"),
        "{text}"
    );

    let mut quiet = digest();
    quiet.frequency = Frequency::Weekly;
    quiet.count = 1;
    quiet.top_actors.clear();
    let all = digest_message(&quiet).to_string();
    assert!(
        all.contains("Weekly digest") && all.contains("*1* time "),
        "{all}"
    );
    assert!(all.contains("none recorded"), "{all}");
}

#[test]
fn the_sink_posts_the_message_unsigned_and_retries() {
    let receiver = Receiver::start(vec![Reply::Status(500)]);
    let sink = SlackSink::new(&receiver.url(), fast_policy());
    let outcome = sink.send_notification(&notification(), &|| false);
    assert_eq!(outcome, Outcome::Delivered { attempts: 2 });
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].json(), notification_message(&notification()));
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(got[1].header("x-sqreen-integrity"), None);
    assert_eq!(got[1].header("content-type"), Some("application/json"));

    let receiver = Receiver::start(vec![]);
    let sink = SlackSink::new(&receiver.url(), fast_policy());
    assert!(sink.send_digest(&digest(), &|| false).is_delivered());
    assert_eq!(receiver.received()[0].json(), digest_message(&digest()));
}

#[test]
fn slack_errors_are_not_retried() {
    // Slack answers 404 `no_service` or 410 `channel_is_archived` for a dead webhook.
    let receiver = Receiver::start(vec![Reply::Status(404)]);
    let sink = SlackSink::new(&receiver.url(), fast_policy());
    let outcome = sink.send_text(&serde_json::json!({ "text": "hi" }), &|| false);
    assert_eq!(outcome, Outcome::Rejected { status: 404 });
    assert_eq!(receiver.received().len(), 1);
    assert!(!format!("{sink:?}").contains("hooks"));
}
