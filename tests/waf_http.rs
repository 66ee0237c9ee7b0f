//! The in-app WAF over real HTTP: each mode, the inputs it reads (query, headers, JSON, form,
//! multipart and text bodies), bodies over the limit, deep JSON, the time budget, 404 probes, the rules document,
//! and attack events feeding a playbook.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use common::{client, get_with, serve_router};
use serde_json::json;
use sqreen::event::Event;
use sqreen::rules::WafMode;
use sqreen::{Agent, AgentBuilder};

const SQLI: &str = "1' OR '1'='1";

type Seen = Arc<Mutex<Vec<Event>>>;

/// An agent whose security events are kept, and a server with `/search`, `/api/echo` (echoes
/// the body it received) and 404 for anything else.
async fn setup(builder: impl FnOnce(AgentBuilder) -> AgentBuilder) -> (Agent, String, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let agent = builder(Agent::builder())
        .event_sink(move |e: &Event| {
            if e.name.starts_with("app.sqreen.") {
                sink.lock().unwrap().push(e.clone());
            }
        })
        .build()
        .unwrap();
    let app = Router::new()
        .route("/search", get(|| async { "results" }))
        .route("/api/echo", post(|body: Bytes| async move { body }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") })
        .layer(agent.layer());
    let base = serve_router(app).await;
    (agent, base, seen)
}

fn attacks(seen: &Seen) -> Vec<Event> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|e| e.is_security())
        .cloned()
        .collect()
}

async fn search(base: &str, q: &str) -> (u16, String) {
    let res = client()
        .get(format!("{base}/search"))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn echo_json(base: &str, body: String) -> (u16, String) {
    let res = client()
        .post(format!("{base}/api/echo"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn block_mode_answers_403_before_the_handler_and_lets_near_misses_through() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    let (status, body) = search(&base, SQLI).await;
    assert_eq!(status, 403);
    assert!(body.contains("blocked"), "the block page: {body}");
    for benign in ["O'Brien", "select a plan", "1 or 2 bedrooms", "a<b && c>d"] {
        let (status, body) = search(&base, benign).await;
        assert_eq!((status, body.as_str()), (200, "results"), "{benign}");
    }
    let events = attacks(&seen);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.name, "app.sqreen.attack.sqli");
    assert_eq!(e.properties["input"], "query.q");
    assert_eq!(e.properties["blocked"], true);
    assert!(e.properties["rule"].as_str().unwrap().starts_with("sqli-"));
    let fragment = e.properties["fragment"].as_str().unwrap();
    assert!(
        !fragment.is_empty() && SQLI.contains(fragment),
        "{fragment}"
    );
    let stats = agent.stats().waf;
    assert_eq!((stats.sqli, stats.blocked), (1, 1));
}

#[tokio::test]
async fn monitor_mode_records_every_category_and_lets_the_request_through() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Monitor)).await;
    let body = json!({
        "user": { "name": "<script>alert(document.cookie)</script>" },
        "attachment": "../../../../etc/passwd",
        "cmd": "x; cat /etc/passwd",
        "hook": "http://169.254.169.254/latest/meta-data/",
        "q": SQLI,
    })
    .to_string();
    let (status, echoed) = echo_json(&base, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(echoed, body, "the handler gets the exact bytes");
    let mut got: Vec<(String, String)> = attacks(&seen)
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                e.properties["input"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("app.sqreen.attack.lfi", "body.attachment"),
            ("app.sqreen.attack.rce", "body.cmd"),
            ("app.sqreen.attack.sqli", "body.q"),
            ("app.sqreen.attack.ssrf", "body.hook"),
            ("app.sqreen.attack.xss", "body.user.name"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert!(attacks(&seen)
        .iter()
        .all(|e| e.properties["blocked"] == false));
    let s = agent.stats().waf;
    assert_eq!(
        (s.sqli, s.xss, s.lfi, s.rce, s.ssrf, s.blocked),
        (1, 1, 1, 1, 1, 0)
    );
}

#[tokio::test]
async fn off_mode_skips_the_waf() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Off)).await;
    assert_eq!(search(&base, SQLI).await.0, 200);
    let (status, _) = get_with(&format!("{base}/search"), &[("user-agent", "sqlmap/1.7")]).await;
    assert_eq!(status, 200);
    assert!(attacks(&seen).is_empty());
    assert_eq!(agent.stats().waf, Default::default());
}

