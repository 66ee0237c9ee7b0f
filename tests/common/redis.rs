//! A real `redis-server` on a free loopback port, started for one test and stopped when
//! dropped (`--save "" --appendonly no`: nothing written to disk). Without `redis-server` on
//! the PATH, [`RedisServer::start`] prints one line and returns `None` (the test skips), or
//! panics under `CI=true` (`bash .ci/run` installs Debian's package).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// A server on a free port, answering `PING` before this returns.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_on(free_port())
    }

    /// A server on `port` (to restart one where the agents expect it).
    pub fn start_on(port: u16) -> Option<RedisServer> {
        let spawned = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("CI").is_some_and(|v| v == "true") => {
                panic!("redis-server could not be started under CI: {e}")
            }
            Err(e) => {
                println!(
                    "cluster tests skipped: redis-server could not be started ({e}); \
                     install Debian's redis-server (bash .ci/run does)"
                );
                return None;
            }
        };
        let server = RedisServer {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server.command("PING").as_deref() == Some("+PONG\r\n") {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {port} did not answer PING within 10 s");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one inline command and returns the first reply's bytes as text (enough for
    /// `PING`, `DBSIZE`, `KEYS`).
    pub fn command(&self, line: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{line}\r\n").as_bytes()).ok()?;
        let mut buf = vec![0u8; 64 * 1024];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Kills the server at once (as a crash would) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server that accepts connections and never answers (a hung Redis, or a wrong port that
/// happens to hold another service). Stops when dropped (its thread ends with the test).
pub struct SilentServer {
    pub port: u16,
    _listener: std::sync::Arc<TcpListener>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let port = listener.local_addr().unwrap().port();
        let accept = listener.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in accept.incoming() {
                match stream {
                    Ok(s) => held.push(s), // read nothing, answer nothing
                    Err(_) => return,
                }
            }
        });
        SilentServer {
            port,
            _listener: listener,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}
