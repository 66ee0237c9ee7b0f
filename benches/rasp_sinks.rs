//! RASP checks as the app runs them: inside a request that went through the layer, with a
//! typical request's inputs (10 query parameters, a browser's `User-Agent` and `Referer`).
//!
//! - `rasp/check/<sink>`: one more check of a request whose inputs were already taken (the
//!   handler runs the check in a loop and times it; criterion's `iter_custom`). The path, URL
//!   and command hold none of the request's values, as most do; the 300-byte query holds
//!   three of them by chance (`2` in `24`, `en` in `garden`, `price`), so it is tokenized and
//!   judged, as a real query often is;
//! - `rasp/first_check`: what a request's first check adds (taking the inputs), as the time a
//!   handler doing one file check adds over the same handler doing none, alternating;
//! - `rasp/outside_request/<sink>`: a check with no request (a job, start-up): the task-local
//!   lookup only.
//!
//! Run: `cargo bench --bench rasp_sinks`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use sqreen::rasp;
use sqreen::Agent;
use tower::Layer;

#[path = "support/mod.rs"]
mod support;
use support::{added_time, Layered};

const SEARCH: &str = "/search?q=shoes&page=2&sort=price&size=42&color=red&brand=acme&lang=en\
                      &ref=home&min=10&max=90";
const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                  Gecko) Chrome/131.0.0.0 Safari/537.36";

fn request(iters: u64) -> Request<Full<Bytes>> {
    Request::get(SEARCH)
        .header("user-agent", UA)
        .header("referer", "https://shop.example/home")
        .header("x-iters", iters.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[derive(Clone, Copy)]
enum Which {
    Sql,
    Path,
    Url,
    Command,
}

/// A 300-byte query of the shape apps build (a join, filters, an order, a limit).
const QUERY: &str = "SELECT p.id, p.name, p.price, p.currency, c.name AS category, s.quantity \
    FROM products p JOIN categories c ON c.id = p.category_id LEFT JOIN stock s ON \
    s.product_id = p.id WHERE c.slug = 'garden-tools' AND p.active = 1 AND p.price BETWEEN 5 \
    AND 500 ORDER BY p.created_at DESC, p.id LIMIT 24 OFFSET 48";

fn run(which: Which) {
    let r = match which {
        Which::Sql => rasp::check_sql(QUERY, rasp::sql::Dialect::Postgres),
        Which::Path => rasp::check_path("/srv/app/files/catalogue/readme.txt"),
        Which::Url => rasp::check_url("https://api.example.com/v1/items?q=boots").map(|_| ()),
        Which::Command => rasp::check_command("convert /srv/app/in.png -resize 50% /tmp/out.png"),
    };
    black_box(r).unwrap();
}

fn bench(c: &mut Criterion) {
    let agent = Agent::builder()
        .waf_mode(sqreen::rules::WafMode::Off)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("rasp");
    for (name, which) in [
        ("sql", Which::Sql),
        ("path", Which::Path),
        ("url", Which::Url),
        ("command", Which::Command),
    ] {
        let spent = Arc::new(Mutex::new(Duration::ZERO));
        let out = spent.clone();
        let handler = move |req: Request<Layered>| {
            let spent = out.clone();
            async move {
                let n: u64 = req.headers()["x-iters"].to_str().unwrap().parse().unwrap();
                run(which); // the request's inputs are taken here, outside the timing
                let start = Instant::now();
                for _ in 0..n {
                    run(which);
                }
                *spent.lock().unwrap() = start.elapsed();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            }
        };
        let mut service = agent.layer().layer(tower::service_fn(handler));
        group.bench_function(format!("check/{name}"), |b| {
            b.iter_custom(|iters| {
                support::call(&mut service, request(iters));
                *spent.lock().unwrap()
            })
        });
    }

    let none = |_req: Request<Layered>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    };
    let one = |_req: Request<Layered>| async {
        run(Which::Path);
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    };
    let mut without = agent.layer().layer(tower::service_fn(none));
    let mut with = agent.layer().layer(tower::service_fn(one));
    group.bench_function("first_check", |b| {
        b.iter_custom(|iters| added_time(iters, |_| request(1), &mut without, &mut with))
    });

    for (name, which) in [
        ("path", Which::Path),
        ("url", Which::Url),
        ("command", Which::Command),
    ] {
        group.bench_function(format!("outside_request/{name}"), |b| b.iter(|| run(which)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
