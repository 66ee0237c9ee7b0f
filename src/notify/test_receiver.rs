//! A tiny HTTP/1.1 receiver on 127.0.0.1 for the delivery tests: it records each request's
//! headers and body and answers from a script (a status, a status with `Retry-After`, or
//! silence), then 200 once the script runs out. Tests only; never part of the build proper, and
//! never bound to anything but the loopback address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::RetryPolicy;

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reply {
    /// This status, with a short body.
    Status(u16),
    /// This status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Reads the request and never answers (the connection is held open).
    Silent,
}

/// One request as received.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    /// Header names lowercased, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// The receiver; stops its thread when dropped.
pub(crate) struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub(crate) fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, done) = (received.clone(), done.clone());
            std::thread::spawn(move || serve(listener, script, received, done))
        };
        Receiver {
            addr,
            received,
            done,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hooks/sqreen?token=s3cret", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // Wake the accept call.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Small waits, so the whole module runs in a few seconds.
pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
    }
}

/// A local port that nobody listens on (bound, then released).
pub(crate) fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}/hook")
}

fn serve(
    listener: TcpListener,
    script: Vec<Reply>,
    received: Arc<Mutex<Vec<Received>>>,
    done: Arc<AtomicBool>,
) {
    let mut script = script.into_iter();
    let mut held = Vec::new();
    for stream in listener.incoming() {
        if done.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let Some(request) = read_request(&stream) else {
            continue;
        };
        received.lock().unwrap().push(request);
        let reply = script.next().unwrap_or(Reply::Status(200));
        let (status, retry_after) = match reply {
            Reply::Status(s) => (s, None),
            Reply::RetryAfter(s, secs) => (s, Some(secs)),
            Reply::Silent => {
                held.push(stream);
                continue;
            }
        };
        let extra = retry_after
            .map(|s| format!("Retry-After: {s}\r\n"))
            .unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 {status} Scripted\r\n{extra}Content-Length: 2\r\nConnection: close\r\n\r\nok"
        );
        let mut stream = stream;
        let _ = stream.write_all(answer.as_bytes());
        let _ = stream.flush();
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if line.is_empty() {
        return None; // the wake-up connection, or a client that gave up
    }
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { headers, body })
}
