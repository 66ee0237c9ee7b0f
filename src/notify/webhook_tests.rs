//! Unit tests of the webhook envelope, its signature, the RFC 3339 dates and [`WebhookSink`]
//! over real HTTP on 127.0.0.1 (batching, retries, `retry_count`). Tests only; never part of the
//! build proper.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::notify::delivery::test_receiver::{closed_port_url, fast_policy, Receiver, Reply};

fn batch(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            Message::new(
                MessageType::SecurityEvent,
                json!({ "i": i }),
                1_795_449_600_123,
            )
        })
        .collect()
}

#[test]
fn rfc3339_known_dates() {
    let cases = [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (86_399_999, "1970-01-01T23:59:59.999Z"),
        (68_255_999_999, "1972-02-29T23:59:59.999Z"),
        (946_684_799_000, "1999-12-31T23:59:59.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
        (1_795_449_600_123, "2026-11-23T16:00:00.123Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (13_574_608_496_789, "2400-02-29T12:34:56.789Z"),
    ];
    for (ms, want) in cases {
        assert_eq!(rfc3339_millis(ms), want, "{ms}");
    }
    // 2100 is not a leap year: the day after 28 February is 1 March.
    assert_eq!(
        rfc3339_millis(4_107_542_400_000 - 86_400_000),
        "2100-02-28T00:00:00.000Z"
    );
    // Every day of four centuries parses back to consecutive dates.
    let mut previous = rfc3339_millis(0);
    for day in 1..146_097u64 {
        let now = rfc3339_millis(day * 86_400_000);
        assert!(now > previous, "{now} after {previous}");
        previous = now;
    }
    assert_eq!(previous, "2369-12-31T00:00:00.000Z");
    let _ = rfc3339_millis(u64::MAX); // no panic
}

#[test]
fn signatures_match_rfc_4231_and_verify_in_either_case() {
    // RFC 4231, test case 2.
    let want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let body = b"what do ya want for nothing?";
    assert_eq!(sign(body, b"Jefe"), want);
    assert!(verify(body, b"Jefe", want));
    assert!(verify(body, b"Jefe", &want.to_uppercase()));
    assert!(!verify(body, b"jefe", want));
    assert!(!verify(b"what do ya want for nothing!", b"Jefe", want));
    assert!(!verify(body, b"Jefe", &want[..62]));
    assert!(!verify(body, b"Jefe", "not hex"));
    assert!(!verify(body, b"Jefe", ""));
}

#[test]
fn messages_have_the_envelope() {
    let m = Message::new(
        MessageType::SecurityResponse,
        json!({ "k": 1 }),
        1_795_449_600_123,
    );
    assert_eq!(m.message_id.len(), 32);
    assert!(m
        .message_id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_ne!(m.message_id, Message::test(0).message_id);
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({
            "message_id": m.message_id,
            "api_version": "2",
            "date_created": "2026-11-23T16:00:00.123Z",
            "message_type": "security_response",
            "retry_count": 0,
            "message": { "k": 1 },
        })
    );
    for (t, s) in [
        (MessageType::SecurityEvent, "security_event"),
        (MessageType::Digest, "digest"),
        (MessageType::Test, "test"),
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), s);
    }
    assert_eq!(Message::test(0).message_type, MessageType::Test);
}

