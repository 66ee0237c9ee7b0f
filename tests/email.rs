//! Email notifications over real SMTP: an axum app with the layer, the agent's own email thread,
//! and a small SMTP server of the test suite (`support/smtp.rs`) on 127.0.0.1 that speaks the
//! protocol line by line, records what it accepts, and can refuse or be down.

mod common;
#[path = "support/smtp.rs"]
mod smtp;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use common::{client, eventually, serve_router};
use serde_json::Value;
use smtp::{Received, SmtpServer};
use sqreen::playbook::{ActorKind, Frequency, Notification, Playbook, ResponseAction};
use sqreen::{Actor, Agent, AgentBuilder, ManualClock, UserKeys};

const ADMIN_TOKEN: &str = "email-test-admin-token";
const FROM: &str = "Sqreen <sqreen@example.com>";
const TO: [&str; 2] = ["ops@example.com", "security@example.com"];

/// An agent that emails through `server`, authenticating as alerts / hunter2.
fn builder(server: &SmtpServer) -> AgentBuilder {
    let url = format!("smtp://alerts:hunter2@127.0.0.1:{}", server.port());
    Agent::builder()
        .configure(|c| c.app_name = "shop".to_owned())
        .smtp(&url)
        .email_from(FROM)
        .email_to(TO)
        .admin_token(ADMIN_TOKEN)
}

fn invites(frequency: Frequency) -> sqreen::playbook::PlaybookBuilder {
    Playbook::on("user.invited")
        .id("free-plan-abuse")
        .name("Free plan abuse")
        .threshold(2)
        .within(Duration::from_secs(300))
        .by(ActorKind::User)
        .respond(ResponseAction::block_for(Duration::from_secs(3600)))
        .notify(Notification {
            frequency,
            email: true,
            ..Notification::default()
        })
}

/// `POST /invite` with the user in the body (attacker-controlled, as any form field):
/// `identify` + `track("user.invited")`, like the quickstart's route.
fn app() -> Router {
    Router::new().route(
        "/invite",
        post(|user: String| async move {
            sqreen::identify(UserKeys::new().with("email", user.as_str()));
            format!("{:?}", sqreen::track("user.invited", Value::Null))
        }),
    )
}

