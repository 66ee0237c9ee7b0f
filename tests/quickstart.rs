//! The quickstart example as a newcomer runs it: it starts, prints `listening on`, answers the
//! README's curl lines, stops cleanly on SIGTERM, and exits non-zero on a bad configuration.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `cargo test` builds the examples next to the test binaries' directory.
fn quickstart() -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path: PathBuf = dir.join("examples").join("quickstart");
    if !path.exists() {
        // `cargo test` builds the examples; `cargo test --test quickstart` alone may not have
        let built = Command::new(env!("CARGO"))
            .args(["build", "--example", "quickstart"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(
            built.success() && path.exists(),
            "{} could not be built",
            path.display()
        );
    }
    let mut cmd = Command::new(path);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SQREEN_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn start() -> (Child, String) {
    let mut child = quickstart()
        .env("SQREEN_DEMO_ADDR", "127.0.0.1:0")
        .env("SQREEN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("quickstart printed its address")
            .unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    // keep draining stdout so the child never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

#[tokio::test]
async fn quickstart_serves_the_readme_examples_and_stops_cleanly() {
    let (mut child, base) = start();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut req = client.get(format!("{base}{path}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    let res = get("/", &[]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Hello"));
    let res = get("/", &[("x-forwarded-for", "203.0.113.9")])
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = get("/", &[("x-forwarded-for", "198.51.100.7")])
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = get("/search?q=%3Cb%3E", &[]).await.unwrap();
    assert!(res.text().await.unwrap().contains("&lt;b&gt;"));
    // the WAF runs in block mode: an injection is refused before the handler, a name is not
    let res = get("/search?q=1'%20OR%20'1'='1", &[]).await.unwrap();
    assert_eq!(res.status(), 403);
    let res = get("/search?q=O'Brien", &[]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("O&#39;Brien"));
    let res = client
        .post(format!("{base}/api/echo"))
        .header("content-type", "application/json")
        .body(r#"{"comment":"<script>alert(1)</script>"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(format!("{base}/invite"))
        .header("x-user", "mallory@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(format!("{base}/login"))
        .form(&[("user", "alice"), ("password", "secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("{base}/login"))
        .form(&[("user", "alice"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client
        .post(format!("{base}/api/echo"))
        .json(&serde_json::json!({"a": [1, 2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), r#"{"a":[1,2]}"#);
    assert_eq!(get("/blocked", &[]).await.unwrap().status(), 200);

    // the playbooks of quickstart-rules.json: a user's third invite within 5 minutes is blocked...
    let invite = || {
        client
            .post(format!("{base}/invite"))
            .header("x-user", "dave@example.com")
            .header("x-forwarded-for", "192.0.2.11")
            .send()
    };
    assert_eq!(invite().await.unwrap().status(), 200);
    assert_eq!(invite().await.unwrap().status(), 200);
    assert_eq!(invite().await.unwrap().status(), 403);
    // ...and the fifth failed login from one IP within 10 minutes is redirected to /blocked
    for i in 1..=5 {
        let res = client
            .post(format!("{base}/login"))
            .header("x-forwarded-for", "192.0.2.10")
            .form(&[("user", "bob"), ("password", "x")])
            .send()
            .await
            .unwrap();
        let expected = if i < 5 { 401 } else { 303 };
        assert_eq!(res.status(), expected, "login attempt {i}");
    }
    let res = get("/", &[("x-forwarded-for", "192.0.2.10")])
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "quickstart did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn quickstart_exits_non_zero_with_the_error_on_bad_configuration() {
    let out = quickstart()
        .env("SQREEN_MAX_ACTORS", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SQREEN_MAX_ACTORS") && err.contains("lots"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, r#"{"ip_denylist": ["not-an-ip"]}"#).unwrap();
    let out = quickstart()
        .env("SQREEN_RULES_PATH", &rules)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ip_denylist[0]"), "{err}");
}
