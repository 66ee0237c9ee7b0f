//! `SQREEN_DISABLE=true`: the layer passes requests through and the agent starts no thread of
//! its own (one test per process: threads are counted process-wide).

mod common;

use axum::routing::get;
use axum::Router;
use common::{client, serve_router};
use sqreen::Agent;

/// The names of this process's threads (Linux).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_agent_passes_requests_and_starts_no_thread() {
    if !std::path::Path::new("/proc/self/task").exists() {
        return; // not Linux: nothing to count with
    }
    let agent = Agent::builder()
        .disabled(true)
        .rules_json(r#"{"ip_denylist": ["0.0.0.0/0", "::/0"], "waf": {"mode": "block"}}"#)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/search", get(|| async { "results" }))
        .layer(agent.layer());
    let base = serve_router(app).await;
    for q in ["shoes", "1' OR '1'='1"] {
        let res = client()
            .get(format!("{base}/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "denied and attacking, but the agent is off"
        );
        assert_eq!(res.text().await.unwrap(), "results");
    }
    let ours: Vec<String> = thread_names()
        .into_iter()
        .filter(|name| name.starts_with("sqreen"))
        .collect();
    assert!(
        ours.is_empty(),
        "threads started by a disabled agent: {ours:?}"
    );
    // an enabled agent does start its clock, which this test would see
    let _enabled = Agent::builder().build().unwrap();
    assert!(
        thread_names().iter().any(|n| n.starts_with("sqreen")),
        "{:?}",
        thread_names()
    );
}
