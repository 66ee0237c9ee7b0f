//! The Events Explorer in a real browser: Debian's headless Chromium loads the page from a real
//! internal server (the admin API mounted with `admin_router`), with the token in the URL's
//! fragment, after events were recorded through the real layer on the application's own server;
//! an access log on the internal server shows the token never reached it in a URL; the
//! test reads the DOM the page's script built (charts, top actors, the what-if answer asked for in
//! the URL) and Chromium's console log, and keeps a screenshot in `target/explorer.png`.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without it the test
//! says so loudly and passes, except under CI (`CI` set), where a missing browser is a failure.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::routing::{get, post};
use axum::Router;
use common::{client, serve_router};
use regex::Regex;
use serde_json::json;
use sqreen::{auth_track, identify, track, AdminListener, Agent, ManualClock, UserKeys};

const TOKEN: &str = "explorer-test-token-0123456789";
/// 2026-11-23T15:00:00Z: the hour the test's events happen in.
const START: u64 = 1_795_446_000_000;

#[derive(serde::Deserialize)]
struct Login {
    user: String,
    password: String,
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/search", get(|| async { "results" }))
        .route(
            "/login",
            post(|Form(form): Form<Login>| async move {
                let ok = form.password == "secret";
                auth_track(ok, UserKeys::new().with("username", &form.user));
                if ok {
                    (StatusCode::OK, "welcome")
                } else {
                    (StatusCode::UNAUTHORIZED, "wrong password")
                }
            }),
        )
        .route(
            "/invite",
            post(|headers: HeaderMap| async move {
                let user = headers["x-user"].to_str().unwrap().to_owned();
                identify(UserKeys::new().with("email", &user));
                track("user.invited", json!({ "plan": "free" }));
                "invited"
            }),
        )
}

/// Chromium's path, if installed.
fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(move |dir| dir.join(name))
        })
        .find(|p| p.is_file())
}

