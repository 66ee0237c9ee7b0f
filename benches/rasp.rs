//! RASP's SQL check at the sink: `first_injection` over a 297-byte query (a product listing
//! with a join, two string literals, a range and a sort) and a request's 10 values.
//!
//! - `rasp/sql/no_match`: none of the values occurs in the query — the common case, one
//!   `memmem` per value and no tokenization.
//! - `rasp/sql/benign_in_literal`: two of the values sit inside the query's literals, as an
//!   app that concatenates (or builds the text for logging) puts them: the query is tokenized
//!   once and both occurrences are judged harmless.
//! - `rasp/sql/injection`: the last value broke out of its literal (`' OR '1'='1`): every value
//!   is searched, the query tokenized, the injection found.
//! - `rasp/sql/memmem_baseline`: `memchr::memmem::find` of the `no_match` values, nothing else —
//!   the figure `no_match` is to be read against on a noisy machine (same run, same load).
//!
//! Run: `cargo bench --bench rasp`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sqreen::rasp::sql::{first_injection, Dialect};

/// The app's query with `slug` and `name` concatenated into its two literals.
fn query(slug: &str, name: &str) -> String {
    format!(
        "SELECT p.id, p.name, p.price, p.stock, c.name AS category FROM products p \
         JOIN categories c ON c.id = p.category_id WHERE c.slug = '{slug}' AND p.price \
         BETWEEN 10 AND 200 AND p.stock > 0 AND p.name LIKE '%{name}%' AND p.deleted_at IS \
         NULL ORDER BY p.price DESC, p.name ASC LIMIT 20 OFFSET 40"
    )
}

/// A request's values: cookies, headers and query parameters; `slug` and `name` last.
fn values<'a>(slug: &'a str, name: &'a str) -> [&'a str; 10] {
    [
        "c2f1e0b7-7c4d-4a7e-9a41-0f6e1d2b8c3a",
        "en-US,en;q=0.9",
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "grid",
        "utm_winter_sale",
        "https://shop.example.com/",
        "3",
        "price_desc",
        slug,
        name,
    ]
}

fn bench_sql(c: &mut Criterion) {
    let mut group = c.benchmark_group("rasp/sql");
    let cases = [
        (
            "no_match",
            "running-shoes",
            "trail",
            "hiking-boots",
            "alpine",
        ),
        (
            "benign_in_literal",
            "running-shoes",
            "trail",
            "running-shoes",
            "trail",
        ),
        (
            "injection",
            "running-shoes",
            "trail' OR '1'='1",
            "running-shoes",
            "trail' OR '1'='1",
        ),
    ];
    for (name, q_slug, q_name, v_slug, v_name) in cases {
        let query = query(q_slug, q_name);
        assert!((290..=320).contains(&query.len()), "{}", query.len());
        let values = values(v_slug, v_name);
        let expected = (name == "injection").then_some(9);
        let found = first_injection(&query, Dialect::Postgres, values).map(|(i, _)| i);
        assert_eq!(found, expected, "{name}");
        group.bench_function(name, |b| {
            b.iter(|| first_injection(black_box(&query), Dialect::Postgres, black_box(values)))
        });
    }
    let query = query("running-shoes", "trail");
    let values = values("hiking-boots", "alpine");
    group.bench_function("memmem_baseline", |b| {
        b.iter(|| {
            let hay = black_box(&query).as_bytes();
            black_box(values).map(|v| memchr::memmem::find(hay, v.as_bytes()).is_some())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_sql);
criterion_main!(benches);