#[test]
fn a_batch_arrives_as_a_signed_json_array() {
    let receiver = Receiver::start(vec![]);
    let sink = WebhookSink::new(&receiver.url(), Some("s3cret"), fast_policy());
    let mut messages = batch(3);
    assert_eq!(
        sink.send(&mut messages, &|| false),
        Outcome::Delivered { attempts: 1 }
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    let array = body.as_array().expect("a JSON array");
    assert_eq!(array.len(), 3);
    for (i, m) in array.iter().enumerate() {
        assert_eq!(m["message_id"], messages[i].message_id);
        assert_eq!(m["api_version"], "2");
        assert_eq!(m["date_created"], "2026-11-23T16:00:00.123Z");
        assert_eq!(m["message_type"], "security_event");
        assert_eq!(m["retry_count"], 0);
        assert_eq!(m["message"], json!({ "i": i }));
    }
    let signature = got[0].header("x-sqreen-integrity").expect("signed");
    assert_eq!(signature, signature.to_lowercase());
    assert!(verify(&got[0].body, b"s3cret", signature));
    assert!(!verify(&got[0].body, b"wrong secret", signature));
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert!(got[0]
        .header("user-agent")
        .unwrap()
        .starts_with("sqreen-rs/"));
}

#[test]
fn no_secret_no_signature_header() {
    for secret in [None, Some("")] {
        let receiver = Receiver::start(vec![]);
        let sink = WebhookSink::new(&receiver.url(), secret, fast_policy());
        assert!(sink.send(&mut batch(1), &|| false).is_delivered());
        assert_eq!(receiver.received()[0].header("x-sqreen-integrity"), None);
    }
}

#[test]
fn retries_raise_retry_count_and_re_sign() {
    let receiver = Receiver::start(vec![Reply::Status(503); 3]);
    let sink = WebhookSink::new(&receiver.url(), Some("s3cret"), fast_policy());
    let mut messages = batch(2);
    let outcome = sink.send(&mut messages, &|| false);
    assert_eq!(outcome, Outcome::Delivered { attempts: 4 });
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.json()[1]["message_id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "same messages each time"
    );
    for (n, request) in got.iter().enumerate() {
        for m in request.json().as_array().unwrap() {
            assert_eq!(m["retry_count"], n);
        }
        let signature = request.header("x-sqreen-integrity").unwrap();
        assert!(verify(&request.body, b"s3cret", signature), "attempt {n}");
    }
    assert_ne!(
        got[0].header("x-sqreen-integrity"),
        got[3].header("x-sqreen-integrity")
    );
}

#[test]
fn status_429_is_retried_and_400_is_not() {
    let receiver = Receiver::start(vec![Reply::Status(429)]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    assert_eq!(
        sink.send(&mut batch(1), &|| false),
        Outcome::Delivered { attempts: 2 }
    );
    assert_eq!(receiver.received().len(), 2);

    let receiver = Receiver::start(vec![Reply::Status(400)]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    assert_eq!(
        sink.send(&mut batch(1), &|| false),
        Outcome::Rejected { status: 400 }
    );
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn large_batches_go_out_in_requests_of_at_most_1000() {
    let receiver = Receiver::start(vec![]);
    let sink = WebhookSink::new(&receiver.url(), Some("k"), fast_policy());
    let mut messages = batch(2_500);
    assert_eq!(
        sink.send(&mut messages, &|| false),
        Outcome::Delivered { attempts: 3 }
    );
    let got = receiver.received();
    let sizes: Vec<usize> = got
        .iter()
        .map(|r| r.json().as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1_000, 1_000, 500]);
    assert_eq!(got[2].json()[499]["message"]["i"], 2_499);
    assert!(got
        .iter()
        .all(|r| verify(&r.body, b"k", r.header("x-sqreen-integrity").unwrap())));
}

#[test]
fn a_rejected_request_does_not_stop_the_others() {
    let receiver = Receiver::start(vec![Reply::Status(413)]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    let outcome = sink.send(&mut batch(1_500), &|| false);
    assert_eq!(outcome, Outcome::Rejected { status: 413 });
    assert_eq!(receiver.received().len(), 2);
}

#[test]
fn the_batch_keeps_the_retry_counts_last_sent() {
    let receiver = Receiver::start(vec![]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    let mut messages = batch(2);
    assert!(sink.send(&mut messages, &|| false).is_delivered());
    assert!(messages.iter().all(|m| m.retry_count == 0));

    let receiver = Receiver::start(vec![Reply::Status(503); 2]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    assert!(sink.send(&mut messages, &|| false).is_delivered());
    assert!(messages.iter().all(|m| m.retry_count == 2));

    // Sent again: the first request repeats the last count, and retries go on from there.
    let receiver = Receiver::start(vec![Reply::Status(503)]);
    let sink = WebhookSink::new(&receiver.url(), None, fast_policy());
    assert!(sink.send(&mut messages, &|| false).is_delivered());
    let got = receiver.received();
    assert_eq!(got[0].json()[0]["retry_count"], 2);
    assert_eq!(got[1].json()[0]["retry_count"], 3);

    let sink = WebhookSink::new(&closed_port_url(), None, fast_policy());
    let mut messages = batch(2);
    let deadline = Instant::now() + Duration::from_millis(100);
    let outcome = sink.send(&mut messages, &|| Instant::now() >= deadline);
    let Outcome::Abandoned { attempts, .. } = outcome else {
        panic!("expected Abandoned, got {outcome:?}");
    };
    assert!(messages.iter().all(|m| m.retry_count == attempts - 1));
    let mut untouched = batch(1);
    let outcome = sink.send(&mut untouched, &|| true);
    assert!(matches!(outcome, Outcome::Abandoned { attempts: 0, .. }));
    assert_eq!(untouched[0].retry_count, 0);
}

#[test]
fn an_empty_batch_sends_nothing() {
    let sink = WebhookSink::new(&closed_port_url(), None, fast_policy());
    assert_eq!(
        sink.send(&mut [], &|| false),
        Outcome::Delivered { attempts: 0 }
    );
}

#[test]
fn debug_shows_neither_secret_nor_path() {
    let sink = WebhookSink::new(
        "https://example.com/p4th?t=1",
        Some("hunter2"),
        fast_policy(),
    );
    let shown = format!("{sink:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("p4th"),
        "{shown}"
    );
    assert!(shown.contains("https://example.com"), "{shown}");
}
