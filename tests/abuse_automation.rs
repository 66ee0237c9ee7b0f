//! The abuse automation example as a newcomer runs it: a playbook's webhook reaches the
//! in-process receiver, which verifies it, scores the IP and pushes abusive ones to the deny list.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test]
async fn abusive_ips_are_pushed_back_into_the_deny_list() {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("abuse_automation");
    // `cargo test` builds the examples, but `cargo test --test abuse_automation` alone does
    // not: make sure the binary is current (a no-op when it is)
    let built = Command::new(env!("CARGO"))
        .args(["build", "--example", "abuse_automation"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(built.success() && path.exists());
    let mut child = Command::new(path)
        .env("SQREEN_DEMO_ADDR", "127.0.0.1:0")
        .env("SQREEN_DEMO_RECEIVER_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the example started");
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    let client = reqwest::Client::new();
    for ip in ["192.0.2.9", "192.0.2.200"] {
        for _ in 0..3 {
            client
                .post(format!("{base}/form"))
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap();
        }
    }
    let mut lines = Vec::new();
    while lines.len() < 2 {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.starts_with("receiver:") => lines.push(line),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("192.0.2.9 scored 100: pushed to the deny list")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("192.0.2.200 scored 0")),
        "{lines:?}"
    );
}
