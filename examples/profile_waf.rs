//! Profiling helper for the WAF's typical request (`benches/waf.rs`, `waf/typical`): sends it
//! `N` times through the layer with the WAF in monitor mode and `N` times with the WAF off (the
//! body is read in both), and prints the time and the heap allocations the WAF adds per
//! request. The requests are built before [`measured`] runs, so under callgrind only the
//! layer is counted.
//!
//! Run natively: `cargo run --release --example profile_waf -- 200000`; a second argument
//! `echo` sends the load test's JSON body instead (`benches/load/post.lua`: 40 small records,
//! every string plain), `worst` the 64 KiB near-attack body of `waf/body_64k`, `spots` that of
//! `waf/body_64k_spots`, `pad:NAME` that of `waf/body_64k_pad/NAME`, `many:MARK` that of
//! `waf/body_64k_many` (a JSON array of short distinct strings `MARK0`, `MARK1`, ...). Instructions per
//! request, counting only the measured loops (divide by `2 N`, then subtract the WAF-off run's
//! share as printed):
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example profile_waf
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='profile_waf::measured' \
//!   target/release/examples/profile_waf 2000
//! ```
//!
//! See `benches/README.md` ("waf") for what it showed.

use std::alloc::System;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use sqreen::rules::WafMode;
use sqreen::Agent;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::{Layer, Service};

#[path = "../benches/support/mod.rs"]
mod support;
#[path = "../benches/support/typical.rs"]
mod typical;
use support::{call, Layered};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

async fn bare(_req: Request<Layered>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Sends every request of `reqs` through `service`; returns the time and allocations it took.
#[inline(never)]
fn measured<S>(service: &mut S, reqs: Vec<Request<Full<Bytes>>>) -> (Duration, usize)
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    for req in reqs {
        call(service, req);
    }
    (start.elapsed(), region.change().allocations)
}

fn agent(mode: WafMode) -> Result<Agent, Box<dyn std::error::Error>> {
    Ok(Agent::builder()
        .waf_mode(mode)
        .configure(|c| {
            c.waf_budget = Duration::from_millis(100);
            c.max_body_bytes = 1 << 20;
        })
        .build()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("100000")
        .parse()?;
    let body = Bytes::from(match std::env::args().nth(2).as_deref() {
        Some("echo") => typical::echo_body(),
        Some("worst") => typical::worst_body(),
        Some("spots") => typical::spotted_body(),
        Some(mark) if mark.starts_with("many:") => typical::many_strings_body(&mark[5..]),
        Some(pad) if pad.starts_with("pad:") => {
            let unit = typical::paddings()
                .into_iter()
                .find(|(name, _)| *name == &pad[4..])
                .expect("a padding of typical::paddings")
                .1;
            typical::padded_body(&unit)
        }
        _ => typical::json_body(),
    });
    let (off, on) = (agent(WafMode::Off)?, agent(WafMode::Monitor)?);
    let mut without = off.layer().layer(tower::service_fn(bare));
    let mut with = on.layer().layer(tower::service_fn(bare));
    // the first request builds the detectors' tables: not part of the measure
    call(&mut with, typical::typical(&body));
    let (mut t_off, mut t_on, mut a_off, mut a_on) = (Duration::ZERO, Duration::ZERO, 0, 0);
    // alternating chunks, so that the machine's drift cancels out
    let chunk = 1000.min(n).max(1);
    let mut done = 0;
    while done < n {
        let k = chunk.min(n - done);
        let (t, a) = measured(
            &mut without,
            (0..k).map(|_| typical::typical(&body)).collect(),
        );
        (t_off, a_off) = (t_off + t, a_off + a);
        let (t, a) = measured(&mut with, (0..k).map(|_| typical::typical(&body)).collect());
        (t_on, a_on) = (t_on + t, a_on + a);
        done += k;
    }
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    println!(
        "{n} typical requests: WAF off {:.0} ns, monitor {:.0} ns, added {:.0} ns; \
         allocations per request: off {:.2}, monitor {:.2}",
        per(t_off),
        per(t_on),
        per(t_on) - per(t_off),
        a_off as f64 / n as f64,
        a_on as f64 / n as f64,
    );
    let stats = on.stats().waf;
    if stats.sqli
        + stats.xss
        + stats.lfi
        + stats.rce
        + stats.ssrf
        + stats.scanner
        + stats.code_injection
        > 0
    {
        return Err("the typical request was flagged".into());
    }
    Ok(())
}
