//! Stopping the agent: [`Agent::shutdown`], [`Agent::shutdown_async`], and what dropping the
//! last handle does.
//!
//! Delivering what is queued can take up to the deadline (a webhook receiver that is down is
//! retried until then). That wait must never happen on an async runtime's worker: the worker
//! would stop serving every other task, and on a current-thread runtime the very receiver the
//! events are going to, when it lives in the same process, could not answer. So the async form
//! waits on a thread of its own, and dropping the last handle inside a runtime hands the flush
//! to such a thread instead of waiting. Nothing here runs on the request path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{Agent, AgentInner};

/// How long dropping the last handle of an agent lets its events go out.
pub(crate) const DROP_FLUSH_DEADLINE: Duration = Duration::from_secs(5);

impl Agent {
    /// Stops the agent's background threads: delivers the queued events and notifications
    /// within `deadline` and returns how many were left undelivered (0 when all went out).
    /// Requests keep being served with the rules in force; events recorded afterwards are
    /// dropped (and counted). The rules file and URL are no longer polled (a request to the URL
    /// in flight is not waited for, and what it brings is not put in force).
    ///
    /// This call blocks the calling thread up to `deadline`; from async code, use
    /// [`Agent::shutdown_async`].
    pub fn shutdown(&self, deadline: Duration) -> usize {
        if let Some(mut watcher) = self.inner.watcher.lock().take() {
            watcher.stop();
        }
        if let Some(poller) = self.inner.poller.lock().take() {
            poller.stop();
        }
        if let Some(cluster) = self.inner.cluster.get() {
            cluster.stop();
        }
        if let Some((_, server)) = self.inner.admin_server.get() {
            server.stop_and_wait();
        }
        let until = Instant::now() + deadline;
        let left = self
            .inner
            .pipeline
            .as_ref()
            .map_or(0, |p| p.shutdown(deadline));
        if let Some(queue) = &self.inner.notify {
            queue.shutdown(until);
        }
        left
    }

    /// [`Agent::shutdown`] for async code: the waiting happens on a thread of its own
    /// (`sqreen-shutdown`), so the runtime's worker goes on serving other tasks meanwhile, on
    /// any executor. Call it after the server has stopped, before the process exits: the
    /// events still queued then go out.
    ///
    /// ```no_run
    /// # async fn run(agent: sqreen::Agent) {
    /// // axum::serve(...).with_graceful_shutdown(...).await?;
    /// let left = agent.shutdown_async(std::time::Duration::from_secs(5)).await;
    /// if left > 0 {
    ///     eprintln!("{left} events could not be delivered");
    /// }
    /// # }
    /// ```
    pub async fn shutdown_async(&self, deadline: Duration) -> usize {
        let agent = self.clone();
        Handoff::spawn("sqreen-shutdown", move || agent.shutdown(deadline)).await
    }
}

/// Dropping the last handle stops the threads and lets the queued events go out within
/// [`DROP_FLUSH_DEADLINE`]: in place outside an async runtime, on a thread of its own inside
/// one (the drop then returns at once; a process exiting right after may lose those events,
/// which is why servers call [`Agent::shutdown_async`] first).
impl Drop for AgentInner {
    fn drop(&mut self) {
        // these two only raise flags
        if let Some(poller) = self.poller.get_mut().take() {
            poller.stop();
        }
        if let Some(cluster) = self.cluster.get() {
            cluster.stop();
        }
        if let Some((_, server)) = self.admin_server.get() {
            server.stop();
        }
        // these two wait: for the watcher's thread, for the events to go out
        let watcher = self.watcher.get_mut().take();
        let pipeline = self.pipeline.take();
        if watcher.is_none() && pipeline.is_none() {
            return;
        }
        let flush = move || {
            if let Some(mut watcher) = watcher {
                watcher.stop();
            }
            if let Some(pipeline) = pipeline {
                pipeline.shutdown(DROP_FLUSH_DEADLINE);
            }
        };
        if tokio::runtime::Handle::try_current().is_err() {
            flush();
        } else if let Err(e) = std::thread::Builder::new()
            .name("sqreen-drop".to_owned())
            .spawn(flush)
        {
            // the closure went with the failed spawn: the watcher stopped as it dropped, and the
            // pipeline's threads see their queue closed, drain it and end by themselves
            tracing::warn!(target: "sqreen", error = %e, "cannot start a thread to flush the events of a dropped agent");
        }
    }
}

/// The result of `f` run on a thread of its own, as a future: polling never blocks. A panic
/// in `f` is resumed in the task that awaits it, as if `f` had run there.
struct Handoff<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

struct Slot<T> {
    result: Option<std::thread::Result<T>>,
    waker: Option<Waker>,
}

impl<T: Send + 'static> Handoff<T> {
    fn spawn(name: &str, f: impl FnOnce() -> T + Send + 'static) -> Self {
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            waker: None,
        }));
        let filled = slot.clone();
        let run = move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let waker = {
                let mut slot = filled.lock();
                slot.result = Some(result);
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        };
        // `run` is only lost if the thread cannot start; it then runs here (and blocks)
        let run = Arc::new(Mutex::new(Some(run)));
        let on_thread = run.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if let Some(run) = on_thread.lock().take() {
                    run();
                }
            });
        if spawned.is_err() {
            if let Some(run) = run.lock().take() {
                run();
            }
        }
        Handoff { slot }
    }
}

impl<T> Future for Handoff<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.lock();
        match slot.result.take() {
            Some(Ok(value)) => Poll::Ready(value),
            Some(Err(panic)) => {
                drop(slot);
                std::panic::resume_unwind(panic)
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls a future to completion on this thread without any runtime.
    fn block_on<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn a_handoff_runs_elsewhere_and_wakes_its_task() {
        let here = std::thread::current().id();
        let there = block_on(Handoff::spawn("test-handoff", move || {
            std::thread::sleep(Duration::from_millis(20));
            std::thread::current().id()
        }));
        assert_ne!(here, there);
    }

    #[test]
    fn a_panic_in_a_handoff_reaches_the_awaiting_task() {
        let caught = std::panic::catch_unwind(|| {
            block_on(Handoff::spawn("test-handoff", || -> usize {
                panic!("boom")
            }))
        });
        assert!(caught.is_err());
    }
}
