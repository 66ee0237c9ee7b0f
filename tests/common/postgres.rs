//! A real PostgreSQL server on a free loopback port, in a temporary data directory, started for
//! one test and stopped (and removed) when dropped. Debian's `postgresql` package provides it
//! (`bash .ci/run` installs it); PostgreSQL refuses to run as root, so as root the server runs
//! as the package's `postgres` user (`setpriv`). Without the binaries, [`Postgres::start`] prints
//! one line and returns `None` (the test skips), or panics under `CI=true`.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    child: Option<Child>,
    dir: PathBuf,
    pub port: u16,
}

/// The directory of `initdb` and `postgres` (the newest installed major version).
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program args...`, as the `postgres` user when this process is root.
fn command(program: &Path, args: &[&str]) -> Command {
    if as_root() {
        // setpriv executes the program in its place (no child to leave behind on kill)
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--reset-env",
        ])
        .arg(program)
        .args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

impl Postgres {
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            if std::env::var_os("CI").is_some_and(|v| v == "true") {
                panic!("PostgreSQL is not installed under CI (/usr/lib/postgresql/*/bin)");
            }
            println!(
                "postgres tests skipped: no PostgreSQL in /usr/lib/postgresql; install Debian's \
                 postgresql (bash .ci/run does)"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("sqreen-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        if as_root() {
            let owned = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let data = dir.to_str().unwrap().to_owned();
        let init = command(
            &bin.join("initdb"),
            &[
                "-D",
                &data,
                "-U",
                "sqreen",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
        assert!(init.success(), "initdb failed in {data}");
        let child = command(
            &bin.join("postgres"),
            &[
                "-D",
                &data,
                "-p",
                &port.to_string(),
                "-k",
                &data,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let server = Postgres {
            child: Some(child),
            dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // accepting connections does not mean ready: the caller retries its connect
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("postgres on port {port} did not listen within 20 s");
    }

    /// The connection string (user `sqreen`, database `postgres`, no password).
    pub fn config(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=sqreen dbname=postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
