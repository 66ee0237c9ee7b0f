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
//!   values (inputs per second, to set beside libinjection's published figures); read from the
//!   development corpus (`tests/support/corpus.rs`), skipped without it.
//!
//! Run: `cargo bench --bench waf`.

use std::convert::Infallible;
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
#[path = "support/typical.rs"]
mod typical;
use support::{added_time, Layered};
use typical::{json_body, typical};

async fn bare<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
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
            stats.scanner,
            stats.code_injection
        ),
        (0, 0, 0, 0, 0, 0, 0),
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

    // (the code-injection detector's triggers `(`, `{`, `$`, `<`, `.` are in it too)
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
        AttackCategory::CodeInjection,
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

#[path = "../tests/support/corpus.rs"]
mod corpus;

/// The corpus values `pick` keeps (an empty set, after a line saying so, without the corpus).
fn values(pick: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let text = corpus::read("values.jsonl", "corpus/* benchmarks").unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| pick(v))
        .map(|v| v["value"].as_str().unwrap().to_owned())
        .collect()
}

fn bench_corpus(c: &mut Criterion) {
    let attacks = values(|v| v["source"] == "libinjection" && v["category"] == "sqli");
    if attacks.is_empty() {
        return;
    }
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
