//! Added time per request of the layer around an in-process tower service (no network).
//!
//! `bare` is the service alone; the others wrap it with the layer: rules with an empty deny list,
//! with 10 CIDRs and with 100,000 CIDRs (the same prefix lengths in both, so only the count
//! differs), and with the layer disabled. Each request comes from a trusted proxy with an
//! `X-Forwarded-For` header, as behind a load balancer; the URI and header values share their
//! bytes as hyper's do. Requests are built outside the timed
//! part (`iter_batched`); the response is dropped inside it, as a server would.
//! Run: `cargo bench --bench layer`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use sqreen::Agent;

#[path = "support/mod.rs"]
mod support;
use support::{added_time, call, Layered};
use tower::Layer;

/// Bytes shared the way hyper shares them: slices of one reference-counted read buffer, so
/// cloning a header value or the URI is a reference-count increment, not a copy.
fn shared(text: &str) -> Bytes {
    let bytes = Bytes::from(text.as_bytes().to_vec());
    let _promote_to_shared = bytes.clone();
    bytes
}

fn request(i: u32) -> Request<Full<Bytes>> {
    let client = Ipv4Addr::from(0xC000_0200 | (i & 0xff)); // 192.0.2.x, never denied
    let header = |text: &str| http::HeaderValue::from_maybe_shared(shared(text)).unwrap();
    let mut req = Request::builder()
        .uri(http::Uri::from_maybe_shared(shared("/search?q=shoes")).unwrap())
        .header("host", header("shop.example"))
        .header(
            "user-agent",
            header("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"),
        )
        .header(
            "accept",
            header("text/html,application/xhtml+xml,*/*;q=0.8"),
        )
        .header("x-forwarded-for", header(&client.to_string()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    req.extensions_mut()
        .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
    req
}

/// `n` CIDRs in 100.64.0.0/10-free public space, cycling through /16, /24 and /32.
fn deny_rules(n: u32) -> String {
    let nets: Vec<String> = (0..n)
        .map(|i| {
            let base = 0x2D00_0000u32 + i * 256; // from 45.0.0.0 upwards
            let a = Ipv4Addr::from(base);
            match i % 3 {
                0 => format!("\"{a}/24\""),
                1 => format!("\"{}/32\"", Ipv4Addr::from(base + 7)),
                _ => format!("\"{}/16\"", Ipv4Addr::from(base & 0xFFFF_0000)),
            }
        })
        .collect();
    format!("{{\"ip_denylist\": [{}]}}", nets.join(","))
}

async fn bare<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

fn next(i: &mut u32) -> u32 {
    *i = i.wrapping_add(1);
    *i
}

fn bench_layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("layer");
    let mut i = 0u32;
    let mut svc = tower::service_fn(bare::<Full<Bytes>>);
    group.bench_function("bare", |b| {
        b.iter_batched(
            || request(next(&mut i)),
            |req| call(&mut svc, req),
            BatchSize::SmallInput,
        )
    });
    let configs = [
        ("disabled", Agent::builder().disabled(true).build().unwrap()),
        (
            "deny_0",
            Agent::builder().rules_json(&deny_rules(0)).build().unwrap(),
        ),
        (
            "deny_10",
            Agent::builder()
                .rules_json(&deny_rules(10))
                .build()
                .unwrap(),
        ),
        (
            "deny_100000",
            Agent::builder()
                .rules_json(&deny_rules(100_000))
                .build()
                .unwrap(),
        ),
    ];
    for (name, agent) in configs {
        let mut svc = agent.layer().layer(tower::service_fn(bare::<Layered>));
        group.bench_function(name, |b| {
            b.iter_batched(
                || request(next(&mut i)),
                |req| call(&mut svc, req),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The added time itself: bare and layered requests timed in alternating chunks of 256 inside
/// each sample, and the difference reported, so machine drift between samples cancels out.
fn bench_added(c: &mut Criterion) {
    let mut group = c.benchmark_group("added");
    let configs = [
        ("deny_0", deny_rules(0), false),
        ("deny_10", deny_rules(10), false),
        ("deny_100000", deny_rules(100_000), false),
        // an event sink is set: the layer keeps the headers events report
        ("deny_0_events_on", deny_rules(0), true),
    ];
    for (name, rules, events) in configs {
        let mut builder = Agent::builder().rules_json(&rules);
        if events {
            builder = builder.event_sink(|e: &sqreen::event::Event| {
                black_box(e);
            });
        }
        let agent = builder.build().unwrap();
        let mut layered = agent.layer().layer(tower::service_fn(bare::<Layered>));
        let mut plain = tower::service_fn(bare::<Full<Bytes>>);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                added_time(iters, |i| request(i as u32), &mut plain, &mut layered)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_layer, bench_added);
criterion_main!(benches);
