//! The whole layer on arbitrary requests (`sqreen_fuzz::RawRequest`: method, target, headers,
//! body; a control byte for the peer, the handler's status, `identify`, the body's frames), with
//! the WAF in block mode at paranoia 2, automatic user monitoring, a login route, trusted
//! proxies and deny and pass lists. Asserts no internal failure and the body handed on intact.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sqreen::rules::WafMode;
use sqreen::Agent;
use sqreen_fuzz::{builder, send, Control, Handler, RawRequest};

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        builder(WafMode::Block)
            // small, so that bodies past it are read in part and handed on whole
            .configure(|c| c.max_body_bytes = 2048)
            .build()
            .expect("the fuzz agent")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let control = Control(control);
    let raw = RawRequest::decode(rest);
    let identify = control
        .identify()
        .then(|| {
            raw.headers
                .iter()
                .find(|(n, _)| n == "x-fuzz-user")
                .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
        })
        .flatten();
    let handler = Handler {
        status: control.status(),
        identify,
    };
    send(
        agent(),
        raw.builder(),
        raw.body.clone(),
        control.chunk(),
        control.peer(),
        handler,
    );
});
