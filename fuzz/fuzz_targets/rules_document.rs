//! Rules documents: arbitrary bytes (as UTF-8; others are refused before parsing, as a rules
//! file or URL would be) given to `RulesDocument::parse`, which must answer Ok or Err. A
//! document it accepts is put in force on an agent (`set_rules`: compiled lists, playbooks, WAF
//! settings) and one request goes through the layer; asserts no internal failure.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use http::Request;
use libfuzzer_sys::fuzz_target;
use sqreen::rules::{RulesDocument, WafMode};
use sqreen::Agent;
use sqreen_fuzz::{builder, send, Handler};

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| builder(WafMode::Block).build().expect("the fuzz agent"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = RulesDocument::parse(text) else {
        return;
    };
    let agent = agent();
    agent.set_rules(doc);
    let req = Request::builder()
        .method("POST")
        .uri("/login?next=/home")
        .header("host", "app.example")
        .header("x-forwarded-for", "203.0.113.5, 198.51.100.20")
        .header("authorization", "Basic bWFsbG9yeTpzZWNyZXQ=")
        .header("content-type", "application/x-www-form-urlencoded");
    send(
        agent,
        req,
        Bytes::from_static(b"username=mallory&password=x' or 1=1--"),
        0,
        Some(([10, 0, 0, 1], 443).into()),
        Handler::default(),
    );
});
