//! The WAF's multipart parser, through the layer: the input's first line is what follows
//! `multipart/form-data; ` in the `Content-Type` (the boundary parameter), the rest the body of
//! a POST (monitor mode, so the whole body is read). Asserts no internal failure and the body
//! handed on intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqreen_fuzz::{body_agent, send_body};

fuzz_target!(|data: &[u8]| {
    let (params, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    // a value `HeaderValue` refuses gives no content type: the fixed boundary then
    let params = std::str::from_utf8(params)
        .ok()
        .filter(|p| p.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
        .unwrap_or("boundary=fuzz");
    send_body(
        body_agent(),
        &format!("multipart/form-data; {params}"),
        body,
    );
});
