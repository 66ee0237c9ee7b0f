//! The WAF's form and query parsers, through the layer: the input is the body of a POST with
//! `Content-Type: application/x-www-form-urlencoded`, then the query string of a GET (bytes a
//! URI refuses percent-encoded). Monitor mode, so the whole input is read. Asserts no internal
//! failure and the body handed on intact.
#![no_main]

use bytes::Bytes;
use http::Request;
use libfuzzer_sys::fuzz_target;
use sqreen_fuzz::{body_agent, send, send_body, uri, Handler};

fuzz_target!(|data: &[u8]| {
    send_body(body_agent(), "application/x-www-form-urlencoded", data);
    let mut target = b"/search?".to_vec();
    target.extend_from_slice(data);
    let req = Request::builder()
        .uri(uri(&target))
        .header("host", "app.example");
    send(
        body_agent(),
        req,
        Bytes::new(),
        0,
        Some(([198, 51, 100, 9], 50_000).into()),
        Handler::default(),
    );
});
