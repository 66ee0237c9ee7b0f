//! Profiling helper for one WAF detector on one value, for instruction counts under callgrind
//! (load-independent, unlike `cargo bench --bench waf -- detector/`): runs
//! `sqreen::waf::detect(category, value)` `N` times inside [`measured`].
//!
//! Values: `near` (2 KiB of `waf/body_64k`'s near-attack unit, one chunk of the worst case),
//! `prose` (the typical request's 1.2 KB comment), or any other argument taken as the value.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example profile_detector
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='profile_detector::measured' \
//!   target/release/examples/profile_detector sqli near 1000
//! ```
//!
//! Divide the instructions by `N`. Natively it prints the time per call.

use std::hint::black_box;
use std::time::Instant;

use sqreen::waf::{detect, AttackCategory};

#[path = "../benches/support/typical.rs"]
mod typical;

fn category(name: &str) -> AttackCategory {
    AttackCategory::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .unwrap_or_else(|| panic!("unknown category {name:?}"))
}

#[inline(never)]
fn measured(category: AttackCategory, value: &str, n: usize) -> usize {
    let mut found = 0;
    for _ in 0..n {
        found += usize::from(detect(category, black_box(value)).is_some());
    }
    found
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cat), Some(value)) = (args.first(), args.get(1)) else {
        eprintln!("usage: profile_detector <category> <near|prose|VALUE> [N]");
        std::process::exit(2);
    };
    let n = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let value = match value.as_str() {
        "near" => typical::NEAR_ATTACKS.repeat(2048 / typical::NEAR_ATTACKS.len()),
        "prose" => {
            let body: serde_json::Value = serde_json::from_str(&typical::json_body()).unwrap();
            body["comment"].as_str().unwrap().to_owned()
        }
        v => v.to_owned(),
    };
    let category = category(cat);
    // builds the detector's tables outside the measured loop
    detect(category, &value);
    let t = Instant::now();
    let found = measured(category, &value, n);
    let per = t.elapsed() / n as u32;
    println!(
        "{cat} on {} bytes: {per:?} per call, {found} of {n} found",
        value.len()
    );
}