#[tokio::test]
async fn the_rules_document_sets_the_mode_and_disables_rules() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Off)).await;
    agent.set_rules(
        sqreen::rules::RulesDocument::parse(r#"{ "waf": { "mode": "block" } }"#).unwrap(),
    );
    assert_eq!(search(&base, SQLI).await.0, 403, "the document's mode wins");
    let rule = attacks(&seen)[0].properties["rule"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = format!(r#"{{ "waf": {{ "mode": "block", "disabled_rules": ["{rule}"] }} }}"#);
    agent.set_rules(sqreen::rules::RulesDocument::parse(&doc).unwrap());
    assert_eq!(
        search(&base, SQLI).await.0,
        200,
        "rule {rule} is disabled, and nothing else matches"
    );
    agent.set_rules(sqreen::rules::RulesDocument::parse("{}").unwrap());
    assert_eq!(
        search(&base, SQLI).await.0,
        200,
        "without a mode in the document, the environment's (off) is back"
    );
}

#[tokio::test]
async fn headers_cookies_and_form_bodies_are_inspected() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    let (status, _) = get_with(
        &format!("{base}/search"),
        &[(
            "user-agent",
            "Mozilla/5.0 (compatible; Nuclei - Open-source project)",
        )],
    )
    .await;
    assert_eq!(status, 403, "a scanner's user agent");
    let (status, _) = get_with(
        &format!("{base}/search"),
        &[("cookie", "theme=dark; session=<svg onload=alert(1)>")],
    )
    .await;
    assert_eq!(status, 403, "a cookie value");
    let res = client()
        .post(format!("{base}/api/echo"))
        .form(&[("name", "bob"), ("comment", "'; DROP TABLE users; --")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a form field");
    let inputs: Vec<String> = attacks(&seen)
        .iter()
        .map(|e| format!("{} {}", e.name, e.properties["input"].as_str().unwrap()))
        .collect();
    assert_eq!(
        inputs,
        [
            "app.sqreen.http.scanner header.user-agent",
            "app.sqreen.attack.xss cookie.session",
            "app.sqreen.attack.sqli body.comment",
        ]
    );
}

#[tokio::test]
async fn fragments_of_sensitive_fields_are_redacted() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Monitor)).await;
    let body = json!({ "user": "bob", "password": SQLI }).to_string();
    assert_eq!(echo_json(&base, body).await.0, 200);
    let events = attacks(&seen);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].properties["input"], "body.password");
    assert_eq!(events[0].properties["fragment"], "<Redacted by sqreen>");
    let line = serde_json::to_string(&events[0]).unwrap();
    assert!(!line.contains("OR '1'"), "{line}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_inspected_up_to_the_limit_and_passed_on_whole() {
    let (agent, base, seen) = setup(|b| {
        b.waf_mode(WafMode::Block)
            .configure(|c| c.max_body_bytes = 1024)
    })
    .await;
    // the attack sits after the limit: not seen, and the handler gets every byte (a string, not
    // `json!`: the keys must stay in this order; the client sends the body in one frame, larger
    // than the limit, which the layer keeps whole for the handler but inspects only up to the
    // limit)
    let padding = "a".repeat(4000);
    let late = format!(r#"{{"pad":"{padding}","q":"{SQLI}"}}"#);
    let (status, echoed) = echo_json(&base, late.clone()).await;
    assert_eq!(status, 200, "{:?}", attacks(&seen));
    assert_eq!(echoed, late);
    // the attack sits before the limit of an over-long body: blocked
    let early = format!(r#"{{"q":"{SQLI}","pad":"{padding}"}}"#);
    assert_eq!(
        echo_json(&base, early).await.0,
        403,
        "{:?}",
        agent.stats().waf
    );
    assert_eq!(attacks(&seen).len(), 1);
}

#[tokio::test]
async fn deeply_nested_json_is_inspected_without_blowing_up() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    // an attack 200 levels down, below the walk's depth bound: the raw body is inspected
    let deep = format!(
        "{}\"{}\"{}",
        "[".repeat(200),
        "<script>alert(1)</script>",
        "]".repeat(200)
    );
    assert_eq!(echo_json(&base, deep).await.0, 403);
    assert_eq!(attacks(&seen)[0].properties["input"], "body");
    // 50,000 levels of benign nesting: no stack overflow, the request goes through
    let benign = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let (status, echoed) = echo_json(&base, benign.clone()).await;
    assert_eq!((status, echoed.len()), (200, benign.len()));
    // a key deep inside objects is named by its path
    let named = json!({ "a": { "b": [ { "c": SQLI } ] } }).to_string();
    assert_eq!(echo_json(&base, named).await.0, 403);
    assert_eq!(attacks(&seen)[1].properties["input"], "body.a.b[0].c");
}

#[tokio::test]
async fn a_pathological_megabyte_is_inspected_whole_past_the_budget_unless_told_to_pass() {
    let budget = Duration::from_micros(1000);
    // 1 MiB of near-attacks for every detector: quotes, tags, dots, shell metacharacters
    let unit = "' or <a on=../;|${ ";
    let big = unit.repeat((1 << 20) / unit.len());
    for pass in [false, true] {
        let rules = format!(
            r#"{{"waf": {{"on_budget_exceeded": "{}"}}}}"#,
            if pass { "pass" } else { "inspect" }
        );
        let (agent, base, seen) = setup(|b| {
            b.waf_mode(WafMode::Block)
                .rules_json(&rules)
                .configure(|c| {
                    c.max_body_bytes = 2 << 20;
                    c.waf_budget = budget;
                })
        })
        .await;
        // the attack after the padding: found when the whole body is read
        let body = json!({ "a": big, "b": "1' UNION SELECT password FROM users --" }).to_string();
        let started = Instant::now();
        let (status, echoed) = echo_json(&base, body.clone()).await;
        let took = started.elapsed();
        assert_eq!(agent.stats().waf.budget_overruns, 1, "pass: {pass}");
        let exceeded: Vec<Event> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == "app.sqreen.waf.budget_exceeded")
            .cloned()
            .collect();
        assert_eq!(exceeded.len(), 1, "pass: {pass}");
        let inspected = exceeded[0].properties["inspected"].as_f64().unwrap();
        if pass {
            // past the budget the rest goes through unread: the trade the rules chose
            assert_eq!(status, 200);
            assert_eq!(echoed.len(), body.len());
            assert!(inspected < 1.0, "{inspected}");
        } else {
            assert_eq!(status, 403, "every byte is read, whatever the clock says");
            assert_eq!(inspected, 1.0);
        }
        println!("1 MiB request (pass: {pass}), upload and echo included: {took:?}");
    }
}

