//! Tests of the counter module: the windows against naive models (property tests), concurrency,
//! memory bounds and eviction order, and edge inputs.

mod concurrency;
mod models;
mod store;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::{ActorId, CounterKey, Quiet, WindowSpec};

/// A `now` for tests: 2023-11-14, far from 0 so that times before the epoch are possible.
const T0: u64 = 1_700_000_000_000;

fn spec(threshold: u32, period: Duration, quiet: Quiet) -> WindowSpec {
    WindowSpec {
        threshold,
        period,
        quiet,
    }
}

/// The key of IPv4 actor number `i` in `slot`.
fn key(slot: u32, i: u32) -> CounterKey {
    CounterKey {
        slot,
        actor: ActorId::ip(IpAddr::V4(Ipv4Addr::from(i))),
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
