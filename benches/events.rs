//! Events on the request path and in the background.
//!
//! - `record/*`: the added time of one `track` call with three properties inside a request of
//!   ten query parameters (two of them sensitive), measured like `added/*` in the layer bench:
//!   the same layered service with and without the call (both build the properties), in
//!   alternating chunks of 256 requests, the difference reported. It includes building the event (request summary, query parsing,
//!   IP metadata), redaction, and the non-blocking send to the pipeline (a JSON-lines file).
//! - `serialize/*`: what the pipeline's thread does per event before writing or sending it:
//!   serializing it, which applies the redaction of the request's parameters and headers.
//! - printed first: background throughput, events per second from `track_for` to a local
//!   webhook receiver on 127.0.0.1 (`SQREEN_WEBHOOK_EVENTS=all`), 100,000 events.
//!
//! Run: `cargo bench --bench events`.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use serde_json::json;
use sqreen::{Actor, Agent, WebhookEvents};

#[path = "support/mod.rs"]
mod support;
use support::{added_time, block_on, Layered};
use tower::{Layer, Service, ServiceExt};

const QUERY: &str = "/search?q=shoes&page=2&sort=price&size=42&color=red&brand=acme\
&token=abc123secret&session=xyz&lang=en&ref=home";

fn request() -> Request<Full<Bytes>> {
    let mut req = Request::builder()
        .uri(QUERY)
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        )
        .header("x-forwarded-for", "192.0.2.44")
        .body(Full::new(Bytes::new()))
        .unwrap();
    req.extensions_mut()
        .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
    req
}

/// The same handler without the `track` call: it builds (and drops) the same properties, which
/// are the application's work, so the difference is the agent's alone.
async fn plain<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    black_box(json!({ "results": 12, "password": "hunter2", "plan": "free" }));
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

async fn tracking<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    sqreen::track(
        "search.done",
        json!({ "results": 12, "password": "hunter2", "plan": "free" }),
    );
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn bench_record(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("sqreen-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.jsonl");
    // The event is built and redacted on the request path, then handed to a sink: here a hook
    // that keeps nothing (the work measured is exactly the request path's), and the pipeline
    // with a JSON-lines file (the send is added, and the writer thread competes for the CPU).
    let hooked = Agent::builder()
        .event_sink(|e: &sqreen::event::Event| {
            black_box(e);
        })
        .build()
        .unwrap();
    let piped = Agent::builder()
        .configure(|c| c.events_path = Some(path.clone()))
        .build()
        .unwrap();
    for (name, agent) in [
        ("record/built_and_redacted", &hooked),
        ("record/with_file_pipeline", &piped),
    ] {
        let mut without = agent.layer().layer(tower::service_fn(plain::<Layered>));
        let mut with = agent.layer().layer(tower::service_fn(tracking::<Layered>));
        c.bench_function(name, |b| {
            b.iter_custom(|iters| added_time(iters, |_| request(), &mut without, &mut with))
        });
    }
    piped.shutdown(Duration::from_secs(30));

    // What the pipeline's thread does per event: serialize it, which applies the redaction of
    // the request's parameters and headers (the summary is opaque until then).
    let kept = Arc::new(std::sync::Mutex::new(None));
    let keep = kept.clone();
    let agent = Agent::builder()
        .event_sink(move |e: &sqreen::event::Event| {
            *keep.lock().unwrap() = Some(e.clone());
        })
        .build()
        .unwrap();
    let mut svc = agent.layer().layer(tower::service_fn(tracking::<Layered>));
    block_on(async { svc.ready().await?.call(request()).await }).unwrap();
    let event = kept.lock().unwrap().take().expect("an event was recorded");
    c.bench_function("serialize/event_with_10_query_params", |b| {
        b.iter(|| black_box(serde_json::to_vec(&event).unwrap()))
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1 answering 200 to every POST, counting the
/// messages (JSON array elements are counted by their `message_id` keys).
fn receiver(messages: Arc<AtomicU64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let messages = messages.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.to_ascii_lowercase();
                        if let Some(v) = l.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let n = body.windows(12).filter(|w| w == b"\"message_id\"").count();
                    messages.fetch_add(n as u64, Ordering::Relaxed);
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            });
        }
    });
    url
}

fn throughput(_: &mut Criterion) {
    const EVENTS: u64 = 100_000;
    let messages = Arc::new(AtomicU64::new(0));
    let url = receiver(messages.clone());
    let agent = Agent::builder()
        .configure(|c| {
            c.webhook_url = Some(url);
            c.webhook_secret = Some("bench-secret".into());
            c.webhook_events = WebhookEvents::All;
            c.event_queue = EVENTS as usize;
        })
        .build()
        .unwrap();
    let actor = Actor::ip("192.0.2.45".parse().unwrap());
    let start = Instant::now();
    for i in 0..EVENTS {
        agent.track_for(&actor, "api.call", json!({ "i": i }));
    }
    let queued = start.elapsed();
    while messages.load(Ordering::Relaxed) < EVENTS && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let total = start.elapsed();
    let delivered = messages.load(Ordering::Relaxed);
    let stats = agent.stats().events;
    println!(
        "throughput: {delivered} of {EVENTS} events delivered to a local webhook in {:.2} s: \
         {:.0} events/s ({:.0} ns per track_for on the caller's side; dropped {}, retries {})",
        total.as_secs_f64(),
        delivered as f64 / total.as_secs_f64(),
        queued.as_nanos() as f64 / EVENTS as f64,
        stats.dropped + stats.delivery_dropped,
        stats.webhook_retries,
    );
}

criterion_group!(benches, throughput, bench_record);
criterion_main!(benches);