#[tokio::test]
async fn a_probe_path_answered_404_is_a_scanner_hit_and_a_page_is_not() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Monitor)).await;
    assert_eq!(get_with(&format!("{base}/wp-login.php"), &[]).await.0, 404);
    assert_eq!(
        get_with(&format!("{base}/no-such-article"), &[]).await.0,
        404
    );
    assert_eq!(get_with(&format!("{base}/search"), &[]).await.0, 200);
    let names: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "app.sqreen.http.not_found",
            "app.sqreen.http.scanner",
            "app.sqreen.http.not_found",
        ]
    );
    assert_eq!(agent.stats().waf.scanner, 1);
}

#[tokio::test]
async fn attack_events_feed_playbooks() {
    let rules = r#"{ "playbooks": [ { "id": "attack-burst",
        "trigger": { "event": "app.sqreen.attack.sqli", "threshold": 2, "period": "1m", "actor": "ip" },
        "response": { "action": "block", "duration": "1h" } } ] }"#;
    let (agent, base, _seen) = setup(|b| b.waf_mode(WafMode::Monitor).rules_json(rules)).await;
    let ip = ("x-forwarded-for", "198.51.100.23");
    let url = format!("{base}/search?q={}", "1%27%20OR%20%271%27%3D%271");
    assert_eq!(
        get_with(&url, &[ip]).await.0,
        200,
        "monitor: first attack goes through"
    );
    assert_eq!(
        get_with(&url, &[ip]).await.0,
        403,
        "the playbook fires on the second"
    );
    let (status, _) = get_with(&format!("{base}/search?q=hello"), &[ip]).await;
    assert_eq!(status, 403, "the IP stays blocked");
    assert_eq!(agent.stats().playbooks_fired, 1);
    let other = get_with(
        &format!("{base}/search?q=hello"),
        &[("x-forwarded-for", "198.51.100.24")],
    )
    .await;
    assert_eq!(other.0, 200);
}

