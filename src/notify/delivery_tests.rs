//! Unit tests of the retry loop over real HTTP on 127.0.0.1: which answers are retried, timeouts,
//! connection errors, `stop`, `Retry-After`, and the backoff arithmetic. Tests only; never part
//! of the build proper.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use super::test_receiver::{closed_port_url, fast_policy, Receiver, Reply};
use super::*;

fn json_attempt(attempt: u32) -> Attempt {
    Attempt {
        body: format!("{{\"attempt\":{attempt}}}").into_bytes(),
        headers: vec![("X-Attempt", attempt.to_string())],
    }
}

/// A poster whose observer records every retry reason.
fn observed(url: &str, policy: RetryPolicy) -> (Poster, Arc<Mutex<Vec<RetryReason>>>) {
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let mut poster = Poster::new("test", url, policy);
    let seen = reasons.clone();
    poster.set_observer(Arc::new(move |r: &RetryReason| {
        seen.lock().unwrap().push(r.clone())
    }));
    (poster, reasons)
}

fn never() -> impl Fn() -> bool {
    || false
}

/// `stop` that turns true `after` from now.
fn stop_after(after: Duration) -> impl Fn() -> bool {
    let deadline = Instant::now() + after;
    move || Instant::now() >= deadline
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.backoff_cap(0), Duration::from_millis(100));
    assert_eq!(policy.backoff_cap(1), Duration::from_millis(200));
    assert_eq!(policy.backoff_cap(4), Duration::from_millis(1_600));
    assert_eq!(policy.backoff_cap(9), Duration::from_secs(30));
    assert_eq!(policy.backoff_cap(u32::MAX), Duration::from_secs(30));
    for retry in [0, 3, 8, 40] {
        for _ in 0..100 {
            assert!(policy.backoff(retry) <= policy.backoff_cap(retry));
        }
    }
    let waits: Vec<Duration> = (0..50).map(|_| policy.backoff(10)).collect();
    assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
}

#[test]
fn default_policy_matches_the_design() {
    let p = RetryPolicy::default();
    assert_eq!(p.first_backoff, Duration::from_millis(100));
    assert_eq!(p.max_backoff, Duration::from_secs(30));
    assert_eq!(p.connect_timeout, Duration::from_secs(2));
    assert_eq!(p.timeout, Duration::from_secs(10));
}

#[test]
fn urls_are_checked_and_never_echoed() {
    assert!(validate_url("http://127.0.0.1:8080/hook").is_ok());
    assert!(validate_url("https://hooks.slack.com/services/T0/B0/XYZ").is_ok());
    for bad in [
        "",
        "hooks.example.com/x",
        "ftp://example.com/x",
        "http:///x",
        "https://exa mple.com/secretpath",
    ] {
        let err = validate_url(bad).unwrap_err();
        assert!(
            !err.contains("secretpath") && !err.contains("example"),
            "{err}"
        );
    }
    let uri = parse_url("https://hooks.slack.com/services/T0/B0/XYZ?x=1").unwrap();
    assert_eq!(shown_url(&uri), "https://hooks.slack.com");
    let uri = parse_url("http://127.0.0.1:9/a?token=t").unwrap();
    assert_eq!(shown_url(&uri), "http://127.0.0.1:9");
    let poster = Poster::new("test", "http://example.com/services/secret", fast_policy());
    assert!(!format!("{poster:?}").contains("secret"));
}

#[test]
fn an_invalid_url_fails_at_once() {
    let poster = Poster::new("test", "not a url", fast_policy());
    let mut made = 0;
    let outcome = poster.post_with_retries(
        &mut |n| {
            made += 1;
            json_attempt(n)
        },
        &never(),
    );
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(made, 0);
}

#[test]
fn each_attempt_gets_its_own_body_and_headers() {
    let receiver = Receiver::start(vec![Reply::Status(500), Reply::Status(502)]);
    let (poster, reasons) = observed(&receiver.url(), fast_policy());
    let outcome = poster.post_with_retries(&mut json_attempt, &never());
    assert_eq!(outcome, Outcome::Delivered { attempts: 3 });
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    for (n, request) in got.iter().enumerate() {
        assert_eq!(request.json()["attempt"], n);
        assert_eq!(request.header("x-attempt"), Some(n.to_string().as_str()));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    }
    assert!(USER_AGENT.starts_with("sqreen-rs/"));
    assert_eq!(
        *reasons.lock().unwrap(),
        [RetryReason::Status(500), RetryReason::Status(502)]
    );
}

#[test]
fn status_429_is_retried_and_retry_after_is_obeyed_up_to_the_cap() {
    let receiver = Receiver::start(vec![Reply::RetryAfter(429, 1)]);
    let policy = RetryPolicy {
        max_backoff: Duration::from_millis(300),
        ..fast_policy()
    };
    let (poster, reasons) = observed(&receiver.url(), policy);
    let started = Instant::now();
    let outcome = poster.post_with_retries(&mut json_attempt, &never());
    let took = started.elapsed();
    assert_eq!(outcome, Outcome::Delivered { attempts: 2 });
    assert_eq!(*reasons.lock().unwrap(), [RetryReason::Status(429)]);
    // `Retry-After: 1` waits at least the 300 ms cap, and not the whole second.
    assert!(took >= Duration::from_millis(280), "{took:?}");
    assert!(took < Duration::from_millis(950), "{took:?}");
}

