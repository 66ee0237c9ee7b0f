//! The WAF's tables (automata, regexes, keyword maps) are built when the agent starts with the
//! WAF on, not by the first request: building them takes longer than a time budget, and the
//! first request would go uninspected. Its own test binary, so no other test has built them.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::{get_with, serve_router};
use sqreen::rules::WafMode;
use sqreen::Agent;

#[tokio::test]
async fn the_first_request_is_inspected_within_the_budget() {
    let agent = Agent::builder()
        .waf_mode(WafMode::Monitor)
        .configure(|c| c.waf_budget = Duration::from_millis(20))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/search", get(|| async { "results" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") })
        .layer(agent.layer());
    let base = serve_router(app).await;
    // A first value that sends the detectors to their tables, then enough values for the scan
    // to read its clock, then an input for each detector at the end: without the warm-up, the
    // first value builds the tables (about 100 ms in a debug build), the clock says the budget
    // is spent and the attacks at the end go uninspected.
    let filler: String = (0..40)
        .map(|i| format!("&f{i}=it%27s%20item%20{i}"))
        .collect();
    let url = format!(
        "{base}/search?note=O%27Brien%20said%3A%20select%20a%20plan{filler}\
         &q=1%27%20OR%20%271%27%3D%271&cmd=%3Bcat%20%2Fetc%2Fpasswd\
         &file=..%2F..%2Fetc%2Fshadow&next=http%3A%2F%2F169.254.169.254%2F"
    );
    let (status, _) = get_with(&url, &[("user-agent", "sqlmap/1.7.2#stable")]).await;
    let waf = agent.stats().waf;
    assert_eq!(waf.budget_overruns, 0, "{waf:?}");
    assert_eq!(status, 200, "{waf:?}");
    assert!(
        waf.sqli >= 1 && waf.rce >= 1 && waf.lfi >= 1 && waf.scanner >= 1,
        "every detector saw its input: {waf:?}"
    );
}