#[tokio::test]
async fn an_offsite_include_url_is_remote_file_inclusion_and_an_ordinary_link_is_not() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    let include = client()
        .get(format!("{base}/search"))
        .query(&[("page", "http://evil.example/shell.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(include.status(), 403);
    let e = &attacks(&seen)[0];
    assert_eq!(e.name, "app.sqreen.attack.lfi");
    assert_eq!(e.properties["rule"], "lfi-rfi-offsite");
    for link in [
        "https://accounts.google.com/o/oauth2/auth?client_id=x",
        "https://example.org/blog/2026/11/post.html",
    ] {
        let res = client()
            .get(format!("{base}/search"))
            .query(&[("next", link)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{link}");
    }
}

#[tokio::test]
async fn text_bodies_are_inspected_as_form_fields_or_whole_up_to_the_limit() {
    let (agent, base, seen) = setup(|b| {
        b.waf_mode(WafMode::Block)
            .configure(|c| c.max_body_bytes = 1024)
    })
    .await;
    let post = |body: String| {
        client()
            .post(format!("{base}/api/echo"))
            .header("content-type", "text/plain; charset=utf-8")
            .body(body)
            .send()
    };
    // ordinary notes and text-encoded forms go through byte for byte
    for body in [
        "Meeting moved to 3pm. Bring the Q3 numbers = the ones from June.".to_owned(),
        "name=Jane O'Connor\r\nmessage=Call me at 5, the door code is 1234=\r\n".to_owned(),
        format!("note={}", "long text ".repeat(300)),
    ] {
        let res = post(body.clone()).await.unwrap();
        assert_eq!(res.status(), 200, "{body:?}: {:?}", attacks(&seen));
        assert_eq!(res.text().await.unwrap(), body);
    }
    assert!(attacks(&seen).is_empty(), "{:?}", attacks(&seen));
    // an attack in a text-encoded form's field, in a whole text, as a field's name
    for (body, input, category) in [
        ("test=java.io.BufferedReader", "body.test", "code_injection"),
        (
            "java.lang.Runtime=test",
            "body.java.lang.Runtime",
            "code_injection",
        ),
        ("rO0ABQ", "body", "code_injection"),
        (
            "Hi!\nq=1' UNION SELECT password FROM users --",
            "body",
            "sqli",
        ),
    ] {
        let res = post(body.to_owned()).await.unwrap();
        assert_eq!(res.status(), 403, "{body:?}");
        let events = attacks(&seen);
        let last = events.last().unwrap();
        assert_eq!(
            last.name,
            format!("app.sqreen.attack.{category}"),
            "{body:?}"
        );
        assert_eq!(last.properties["input"], input, "{body:?}");
    }
    // past the limit: not read, handed on whole
    let late = format!("{}\n<script>alert(1)</script>", "words ".repeat(400));
    let res = post(late.clone()).await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", agent.stats().waf);
    assert_eq!(res.text().await.unwrap(), late);
}

#[tokio::test]
async fn multipart_uploads_have_their_file_names_and_text_fields_inspected() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    let boundary = "----sqreenBoundary7MA4YWxkTrZu0gW";
    let upload = |filename: &str, comment: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n{comment}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n' OR 1=1 -- <script>\u{0}\r\n--{boundary}--\r\n"
        )
    };
    let post = |body: String| {
        client()
            .post(format!("{base}/api/echo"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    // an ordinary upload goes through to the handler byte for byte, whatever the file holds
    let body = upload("holiday photo.jpg", "Two bedrooms, O'Brien's house.");
    let res = post(body.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), body);
    assert!(attacks(&seen).is_empty(), "{:?}", attacks(&seen));
    // a traversal in the file name (Windows separators too), an injection in a text field
    for (filename, comment, input) in [
        ("..\\..\\windows\\win.ini", "hello", "body.file@filename"),
        ("../../etc/passwd", "hello", "body.file@filename"),
        (
            "report.pdf",
            "1' UNION SELECT password FROM users --",
            "body.comment",
        ),
    ] {
        let res = post(upload(filename, comment)).await.unwrap();
        assert_eq!(res.status(), 403, "{filename} / {comment}");
        let events = attacks(&seen);
        let last = events.last().unwrap();
        assert_eq!(last.properties["input"], input);
    }
}

#[tokio::test]
async fn urls_to_internal_addresses_in_url_headers_are_ssrf_and_a_development_referer_is_not() {
    let (_agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    let url = format!("{base}/search");
    for (name, value) in [
        ("x-original-url", "http://169.254.169.254/latest/meta-data/"),
        ("x-callback-url", "gopher://127.0.0.1:6379/_INFO"),
        ("x-forwarded-host", "metadata.google.internal"),
        ("referer", "http://[fd00:ec2::254]/latest/api/token"),
    ] {
        assert_eq!(get_with(&url, &[(name, value)]).await.0, 403, "{name}");
    }
    for (name, value) in [
        ("referer", "http://localhost:3000/cart"),
        ("x-forwarded-host", "localhost:3000"),
        ("x-original-url", "/search"),
        ("x-trace-target", "http://127.0.0.1:6379/"),
    ] {
        assert_eq!(get_with(&url, &[(name, value)]).await.0, 200, "{name}");
    }
    let inputs: Vec<String> = attacks(&seen)
        .iter()
        .map(|e| format!("{} {}", e.name, e.properties["input"].as_str().unwrap()))
        .collect();
    assert_eq!(
        inputs,
        [
            "app.sqreen.attack.ssrf header.x-original-url",
            "app.sqreen.attack.ssrf header.x-callback-url",
            "app.sqreen.attack.ssrf header.x-forwarded-host",
            "app.sqreen.attack.ssrf header.referer",
        ]
    );
}

#[tokio::test]
async fn exploit_campaign_paths_answered_404_are_scanner_hits() {
    let (agent, base, _seen) = setup(|b| b.waf_mode(WafMode::Monitor)).await;
    for path in [
        "/GponForm/diag_Form",
        "/storage/logs/laravel.log",
        "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
        "/autodiscover/autodiscover.json",
        "/site/admin/root.php",
    ] {
        assert_eq!(
            get_with(&format!("{base}{path}"), &[]).await.0,
            404,
            "{path}"
        );
    }
    assert_eq!(agent.stats().waf.scanner, 5);
}

/// A disabled rule hides nothing: its finding is read past, and an attack of another rule of
/// the same category further on in the same value is still found (the detector reports its
/// first finding only).
#[tokio::test]
async fn a_disabled_rules_finding_hides_no_attack_after_it() {
    let (agent, base, seen) = setup(|b| b.waf_mode(WafMode::Block)).await;
    assert_eq!(search(&base, SQLI).await.0, 403);
    let disabled = attacks(&seen)[0].properties["rule"]
        .as_str()
        .unwrap()
        .to_owned();
    let hidden = "x'; DROP TABLE users; --";
    assert_eq!(search(&base, hidden).await.0, 403);
    let other = attacks(&seen)[1].properties["rule"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(other, disabled, "the attack behind is another rule's");
    let doc = format!(r#"{{ "waf": {{ "mode": "block", "disabled_rules": ["{disabled}"] }} }}"#);
    agent.set_rules(sqreen::rules::RulesDocument::parse(&doc).unwrap());
    assert_eq!(search(&base, SQLI).await.0, 200, "{disabled} is disabled");
    let (status, _) = search(&base, &format!("{SQLI} {hidden}")).await;
    assert_eq!(status, 403, "the attack behind the disabled rule's finding");
    let last = attacks(&seen).last().unwrap().properties.clone();
    assert_eq!(last["rule"], other.as_str(), "{last:?}");
}