/// Runs headless Chromium with `args` (after the common ones); returns stdout and stderr.
/// Killed after a minute.
fn run_chromium(browser: &Path, profile: &Path, args: &[String]) -> (String, String) {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

async fn login_failure(base: &str, ip: &str, user: &str) {
    let res = client()
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .form(&[("user", user), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

/// Records the test's hour of events through the layer, moving the agent's clock; returns how
/// many events were recorded.
async fn record_an_hour(base: &str, clock: &ManualClock) -> u64 {
    let mut recorded = 0;
    let at = |minute: f64| START + (minute * 60_000.0) as u64;
    let mut events: Vec<(u64, &str, &str, &str)> = Vec::new(); // (time, kind, ip, user)
                                                               // 198.51.100.7: 6 failures 20 s apart from minute 10: one firing at threshold 5 / 5m
    for i in 0..6 {
        events.push((
            at(10.0 + f64::from(i) / 3.0),
            "login",
            "198.51.100.7",
            "alice",
        ));
    }
    // 198.51.100.8: 12 failures 20 s apart from minute 30: two firings
    for i in 0..12 {
        events.push((
            at(30.0 + f64::from(i) / 3.0),
            "login",
            "198.51.100.8",
            "bob",
        ));
    }
    // 198.51.100.9: 5 failures 10 minutes apart: never 5 within 5 minutes
    for i in 0..5 {
        events.push((
            at(8.0 + 10.0 * f64::from(i)),
            "login",
            "198.51.100.9",
            "carol",
        ));
    }
    // 203.0.113.50: 4 failures within a minute: under the threshold
    for i in 0..4 {
        events.push((
            at(50.0 + f64::from(i) / 4.0),
            "login",
            "203.0.113.50",
            "dave",
        ));
    }
    // invitations and a few attacks, for the charts
    for i in 0..14 {
        let user = ["erin@example.com", "frank@example.com"][i % 2];
        events.push((at(3.0 + 4.0 * i as f64), "invite", "192.0.2.20", user));
    }
    for minute in [22.0, 23.0, 47.5] {
        events.push((at(minute), "attack", "192.0.2.66", ""));
    }
    events.sort_by_key(|e| e.0);
    for (time, kind, ip, user) in events {
        clock.set(time);
        match kind {
            "login" => login_failure(base, ip, user).await,
            "invite" => {
                let res = client()
                    .post(format!("{base}/invite"))
                    .header("x-forwarded-for", ip)
                    .header("x-user", user)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200);
            }
            _ => {
                let res = client()
                    .get(format!("{base}/search?q=1%27%20OR%20%271%27%3D%271"))
                    .header("x-forwarded-for", ip)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200, "monitor mode");
            }
        }
        recorded += 1;
    }
    clock.set(at(60.0));
    recorded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_plots_lists_and_answers_what_if_in_a_real_browser() {
    let Some(browser) = chromium() else {
        let message = "\n\n**** SKIPPED explorer browser test: chromium is not installed \
                       (apt-get install -y chromium) ****\n\n";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("{message}");
        return;
    };
    let clock = ManualClock::new(START);
    let agent = Agent::builder()
        .admin_token(TOKEN)
        .admin_listener(AdminListener::Mounted)
        .clock(clock.clone())
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    // the admin API on an internal server of the test's own, behind an access log that keeps
    // each request's URI and whether it carried the token in its Authorization header
    let access_log = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let log = access_log.clone();
    let admin = agent.admin_router().layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let bearer = format!("Bearer {TOKEN}");
            let line = (
                req.uri().to_string(),
                req.headers()
                    .get("authorization")
                    .is_some_and(|v| v.as_bytes() == bearer.as_bytes()),
            );
            log.lock().unwrap().push(line);
            next.run(req)
        },
    ));
    let admin_base = serve_router(admin).await;
    let recorded = record_an_hour(&base, &clock).await;
    assert_eq!(recorded, 27 + 14 + 3);
    // the ring has them all once the pipeline's thread took them
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let res = client()
            .get(format!("{admin_base}/_sqreen/events?limit=1"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        if body["held"] == recorded {
            break;
        }
        assert!(Instant::now() < deadline, "events not held: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let profile = tempfile::tempdir().unwrap();
    let url = format!(
        "{admin_base}/_sqreen/explorer?event=app.sqreen.auth.login_failure&actor=ip&period=5m&threshold=5#token={TOKEN}"
    );
    access_log.lock().unwrap().clear();
    let (dom, log) = {
        let (browser, profile, url) = (browser.clone(), profile.path().to_owned(), url.clone());
        tokio::task::spawn_blocking(move || {
            run_chromium(
                &browser,
                &profile,
                &[
                    "--virtual-time-budget=10000".into(),
                    "--dump-dom".into(),
                    url,
                ],
            )
        })
        .await
        .unwrap()
    };

    // the page ran to the end, with no error of its own and none in the console
    let body = section(&dom, "<body", ">");
    assert_eq!(
        body, "<body data-state=\"ready\">",
        "page not ready, or errors:\n{dom}"
    );
    assert!(
        dom.contains("<pre id=\"errors\" hidden=\"\"></pre>"),
        "page errors: {}",
        section(&dom, "<pre id=\"errors\"", "</pre>")
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    // the server saw the page and the events call, the token only ever in a header
    {
        let lines = access_log.lock().unwrap().clone();
        assert!(
            lines
                .iter()
                .any(|(uri, auth)| uri.starts_with("/_sqreen/explorer?event=") && !auth),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(uri, auth)| uri.starts_with("/_sqreen/events?") && *auth),
            "{lines:?}"
        );
        assert!(
            lines.iter().all(|(uri, _)| !uri.contains(TOKEN)),
            "the token reached the server in a URL: {lines:?}"
        );
    }

    // the hour chart has one point per minute with login failures, adding up to all 27
    let hour = section(&dom, "<svg class=\"chart\" id=\"chart-hour\"", "</svg>");
    let point =
        Regex::new(r#"<circle class="pt"[^>]*data-series="([^"]+)" data-count="(\d+)""#).unwrap();
    let mut per_series = std::collections::BTreeMap::<String, u64>::new();
    for c in point.captures_iter(hour) {
        *per_series.entry(c[1].to_owned()).or_default() += c[2].parse::<u64>().unwrap();
    }
    assert_eq!(
        per_series,
        [
            ("app.sqreen.attack.sqli".to_owned(), 3),
            ("app.sqreen.auth.login_failure".to_owned(), 27),
            ("user.invited".to_owned(), 14),
        ]
        .into_iter()
        .collect(),
        "points of the hour chart"
    );
    assert!(point.captures_iter(hour).count() >= 20, "{hour}");
    let day = section(&dom, "id=\"chart-day\"", "</svg>");
    assert!(point.captures_iter(day).count() >= 3, "{day}");

    // top actors: the busiest IP first
    let row = section(
        &dom,
        "<tr data-event=\"app.sqreen.auth.login_failure\">",
        "</tr>",
    );
    let first = Regex::new(r#"data-actor="([^"]+)" data-count="(\d+)""#).unwrap();
    let top: Vec<(String, String)> = first
        .captures_iter(row)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    assert_eq!(
        top[0],
        ("198.51.100.8".to_owned(), "12".to_owned()),
        "{row}"
    );
    assert!(top.contains(&("bob".to_owned(), "12".to_owned())), "{row}");

    // what-if: login failures, 5 within 5 minutes, by IP
    let result = section(&dom, "<table id=\"whatif-result\"", "</table>");
    let firing =
        Regex::new(r#"<tr data-actor="([^"]+)" data-firings="(\d+)" data-events="(\d+)""#).unwrap();
    let rows: Vec<(String, u32, u32)> = firing
        .captures_iter(result)
        .map(|c| {
            (
                c[1].to_owned(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("198.51.100.8".to_owned(), 2, 12),
            ("198.51.100.7".to_owned(), 1, 6)
        ],
        "{result}"
    );
    assert!(
        dom.contains(
            r#"data-actors="2" data-firings="3">2 of 4 actors would have triggered it, 3 firings"#
        ),
        "{}",
        section(&dom, "id=\"whatif-summary\"", "</div>")
    );

    // top attacks: the monitor-mode SQLi probes of /search, one group, with its exclusion
    let top = section(&dom, "<table id=\"top-attacks\"", "</table>");
    let group = Regex::new(r#"<tr data-rule="(sqli-[a-z-]+)" data-route="/search" data-input="query.q" data-count="(\d+)""#).unwrap();
    let groups: Vec<_> = group.captures_iter(top).collect();
    assert_eq!(groups.len(), 1, "{top}");
    let rule = &groups[0][1];
    assert!(
        top.contains(&format!(
            r#"{{"path":"/search","method":"GET","inputs":["query.q"],"rules":["{rule}"]}}"#
        )),
        "{top}"
    );

    // a screenshot, kept as the test's artefact
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).unwrap();
    let png = target.join("explorer.png");
    let _ = std::fs::remove_file(&png);
    let (_, log) = {
        let (browser, profile, png) = (browser.clone(), profile.path().to_owned(), png.clone());
        tokio::task::spawn_blocking(move || {
            run_chromium(
                &browser,
                &profile,
                &[
                    "--virtual-time-budget=10000".into(),
                    "--window-size=1280,1000".into(),
                    format!("--screenshot={}", png.display()),
                    url,
                ],
            )
        })
        .await
        .unwrap()
    };
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000,
        "{} bytes",
        bytes.len()
    );
    eprintln!("screenshot: {}", png.display());

    // opened the old way, with the token in the query: the token is not used (the calls are
    // refused) and the page says why
    let profile = tempfile::tempdir().unwrap();
    let (dom, _) = {
        let (browser, profile) = (browser.clone(), profile.path().to_owned());
        let url = format!("{admin_base}/_sqreen/explorer?token={TOKEN}");
        tokio::task::spawn_blocking(move || {
            run_chromium(
                &browser,
                &profile,
                &[
                    "--virtual-time-budget=10000".into(),
                    "--dump-dom".into(),
                    url,
                ],
            )
        })
        .await
        .unwrap()
    };
    assert!(
        section(&dom, "<body", ">").starts_with("<body data-state=\"failed\""),
        "{}",
        section(&dom, "<body", ">")
    );
    let errors = section(&dom, "<pre id=\"errors\"", "</pre>");
    assert!(
        errors.contains("it was not used") && errors.contains("401"),
        "{errors}"
    );
    assert!(
        !section(&dom, "<form id=\"token-form\"", ">").contains("hidden"),
        "the token form is offered"
    );

    // the application's listener no longer answers the admin path
    let res = client()
        .get(format!("{base}/_sqreen/events"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(!res.text().await.unwrap().contains("\"events\""));
}

/// The part of `text` from `start` to the next `end` (included).
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in the page:\n{text}"));
    let to = text[from..]
        .find(end)
        .map_or(text.len(), |i| from + i + end.len());
    &text[from..to]
}
