//! The process-wide agent (`sqreen::init_from_env`, `sqreen::layer`) configured from real
//! environment variables. One test only: it changes this test binary's environment.

mod common;

use common::{get_with, serve_router};

#[tokio::test]
async fn init_from_env_and_the_global_layer() {
    // before init: the global layer passes everything through
    let base = serve_router(common::app().layer(sqreen::layer())).await;
    assert_eq!(
        get_with(&base, &[("x-forwarded-for", "203.0.113.9")])
            .await
            .0,
        200
    );
    assert!(sqreen::global().is_none());

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"version": "env-1", "ip_denylist": ["203.0.113.0/24"]}"#,
    )
    .unwrap();
    // SAFETY of the test: this binary has a single test, nothing else reads the environment.
    std::env::set_var("SQREEN_RULES_PATH", &rules);
    std::env::set_var("SQREEN_MAX_ACTORS", "lots");
    let err = sqreen::init_from_env().unwrap_err();
    assert_eq!(err.variable(), Some("SQREEN_MAX_ACTORS"));
    assert!(err.to_string().contains("\"lots\""));
    assert!(sqreen::global().is_none(), "a failed init installs nothing");

    std::env::set_var("SQREEN_MAX_ACTORS", "1000");
    std::env::set_var("SQREEN_TRUSTED_PROXIES", "127.0.0.0/8");
    let agent = sqreen::init_from_env().unwrap();
    assert_eq!(agent.config().max_actors, 1000);
    assert_eq!(agent.rules_version().as_deref(), Some("env-1"));
    let base = serve_router(common::app().layer(sqreen::layer())).await;
    assert_eq!(
        get_with(&base, &[("x-forwarded-for", "203.0.113.9")])
            .await
            .0,
        403
    );
    assert_eq!(
        get_with(&base, &[("x-forwarded-for", "192.0.2.1")]).await.0,
        200
    );
    assert_eq!(sqreen::global().unwrap().stats().blocked_ip, 1);
}