async fn invite(base: &str, user: &str) -> u16 {
    client()
        .post(format!("{base}/invite"))
        .header("x-forwarded-for", "192.0.2.10")
        .body(user.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn admin(base: &str, endpoint: &str) -> String {
    client()
        .get(format!("{base}/_sqreen/{endpoint}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

fn parts(m: &Received) -> (String, String) {
    (
        m.part("text/plain").expect("a text/plain part"),
        m.part("text/html").expect("a text/html part"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immediate_email_arrives_with_the_playbook_actor_and_recipients() {
    let server = SmtpServer::start();
    let agent = builder(&server)
        .playbook(invites(Frequency::Immediately))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    assert_eq!(invite(&base, "mallory@example.com").await, 200);
    // the invite that fires the playbook is answered with its block
    assert_eq!(invite(&base, "mallory@example.com").await, 403);
    assert!(eventually(Duration::from_secs(5), || server.messages().len() == 1).await);
    let m = &server.messages()[0];
    assert_eq!(m.mail_from, "sqreen@example.com");
    assert_eq!(m.rcpt_to, TO);
    assert_eq!(m.auth, Some(("alerts".to_owned(), "hunter2".to_owned())));
    assert_eq!(
        m.header("Subject").unwrap(),
        "[shop] Sqreen: playbook \"Free plan abuse\" fired (medium)"
    );
    assert!(m.header("From").unwrap().contains("sqreen@example.com"));
    let to = m.header("To").unwrap();
    assert!(TO.iter().all(|a| to.contains(a)), "{to}");
    assert_eq!(m.header("Auto-Submitted").unwrap(), "auto-generated");
    let (text, html) = parts(m);
    for part in [&text, &html] {
        for expected in [
            "Free plan abuse",
            "user mallory@example.com",
            "user.invited, 2 times within 5m (threshold 2)",
            "block for 1h",
            "shop",
        ] {
            assert!(part.contains(expected), "{expected} missing from {part}");
        }
    }
    assert!(html.contains("<table"), "{html}");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.email_sent
            == 1)
        .await
    );
    let metrics = admin(&base, "metrics").await;
    assert_eq!(
        metric(&metrics, "sqreen_deliveries_total{sink=\"email\"}"),
        Some(1.0),
        "{metrics}"
    );
    // once per firing: mallory is blocked now, a third invite does not fire again
    invite(&base, "mallory@example.com").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.messages().len(), 1);
    assert_eq!(agent.shutdown(Duration::from_secs(5)), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_arrives_once_with_every_firing_of_the_day() {
    let server = SmtpServer::start();
    let day = Duration::from_secs(86_400);
    let clock = ManualClock::new(1_795_392_000_000 + 3_600_000); // 2026-11-23 01:00 UTC
    let agent = builder(&server)
        .clock(clock.clone())
        .playbook(invites(Frequency::Daily).respond(ResponseAction::none()))
        .playbook(
            Playbook::on("csrf_request")
                .id("csrf")
                .name("CSRF abuse")
                .threshold(1)
                .within(Duration::from_secs(60))
                .by(ActorKind::Ip)
                .respond(ResponseAction::none())
                .notify(Notification {
                    frequency: Frequency::Daily,
                    email: true,
                    ..Notification::default()
                }),
        )
        .build()
        .unwrap();
    // one a minute from 01:00: mallory fires at her 2nd and 4th invites (01:01, 01:04), trudy
    // at her 2nd (01:05); CSRF: one address, once
    let (mallory, trudy) = (
        Actor::User("mallory@example.com".into()),
        Actor::User("trudy@example.com".into()),
    );
    for actor in [&mallory, &mallory, &trudy, &mallory, &mallory, &trudy] {
        agent.track_for(actor, "user.invited", Value::Null);
        clock.advance(Duration::from_secs(60));
    }
    let csrf = Actor::ip("203.0.113.9".parse().unwrap());
    agent.track_for(&csrf, "csrf_request", Value::Null);
    assert_eq!(agent.stats().playbooks_fired, 4);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.messages().is_empty(), "nothing before the day ends");

    clock.advance(day);
    assert!(eventually(Duration::from_secs(5), || server.messages().len() == 1).await);
    let m = &server.messages()[0];
    assert_eq!(m.rcpt_to, TO);
    assert_eq!(
        m.header("Subject").unwrap(),
        "[shop] Sqreen daily digest: \"CSRF abuse\" (1), \"Free plan abuse\" (3)"
    );
    let (text, html) = parts(m);
    for part in [&text, &html] {
        for expected in [
            "from 2026-11-23 00:00:00 UTC to 2026-11-24 00:00:00 UTC",
            "fired 3 times",
            "fired 1 time,",
            "user mallory@example.com",
            "user trudy@example.com",
            "ip 203.0.113.9",
        ] {
            assert!(part.contains(expected), "{expected} missing from {part}");
        }
    }
    assert!(
        text.contains(
            "user mallory@example.com: 2 times, first seen 2026-11-23 01:01:00 UTC, \
             last seen 2026-11-23 01:04:00 UTC, action taken: none"
        ),
        "{text}"
    );
    assert!(
        text.contains("user trudy@example.com: 1 time, first seen 2026-11-23 01:05:00 UTC"),
        "{text}"
    );
    assert_eq!(html.matches("<table").count(), 2, "{html}");
    assert_eq!(html.matches("<tr><td>").count(), 3, "{html}");

    // another day without firings: no new email
    clock.advance(day);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.messages().len(), 1);
    let stats = agent.stats().events;
    assert_eq!((stats.digests, stats.email_sent), (2, 1));
}

/// A `tracing` writer that keeps every log line, to check that no password reaches the logs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_then_up_is_delivered_once_with_retries_counted() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // global: the email thread logs its failures (only this test of the file installs one)
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = SmtpServer::reserve(); // down: nothing listens on its port
    let agent = builder(&server)
        .playbook(invites(Frequency::Immediately))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    assert_eq!(invite(&base, "mallory@example.com").await, 200);
    // the invite that fires the playbook is answered with its block
    assert_eq!(invite(&base, "mallory@example.com").await, 403);
    assert!(
        eventually(Duration::from_secs(10), || agent
            .stats()
            .events
            .email_retries
            >= 2)
        .await
    );
    assert_eq!(agent.stats().events.email_sent, 0);
    let health: Value = serde_json::from_str(&admin(&base, "health").await).unwrap();
    assert_eq!(health["last_delivery_error"]["sink"], "email", "{health}");

    server.up();
    assert!(eventually(Duration::from_secs(20), || server.messages().len() == 1).await);
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.email_sent
            == 1)
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.messages().len(), 1, "delivered once");
    assert_eq!(server.transactions(), 1);

    let stats = agent.stats().events;
    assert!(stats.email_retries >= 2, "{stats:?}");
    assert_eq!(stats.email_failures.get(&0), Some(&stats.email_retries));
    let metrics = admin(&base, "metrics").await;
    let retries = metric(&metrics, "sqreen_delivery_retries_total{sink=\"email\"}");
    assert_eq!(retries, Some(stats.email_retries as f64), "{metrics}");
    assert_eq!(
        metric(&metrics, "sqreen_deliveries_total{sink=\"email\"}"),
        Some(1.0)
    );
    assert!(metric(
        &metrics,
        "sqreen_delivery_failures_total{sink=\"email\",status=\"0\"}"
    )
    .is_some_and(|n| n >= 2.0));

    // the credentials went to the server, and nowhere else
    assert_eq!(
        server.messages()[0].auth,
        Some(("alerts".to_owned(), "hunter2".to_owned()))
    );
    let health = admin(&base, "health").await;
    let logged = logs.text();
    assert!(logged.contains("smtp://***@127.0.0.1"), "{logged}");
    for (place, text) in [
        ("logs", &logged),
        ("health", &health),
        ("metrics", &metrics),
    ] {
        assert!(
            !text.contains("hunter2"),
            "the password leaked into the {place}: {text}"
        );
        assert!(
            !text.contains("alerts:"),
            "the user leaked into the {place}: {text}"
        );
    }
    assert!(!format!("{:?}", agent.config()).contains("hunter2"));
    assert_eq!(agent.shutdown(Duration::from_secs(5)), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_reply_is_retried_and_a_5xx_reply_is_not() {
    let server = SmtpServer::start();
    let agent = builder(&server)
        .playbook(invites(Frequency::Immediately).threshold(1))
        .build()
        .unwrap();
    server.fail_next(451, 2);
    agent.track_for(
        &Actor::User("a@example.com".into()),
        "user.invited",
        Value::Null,
    );
    assert!(eventually(Duration::from_secs(10), || server.messages().len() == 1).await);
    assert_eq!(server.transactions(), 3, "two refusals, then the message");
    assert!(
        eventually(Duration::from_secs(5), || agent.stats().events.email_sent
            == 1)
        .await
    );
    let stats = agent.stats().events;
    assert_eq!(stats.email_retries, 2);
    assert_eq!(stats.email_failures.get(&451), Some(&2));

    server.fail_next(550, 1);
    agent.track_for(
        &Actor::User("b@example.com".into()),
        "user.invited",
        Value::Null,
    );
    assert!(
        eventually(Duration::from_secs(5), || agent
            .stats()
            .events
            .email_failures
            .contains_key(&550))
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.transactions(), 4, "a 5xx is final: not retried");
    assert_eq!(server.messages().len(), 1);
    let stats = agent.stats().events;
    assert_eq!((stats.email_sent, stats.email_retries), (1, 2));
    let error = stats.last_delivery_error.unwrap();
    assert_eq!(error.sink, "email");
    assert!(error.error.contains("550"), "{}", error.error);
}

#[test]
fn a_bad_url_is_a_start_up_error_naming_the_variable() {
    // the only test of this file that reads the environment
    std::env::set_var(
        "SQREEN_SMTP_URL",
        "smtp://alerts:hunter2@mail.example.com:notaport",
    );
    let err = Agent::from_env().unwrap_err();
    std::env::remove_var("SQREEN_SMTP_URL");
    assert_eq!(err.variable(), Some("SQREEN_SMTP_URL"));
    let shown = err.to_string();
    assert!(shown.contains("SQREEN_SMTP_URL"), "{shown}");
    assert!(shown.contains("smtp://***@mail.example.com"), "{shown}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alerts"),
        "{shown}"
    );

    let err = Agent::builder()
        .smtp("smtps://alerts:hunter2@mail.example.com?tls=required")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("smtp"));
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // a server without a sender or recipients
    let err = Agent::builder()
        .smtp("smtp://127.0.0.1:2525")
        .email_to(TO)
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_EMAIL_FROM"), "{err}");
    let err = Agent::builder()
        .email_from(FROM)
        .email_to([
            "ops@example.com",
            "ops@example.com\r\nBcc: victim@example.com",
        ])
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("email_to"), "{err}");
}

#[test]
fn start_up_warns_of_email_without_smtp_and_of_credentials_in_clear() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // email asked for, no SMTP server: the agent starts, and says so
        let agent = Agent::builder()
            .rules_json(
                r#"{"playbooks": [
                  {"id": "quiet", "trigger": {"event": "e", "threshold": 1, "period": "1m",
                   "actor": "ip"}, "response": {"action": "none"}},
                  {"id": "loud", "trigger": {"event": "e", "threshold": 1, "period": "1m",
                   "actor": "ip"}, "response": {"action": "none"},
                   "notification": {"frequency": "daily", "email": true}}]}"#,
            )
            .build()
            .unwrap();
        agent.shutdown(Duration::from_secs(1));
        // credentials over plain text to another host
        let agent = Agent::builder()
            .smtp("smtp://alerts:hunter2@mail.example.com:2525")
            .email_from(FROM)
            .email_to(TO)
            .build()
            .unwrap();
        agent.shutdown(Duration::from_secs(1));
    });
    let logged = logs.text();
    assert!(
        logged.contains(
            "playbooks[1].notification.email: email is true, but SQREEN_SMTP_URL is not set"
        ),
        "{logged}"
    );
    assert!(
        !logged.contains("playbooks[0].notification.email"),
        "{logged}"
    );
    assert!(logged.contains("plain text"), "{logged}");
    assert!(
        logged.contains("smtp://***@mail.example.com:2525"),
        "{logged}"
    );
    assert!(!logged.contains("hunter2"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_controlled_actor_cannot_inject_headers_or_html() {
    let server = SmtpServer::start();
    let agent = builder(&server)
        .playbook(invites(Frequency::Immediately).threshold(1))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let user = "mallory@example.com\r\nBcc: victim@example.com\r\nSubject: pwned\r\n\r\n\
                <script>alert(1)</script><a href=\"https://evil.example/x\">click</a>\r\n.\r\nQUIT";
    assert_eq!(invite(&base, user).await, 403);
    assert!(eventually(Duration::from_secs(5), || server.messages().len() == 1).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.messages().len(), 1);
    let m = &server.messages()[0];
    // the envelope and the headers are the agent's only
    assert_eq!(m.rcpt_to, TO);
    let headers = m.headers();
    assert!(
        !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("bcc")),
        "{headers:?}"
    );
    let subjects: Vec<_> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("subject"))
        .collect();
    assert_eq!(subjects.len(), 1, "{headers:?}");
    assert!(!m.header("Subject").unwrap().contains("pwned"));
    assert!(!server
        .transcript()
        .iter()
        .any(|l| l.to_ascii_lowercase().contains("victim")));
    // the body shows the actor as inert text
    let (text, html) = parts(m);
    assert!(
        !html.contains("<script>") && !html.contains("<a href"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("evil.example") && !text.contains("evil.example"));
    assert!(
        text.contains("user mallory@example.com  Bcc: victim@example.com"),
        "{text}"
    );
    assert!(!text.contains("\nBcc:"), "{text}");
}
