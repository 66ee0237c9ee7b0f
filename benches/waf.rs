//! The in-app WAF's cost.
//!
//! - `waf/typical`: what the WAF adds to a typical request — 10 query parameters, a 2 KiB JSON
//!   body, the headers a browser sends (cookies included) — measured as the layer with the WAF
//!   in monitor mode minus the same layer with the WAF off, in alternating chunks in one run (the
//!   body is read by the layer in both, so only the inspection differs).
//! - `waf/body_64k`: the worst case the budget allows for: a 64 KiB JSON body of near-attacks
//!   for every detector, budget raised so the whole body is inspected.
//! - `detector/<category>/<input>`: one detector on one decoded value (`scanner`: the
//!   user-agent list).
//! - `corpus/sqli_*`: the SQLi detector over libinjection's SQLi values and over the benign
//!   values (inputs per second, to set beside libinjection's published figures).
//!
//! Run: `cargo bench --bench waf`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use http::{Request, Response};
use http_body_util::Full;
use sqreen::rules::WafMode;
use sqreen::waf::AttackCategory;
use sqreen::Agent;
use tower::Layer;

#[path = "support/mod.rs"]
mod support;
use support::{added_time, Layered};

async fn bare<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// A 2 KiB JSON document shaped like an order: nested objects, an array, a free-text comment.
fn json_body() -> String {
    let items: Vec<serde_json::Value> = (0..8)
        .map(|i| {
            serde_json::json!({
                "sku": format!("SKU-{i:05}"),
                "name": "Wireless noise-cancelling headphones, black",
                "quantity": i + 1,
                "price": 129.99,
                "gift": i % 2 == 0,
            })
        })
        .collect();
    let mut doc = serde_json::json!({
        "customer": { "name": "Jane O'Connor", "email": "jane.oconnor@example.com",
                      "phone": "+1 (555) 010-2030" },
        "shipping": { "street": "1200 Market Street, Apt. 4B", "city": "San Francisco",
                      "zip": "94103", "country": "US" },
        "items": items,
        "note": "Please leave the parcel at the front desk if nobody answers. Thanks!",
        "coupon": "WINTER-2026",
    });
    // a free-text comment fills the document up to 2 KiB: ordinary prose
    let room = 2048usize.saturating_sub(doc.to_string().len() + 14);
    let sentence =
        "The headphones arrived two days late, but the box was intact and the sound is great. ";
    let mut comment = String::new();
    while comment.len() + sentence.len() <= room {
        comment.push_str(sentence);
    }
    doc["comment"] = comment.into();
    doc.to_string()
}

fn typical(body: &Bytes) -> Request<Full<Bytes>> {
    let uri = "/api/orders?page=2&per_page=50&sort=created_at&order=desc&status=open\
               &q=wireless+headphones&category=audio&min_price=10&max_price=300&lang=en-US";
    let mut req = Request::post(uri)
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        )
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        )
        .header("accept-language", "en-US,en;q=0.9,fr;q=0.8")
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .header("content-type", "application/json")
        .header("referer", "https://shop.example/cart?step=2")
        .header(
            "cookie",
            "session=6f1c2b7e9a4d4e0b8c3f2a1d5e6b7c8d; theme=dark; consent=analytics%3Dno",
        )
        .header("x-forwarded-for", "192.0.2.44")
        .body(Full::new(body.clone()))
        .unwrap();
    req.extensions_mut()
        .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
    req
}

fn agent(mode: WafMode, budget: Duration) -> Agent {
    Agent::builder()
        .waf_mode(mode)
        .configure(|c| {
            c.waf_budget = budget;
            c.max_body_bytes = 1 << 20;
        })
        .build()
        .unwrap()
}

fn bench_waf(c: &mut Criterion) {
    let mut group = c.benchmark_group("waf");
    let body = Bytes::from(json_body());
    assert!((1900..=2048).contains(&body.len()), "{}", body.len());
    // An unoptimised build (`cargo test --all-targets` runs each bench once) is ~20x slower: give
    // it room.
    let budget = Duration::from_millis(if cfg!(debug_assertions) { 100 } else { 1 });
    let off = agent(WafMode::Off, budget);
    let on = agent(WafMode::Monitor, budget);
    let mut without = off.layer().layer(tower::service_fn(bare::<Layered>));
    let mut with = on.layer().layer(tower::service_fn(bare::<Layered>));
    group.bench_function("typical", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&body), &mut without, &mut with))
    });
    let stats = on.stats().waf;
    assert_eq!(
        (
            stats.sqli,
            stats.xss,
            stats.lfi,
            stats.rce,
            stats.ssrf,
            stats.scanner
        ),
        (0, 0, 0, 0, 0, 0),
        "a typical request is benign"
    );
    // The first request builds the detectors' tables (regexes, automata), which takes more
    // than the 1 ms budget, and on a shared machine a request descheduled mid-scan overruns
    // it too: counted, not fatal (a few dozen in several hundred thousand requests).
    if stats.budget_overruns > 0 {
        eprintln!(
            "waf/typical: {} budget overruns (first request, preemption)",
            stats.budget_overruns
        );
    }

    let unit = "' or <a on=../;|${ ";
    let big = unit.repeat((64 << 10) / unit.len());
    let big = Bytes::from(serde_json::json!({ "q": big }).to_string());
    let worst = agent(WafMode::Monitor, Duration::from_secs(10));
    let mut with = worst.layer().layer(tower::service_fn(bare::<Layered>));
    group.sample_size(20);
    group.bench_function("body_64k", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&big), &mut without, &mut with))
    });
    group.finish();
}

/// The free-text comment of [`json_body`]: 1.2 KB of prose.
fn prose() -> String {
    let body: serde_json::Value = serde_json::from_str(&json_body()).unwrap();
    body["comment"].as_str().unwrap().to_owned()
}

fn bench_detectors(c: &mut Criterion) {
    let prose = prose();
    let inputs = [
        ("word", "headphones"),
        ("email", "jane.oconnor@example.com"),
        (
            "sentence",
            "Please leave the parcel at the front desk if nobody answers.",
        ),
        (
            "user_agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        ),
        ("sqli", "1' OR '1'='1' -- "),
        ("xss", "<img src=x onerror=alert(1)>"),
        ("prose_1k", &prose),
    ];
    let mut group = c.benchmark_group("detector");
    for category in [
        AttackCategory::Sqli,
        AttackCategory::Xss,
        AttackCategory::Rce,
        AttackCategory::Lfi,
        AttackCategory::Ssrf,
        AttackCategory::Scanner,
    ] {
        for (name, input) in inputs {
            group.bench_function(format!("{category}/{name}"), |b| {
                b.iter(|| sqreen::waf::detect(category, black_box(input)))
            });
        }
    }
    group.finish();
}

fn values(pick: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/values.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| pick(v))
        .map(|v| v["value"].as_str().unwrap().to_owned())
        .collect()
}

fn bench_corpus(c: &mut Criterion) {
    let attacks = values(|v| v["source"] == "libinjection" && v["category"] == "sqli");
    let benign = values(|v| v["expect"] == "benign");
    let mut group = c.benchmark_group("corpus");
    group.sample_size(10);
    for (name, set) in [("sqli_attacks", &attacks), ("sqli_benign", &benign)] {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                set.iter()
                    .filter(|v| sqreen::waf::detect(AttackCategory::Sqli, v).is_some())
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_waf, bench_detectors, bench_corpus);
criterion_main!(benches);
