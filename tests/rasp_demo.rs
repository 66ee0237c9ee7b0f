//! The RASP demo (`examples/rasp_demo.rs`) as a user runs it, over real HTTP: every
//! deliberately vulnerable route exploited, sqlmap-style, with RASP in block mode (refused)
//! and off (the exploit works: the demo is honest), and the safe routes passing in both.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

struct Demo {
    child: Child,
    base: String,
    port: u16,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(mode: &str) -> Demo {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path: PathBuf = dir.join("examples").join("rasp_demo");
    if !path.exists() {
        let built = Command::new(env!("CARGO"))
            .args(["build", "--example", "rasp_demo"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(built.success() && path.exists());
    }
    let mut cmd = Command::new(path);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SQREEN_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .env("SQREEN_DEMO_ADDR", "127.0.0.1:0")
        .env("SQREEN_RASP_MODE", mode)
        .env("SQREEN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the demo printed its address").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let port = base.rsplit(':').next().unwrap().parse().unwrap();
    Demo { child, base, port }
}

async fn get(demo: &Demo, path: &str, param: &str, value: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", demo.base))
        .query(&[(param, value)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// What a careless query leaks when exploited.
const SQLI: &[&str] = &[
    "books' OR '1'='1",
    "books' OR 1=1--",
    "books' UNION SELECT name, password FROM users--",
    "books' UNION ALL SELECT NULL, NULL--",
    "books' AND 1=1--",
    "books' AND 1=2--",
    "books' AND (SELECT COUNT(*) FROM users) > 0--",
    "books'; DROP TABLE products; --",
    "books'/*",
    "' OR ''='",
    "books' ORDER BY 3--",
    "O'Brien",
];

#[tokio::test]
async fn every_exploit_is_refused_in_block_mode_and_the_safe_routes_pass() {
    let demo = start("block");
    let (status, body) = get(&demo, "/products", "category", "books").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Dune") && !body.contains("Kettle"), "{body}");
    for probe in SQLI {
        let (status, body) = get(&demo, "/products", "category", probe).await;
        assert_eq!(status, 403, "{probe}: {body}");
        assert!(!body.contains("hunter2"));
        // through safe code the same string is data: no rows, no refusal
        let (status, body) = get(&demo, "/products-safe", "category", probe).await;
        assert_eq!((status, body.as_str()), (200, "[]"), "{probe}");
    }
    let (status, body) = get(&demo, "/products-safe", "category", "books").await;
    assert_eq!(status, 200);
    assert!(body.contains("Ulysses"), "{body}");

    let (status, body) = get(&demo, "/file", "name", "readme.txt").await;
    assert_eq!(status, 200);
    assert!(body.contains("RASP demo"), "{body}");
    for probe in [
        "../../Cargo.toml",
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "docs/../../../Cargo.toml",
    ] {
        let (status, body) = get(&demo, "/file", "name", probe).await;
        assert_eq!(status, 403, "{probe}: {body}");
    }

    let own = demo.port;
    for probe in [
        format!("http://127.0.0.1:{own}/internal/secret"),
        format!("http://localhost:{own}/internal/secret"),
        format!("http://2130706433:{own}/internal/secret"),
        format!("http://0177.0.0.1:{own}/internal/secret"),
        format!("http://[::ffff:127.0.0.1]:{own}/internal/secret"),
        format!("http://[::1]:{own}/internal/secret"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://metadata.google.internal/computeMetadata/v1/".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        let (status, body) = get(&demo, "/fetch", "url", &probe).await;
        assert_eq!(status, 403, "{probe}: {body}");
        assert!(!body.contains("launch code"));
    }
    // a fixed host with the user's path is the app's own choice
    let (status, body) = get(&demo, "/fetch-path", "path", "/internal/status").await;
    assert_eq!(status, 200);
    assert!(body.contains("nominal"), "{body}");

    let (status, body) = get(&demo, "/ping", "host", "example.com").await;
    assert_eq!((status, body.trim()), (200, "pinging example.com"));
    for probe in [
        "example.com; cat /etc/passwd",
        "example.com && id",
        "example.com | id",
        "$(id)",
        "`id`",
        "example.com\nid",
        "x > /tmp/sqreen-rasp-demo-pwned",
    ] {
        let (status, body) = get(&demo, "/ping", "host", probe).await;
        assert_eq!(status, 403, "{probe:?}: {body}");
    }
    assert!(!std::path::Path::new("/tmp/sqreen-rasp-demo-pwned").exists());
}

#[tokio::test]
async fn with_rasp_off_every_route_is_exploitable() {
    let demo = start("off");
    let (status, body) = get(&demo, "/products", "category", "books' OR '1'='1").await;
    assert_eq!(status, 200);
    assert!(body.contains("Kettle"), "every row: {body}");
    let (status, body) = get(
        &demo,
        "/products",
        "category",
        "nothing' UNION SELECT name, password FROM users--",
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("hunter2"), "{body}");
    let (status, body) = get(&demo, "/file", "name", "../../Cargo.toml").await;
    assert_eq!(status, 200);
    assert!(body.contains("[package]"), "{body}");
    let url = format!("http://127.0.0.1:{}/internal/secret", demo.port);
    let (status, body) = get(&demo, "/fetch", "url", &url).await;
    assert_eq!(status, 200);
    assert!(body.contains("launch code"), "{body}");
    let (status, body) = get(&demo, "/ping", "host", "x; echo injected-$((6*7))").await;
    assert_eq!(status, 200);
    assert!(body.contains("injected-42"), "{body}");
}