#[test]
fn redirects_and_client_errors_are_not_retried() {
    for status in [301, 307, 400, 401, 404, 410] {
        let receiver = Receiver::start(vec![Reply::Status(status)]);
        let (poster, reasons) = observed(&receiver.url(), fast_policy());
        let outcome = poster.post_with_retries(&mut json_attempt, &never());
        assert_eq!(outcome, Outcome::Rejected { status });
        assert_eq!(receiver.received().len(), 1);
        assert!(reasons.lock().unwrap().is_empty());
    }
}

#[test]
fn any_2xx_is_success() {
    for status in [200, 201, 202, 204] {
        let receiver = Receiver::start(vec![Reply::Status(status)]);
        let poster = Poster::new("test", &receiver.url(), fast_policy());
        let outcome = poster.post_with_retries(&mut json_attempt, &never());
        assert_eq!(outcome, Outcome::Delivered { attempts: 1 });
    }
}

#[test]
fn connection_refused_is_retried_until_stop() {
    let (poster, reasons) = observed(&closed_port_url(), fast_policy());
    let outcome =
        poster.post_with_retries(&mut json_attempt, &stop_after(Duration::from_millis(200)));
    let Outcome::Abandoned {
        attempts,
        last_error,
    } = outcome
    else {
        panic!("expected Abandoned, got {outcome:?}");
    };
    assert!(attempts >= 3, "{attempts}");
    assert!(last_error.contains("connection"), "{last_error}");
    let reasons = reasons.lock().unwrap();
    assert_eq!(reasons.len() as u32, attempts);
    assert!(reasons
        .iter()
        .all(|r| matches!(r, RetryReason::Connection(_))));
}

#[test]
fn a_receiver_that_never_answers_times_out_and_is_retried() {
    let receiver = Receiver::start(vec![Reply::Silent]);
    let policy = RetryPolicy {
        timeout: Duration::from_millis(300),
        ..fast_policy()
    };
    let (poster, reasons) = observed(&receiver.url(), policy);
    let started = Instant::now();
    let outcome = poster.post_with_retries(&mut json_attempt, &never());
    assert_eq!(outcome, Outcome::Delivered { attempts: 2 });
    assert_eq!(*reasons.lock().unwrap(), [RetryReason::Timeout]);
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!(receiver.received().len(), 2);
}

#[test]
fn stop_interrupts_a_long_backoff_quickly() {
    let receiver = Receiver::start(vec![Reply::Status(503); 100]);
    let policy = RetryPolicy {
        first_backoff: Duration::from_secs(20),
        max_backoff: Duration::from_secs(20),
        ..fast_policy()
    };
    let poster = Poster::new("test", &receiver.url(), policy);
    let stopped = Arc::new(AtomicBool::new(false));
    let stopped_at = Arc::new(Mutex::new(None::<Instant>));
    let flipper = {
        let (stopped, stopped_at) = (stopped.clone(), stopped_at.clone());
        std::thread::spawn(move || {
            // Long enough for the first attempt to fail and the backoff to start (a zero
            // jittered wait only means more attempts before this).
            std::thread::sleep(Duration::from_millis(300));
            *stopped_at.lock().unwrap() = Some(Instant::now());
            stopped.store(true, Ordering::SeqCst);
        })
    };
    let outcome = poster.post_with_retries(&mut json_attempt, &|| stopped.load(Ordering::SeqCst));
    let returned = Instant::now();
    flipper.join().unwrap();
    let lag = returned - stopped_at.lock().unwrap().expect("stop was set");
    assert!(
        matches!(outcome, Outcome::Abandoned { attempts, .. } if attempts >= 1),
        "{outcome:?}"
    );
    assert!(lag < Duration::from_millis(100), "{lag:?}");
}

#[test]
fn stop_before_the_first_attempt_sends_nothing() {
    let receiver = Receiver::start(vec![]);
    let poster = Poster::new("test", &receiver.url(), fast_policy());
    let outcome = poster.post_with_retries(&mut json_attempt, &|| true);
    assert!(matches!(outcome, Outcome::Abandoned { attempts: 0, .. }));
    assert!(receiver.received().is_empty());
}

#[test]
fn sleep_unless_stopped_wakes_on_stop() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let slept = sleep_unless_stopped(Duration::from_secs(10), &|| {
        calls.fetch_add(1, Ordering::SeqCst) >= 2
    });
    assert!(!slept);
    assert!(started.elapsed() < Duration::from_millis(200));
    assert!(sleep_unless_stopped(Duration::from_millis(30), &never()));
}

#[test]
fn https_without_tls_fails_at_once_instead_of_retrying_for_ever() {
    let receiver = Receiver::start(vec![]);
    let url = receiver.url().replace("http://", "https://");
    let poster = Poster::new("test", &url, fast_policy());
    let stop = stop_after(Duration::from_millis(300));
    match poster.post_with_retries(&mut json_attempt, &stop) {
        Outcome::Failed { reason } => assert!(reason.contains("TLS"), "{reason}"),
        // A build with TLS: the handshake with this plain receiver fails, and is retried.
        Outcome::Abandoned { .. } => {}
        other => panic!("{other:?}"),
    }
}
