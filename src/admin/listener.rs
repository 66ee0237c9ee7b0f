//! The agent's own admin listener (`SQREEN_ADMIN_ADDR=ip:port`): HTTP/1.1 on a thread of its own,
//! `sqreen-admin`, with a current-thread tokio runtime and hyper, so the admin API can sit on an
//! internal address while the application's listener passes the admin path to the application.
//!
//! The address is bound when the agent is built (a taken port is a start-up error), then served
//! until [`AdminServer::stop`] or the agent's drop. The thread holds only a weak reference to the
//! agent. Anyone who can reach the address can open connections, so they are bounded: at most
//! [`MAX_CONNECTIONS`] at once (more are closed as they come), and a request's head must arrive
//! within [`HEADER_TIMEOUT`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};

use super::service::AdminService;
use crate::agent::{AgentInner, Background};

/// Connections served at once; more are closed when accepted.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's head.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The running listener.
pub(crate) struct AdminServer {
    addr: SocketAddr,
    stop: Arc<Notify>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl AdminServer {
    /// Binds `addr` now and serves it on the `sqreen-admin` thread.
    pub(crate) fn start(
        addr: SocketAddr,
        admin: super::AdminApi,
        agent: Weak<AgentInner>,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqreen-admin".to_owned())
            .spawn(move || {
                runtime.block_on(serve(listener, AdminService::weak(agent, admin), stopped));
            })?;
        tracing::info!(target: "sqreen", %addr, "admin API listening");
        Ok(AdminServer {
            addr,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The address it listens on (the port chosen when asked for port 0).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Background for AdminServer {
    /// Stops accepting and closes the connections; does not wait.
    fn stop(&self) {
        self.stop.notify_one();
    }

    /// Stops and waits for the thread, so the address is free when this returns.
    fn stop_and_wait(&self) {
        self.stop();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: std::net::TcpListener, service: AdminService, stop: Arc<Notify>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(target: "sqreen", error = %e, "admin API: cannot listen");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stopped = std::pin::pin!(stop.notified());
    loop {
        let accepted = std::future::poll_fn(|cx| {
            if stopped.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        let stream = match accepted {
            None => return, // the runtime's drop ends the connections' tasks
            Some(Ok((stream, _peer))) => stream,
            Some(Err(e)) => {
                // out of descriptors and the like: wait a little rather than spin
                tracing::warn!(target: "sqreen", error = %e, "admin API: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let service = service.clone();
                async move {
                    let response = service.answer(req).await;
                    Ok::<_, Infallible>(response.map(http_body_util::Full::new))
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), handler)
                .await;
            drop(slot);
        });
    }
}
