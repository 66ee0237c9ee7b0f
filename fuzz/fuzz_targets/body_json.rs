//! The WAF's JSON body parser, through the layer: the input is the body of a POST with
//! `Content-Type: application/json` (monitor mode, so the whole body is read). Asserts no internal
//! failure and the body handed on intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqreen_fuzz::{body_agent, send_body};

fuzz_target!(|data: &[u8]| {
    send_body(body_agent(), "application/json", data);
});
