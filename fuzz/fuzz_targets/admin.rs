//! The admin API on arbitrary calls, as an internal listener gets them (`agent.admin_service()`):
//! any method, a target under the admin path (`/_sqreen/` is put in front of the fuzzed one),
//! any headers and body, with the right bearer token when the control byte says so (so the
//! handlers behind the token check are reached: actions pushed and deleted, events queried).
//! Asserts no internal failure, never a 500, a JSON answer on every refusal, and the action
//! store within its cap.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use sqreen::rules::WafMode;
use sqreen::{AdminListener, Agent};
use sqreen_fuzz::{builder, runtime, RawRequest};
use tower::ServiceExt;

const TOKEN: &str = "fuzz-admin-token-0123456789";
const MAX_ACTIONS: usize = 64;

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        builder(WafMode::Block)
            .admin_token(TOKEN)
            .admin_listener(AdminListener::Mounted)
            .configure(|c| c.max_actions = MAX_ACTIONS)
            .build()
            .expect("the fuzz agent")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let raw = RawRequest::decode(rest);
    let target = raw.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("/_sqreen/{}", target.trim_start_matches('/')).parse::<http::Uri>()
    else {
        return;
    };
    let mut req = raw.builder().uri(uri);
    if control & 1 == 1 {
        req = req.header(AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    if control & 2 == 2 {
        req = req.header(CONTENT_TYPE, "application/json");
    }
    let Ok(req) = req.body(Full::new(raw.body.clone())) else {
        return;
    };
    let agent = agent();
    let (status, content_type, body) = runtime().block_on(async {
        let res = agent.admin_service().oneshot(req).await.unwrap();
        let status = res.status();
        let content_type = res.headers().get(CONTENT_TYPE).cloned();
        let body: Bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, body)
    });
    assert_ne!(status, 500, "an internal error: {body:?}");
    if status.is_client_error() {
        assert_eq!(
            content_type.as_ref().map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        let error: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error");
        assert!(error["error"].is_string(), "{error}");
    }
    let stats = agent.stats();
    assert_eq!(stats.internal_failures, 0, "the agent caught a failure of its own");
    assert!(agent.actions().len() <= MAX_ACTIONS);
});
