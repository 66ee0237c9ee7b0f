//! The WAF's text body reader, through the layer: the input is the body of a POST with
//! `Content-Type: text/plain` (monitor mode, so the whole body is read): a form's `name=value`
//! lines or free text. Asserts no internal failure and the body handed on intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqreen_fuzz::{body_agent, send_body};

fuzz_target!(|data: &[u8]| {
    send_body(body_agent(), "text/plain; charset=utf-8", data);
});
