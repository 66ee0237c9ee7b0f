//! Helpers shared by the benches: a no-runtime `block_on` for in-process services, and the
//! alternating-chunk measurement of the time one service adds over another.
#![allow(dead_code)]

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::black_box;
use http::Request;
use http_body_util::Full;
use sqreen::SqreenRequestBody;
use tower::{Service, ServiceExt};

/// The request body a service behind the layer receives.
pub type Layered = SqreenRequestBody<Full<Bytes>>;

/// Polls a future to completion on this thread (the services measured never wait on I/O).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Calls `service` once with `req` and drops the response, as a server would.
pub fn call<S>(service: &mut S, req: Request<Full<Bytes>>)
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: Debug,
{
    let res = block_on(async { service.ready().await?.call(req).await });
    black_box(res.unwrap());
}

/// The time `with` takes beyond `without` over `iters` requests from `make`, measured in
/// alternating chunks of 256 so that machine drift between samples cancels out. Requests are
/// built outside the timed parts.
pub fn added_time<A, B>(
    iters: u64,
    mut make: impl FnMut(u64) -> Request<Full<Bytes>>,
    without: &mut A,
    with: &mut B,
) -> Duration
where
    A: Service<Request<Full<Bytes>>>,
    A::Error: Debug,
    B: Service<Request<Full<Bytes>>>,
    B::Error: Debug,
{
    const CHUNK: u64 = 256;
    let (mut t_without, mut t_with) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    while done < iters {
        let n = CHUNK.min(iters - done);
        let reqs: Vec<_> = (done..done + n).map(&mut make).collect();
        let start = Instant::now();
        for req in reqs {
            call(without, req);
        }
        t_without += start.elapsed();
        let reqs: Vec<_> = (done..done + n).map(&mut make).collect();
        let start = Instant::now();
        for req in reqs {
            call(with, req);
        }
        t_with += start.elapsed();
        done += n;
    }
    t_with.saturating_sub(t_without)
}

/// The time each of `services` takes over `iters` requests from `make`, measured in
/// alternating chunks of 256 (each service in turn, starting with the next one each round), so
/// that machine drift between samples falls on all of them alike.
pub fn alternating_times<S, const N: usize>(
    iters: u64,
    mut make: impl FnMut(u64) -> Request<Full<Bytes>>,
    services: &mut [S; N],
) -> [Duration; N]
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: Debug,
{
    const CHUNK: u64 = 256;
    let mut times = [Duration::ZERO; N];
    let mut done = 0;
    let mut round = 0;
    while done < iters {
        let n = CHUNK.min(iters - done);
        // each round starts with the next service, so none is always first or last
        for k in 0..N {
            let i = (round + k) % N;
            let reqs: Vec<_> = (done..done + n).map(&mut make).collect();
            let start = Instant::now();
            for req in reqs {
                call(&mut services[i], req);
            }
            times[i] += start.elapsed();
        }
        done += n;
        round += 1;
    }
    times
}
