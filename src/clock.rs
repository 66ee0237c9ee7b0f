//! Time for the agent: one [`Clock`], real or manual.
//!
//! Everything that expires (timed blocks, counter windows, digests) reads the time from the agent's
//! clock, so tests move time forward with a [`ManualClock`] instead of sleeping. Times are
//! milliseconds since the Unix epoch in a `u64`: cheap to store in atomics and to compare.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
}

/// The system's wall clock, read with a system call each time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        system_now()
    }
}

fn system_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How often [`CoarseClock`]'s thread reads the system clock.
pub const COARSE_CLOCK_STEP: Duration = Duration::from_millis(5);

static COARSE_NOW: AtomicU64 = AtomicU64::new(0);
static COARSE_START: Once = Once::new();

/// The system's wall clock as read every [`COARSE_CLOCK_STEP`] (5 ms) by one background thread
/// (`sqreen-clock`, started on first use, shared by every agent of the process), so reading it is
/// one atomic load instead of a system call. The agent's default clock: the hot path reads the
/// time on every `track`, and on virtual machines the system call can cost more than the rest of
/// the call. Never more than about 5 ms behind the system clock; if the thread cannot be
/// started, every read falls back to the system call.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoarseClock;

impl Clock for CoarseClock {
    fn now_ms(&self) -> Millis {
        match COARSE_NOW.load(Ordering::Relaxed) {
            0 => {
                COARSE_START.call_once(start_coarse_ticker);
                match COARSE_NOW.load(Ordering::Relaxed) {
                    0 => system_now(),
                    now => now,
                }
            }
            now => now,
        }
    }
}

fn start_coarse_ticker() {
    COARSE_NOW.store(system_now(), Ordering::Relaxed);
    let spawned = std::thread::Builder::new()
        .name("sqreen-clock".to_owned())
        .spawn(|| loop {
            std::thread::sleep(COARSE_CLOCK_STEP);
            COARSE_NOW.store(system_now(), Ordering::Relaxed);
        });
    if spawned.is_err() {
        // No thread: keep the value at 0 so every read asks the system.
        COARSE_NOW.store(0, Ordering::Relaxed);
        tracing::warn!(target: "sqreen", "cannot start the sqreen-clock thread: reading the system clock on every call");
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use sqreen::{Clock, ManualClock};
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now_ms(), 3_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms` milliseconds since the Unix epoch.
    pub fn new(start_ms: Millis) -> Self {
        ManualClock {
            now: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// Sets the clock to `ms` milliseconds since the Unix epoch.
    pub fn set(&self, ms: Millis) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_follows_the_system_clock() {
        let coarse = CoarseClock.now_ms();
        let system = SystemClock.now_ms();
        assert!(system.abs_diff(coarse) < 1_000, "{coarse} vs {system}");
        std::thread::sleep(Duration::from_millis(30));
        let later = CoarseClock.now_ms();
        assert!(later > coarse, "the ticker moves it");
        assert!(SystemClock.now_ms().abs_diff(later) < 1_000);
    }
}
