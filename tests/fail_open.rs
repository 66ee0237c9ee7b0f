//! A failure inside the agent lets the request through (fail-open), or answers 503 when the agent
//! is configured to fail closed; it is counted, and the app keeps serving.

mod common;

use common::{get_with, serve};
use sqreen::Agent;

fn panicking_agent(fail_closed: bool) -> Agent {
    Agent::builder()
        .fail_closed(fail_closed)
        .rules_json(r#"{"ip_denylist": ["203.0.113.0/24"]}"#)
        // the builder's user resolver runs inside the agent's request check: make it fail
        .user_resolver(|head| {
            if head.uri.path() == "/" {
                panic!("user resolver bug");
            }
            None
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_panic_in_the_agent_fails_open() {
    let agent = panicking_agent(false);
    let base = serve(&agent).await;
    for _ in 0..3 {
        let (status, body) = get_with(&base, &[]).await;
        assert_eq!((status, body.as_str()), (200, "hello"));
    }
    assert_eq!(agent.stats().internal_failures, 3);
    // requests the failure does not touch are still checked
    let (status, _) = get_with(
        &format!("{base}/whoami"),
        &[("x-forwarded-for", "203.0.113.9")],
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn fail_closed_answers_503() {
    let config =
        sqreen::Config::from_lookup(|k| Ok((k == "SQREEN_FAIL_CLOSED").then(|| "true".to_owned())))
            .unwrap();
    assert!(config.fail_closed);
    let agent = panicking_agent(config.fail_closed);
    let base = serve(&agent).await;
    let (status, body) = get_with(&base, &[]).await;
    assert_eq!(status, 503);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["security_response_id"].as_str().unwrap().len(), 32);
    assert_eq!(agent.stats().internal_failures, 1);
    let (status, body) = get_with(&format!("{base}/whoami"), &[]).await;
    assert_eq!(status, 200, "{body}");
}
