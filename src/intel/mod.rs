//! IP intelligence from local files: what an event's client address is besides its class
//! (`ip_meta.is_tor` from `SQREEN_TOR_EXIT_LIST`, `ip_meta.datacenter` and `provider` from
//! `SQREEN_DATACENTER_RANGES`, `ip_meta.geo` and `asn` from the MaxMind DB `SQREEN_GEOIP_DB`),
//! read at start-up and reloaded when a file changes; never fetched by the agent.
//!
//! This module owns the lists in force (each behind an `ArcSwap`: a lookup is one atomic load
//! and a hash probe, never a lock, never I/O), their loading (a bad file at start-up is an error
//! naming the variable; a bad file on reload is logged and counted, and the previous list stays),
//! and the `sqreen-ip-lists` thread that watches the files (modification time and length, as the
//! rules file watcher does). It knows nothing of requests or events: the agent asks `lookup`
//! when it builds an event, and a field is absent when its file is not configured.

mod geo;
mod lists;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ip::IpSet;
use crate::rules::FileStamp;

pub use geo::{Geo, GeoDb, GeoFacts};
pub use lists::{
    parse_datacenter_ranges, parse_tor_exit_list, DatacenterRanges, MAX_LIST_BYTES,
    MAX_PROVIDER_CHARS,
};

/// What the lists in force say of one address; `None` where no list is configured.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct IntelFacts {
    /// In the Tor exit list.
    pub(crate) is_tor: Option<bool>,
    /// In the datacenter ranges.
    pub(crate) datacenter: Option<bool>,
    /// The provider the datacenter ranges name for it, if any.
    pub(crate) provider: Option<Arc<str>>,
    /// Where it is, from the MaxMind DB.
    pub(crate) geo: Option<Geo>,
    /// Its AS number, from the MaxMind DB.
    pub(crate) asn: Option<u32>,
}

/// A list read from a file, the file's last seen version, and its reload counts.
struct Watched<T> {
    /// The variable naming the file, for errors and logs.
    variable: &'static str,
    path: PathBuf,
    parse: fn(Vec<u8>) -> std::result::Result<T, String>,
    current: ArcSwap<T>,
    stamp: Mutex<Option<FileStamp>>,
    reloads: AtomicU64,
    rejected: AtomicU64,
}

impl<T> Watched<T> {
    /// Reads and parses the file; the error names the variable and the file.
    fn load(
        variable: &'static str,
        path: &Path,
        parse: fn(Vec<u8>) -> std::result::Result<T, String>,
    ) -> Result<Watched<T>> {
        let stamp = FileStamp::of(path);
        let list = read(path, parse)
            .map_err(|reason| Error::config(variable, path.display().to_string(), reason))?;
        Ok(Watched {
            variable,
            path: path.to_owned(),
            parse,
            current: ArcSwap::from_pointee(list),
            stamp: Mutex::new(stamp),
            reloads: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        })
    }

    /// Reloads the file if it changed since last seen; a bad file keeps the list in force.
    fn reload_if_changed(&self) {
        let stamp = FileStamp::of(&self.path);
        {
            let mut last = self.stamp.lock();
            if *last == stamp {
                return;
            }
            *last = stamp;
        }
        match read(&self.path, self.parse) {
            Ok(list) => {
                self.current.store(Arc::new(list));
                self.reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    target: "sqreen",
                    variable = self.variable, path = %self.path.display(),
                    "IP list reloaded",
                );
            }
            Err(reason) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "sqreen",
                    variable = self.variable, path = %self.path.display(), %reason,
                    "IP list rejected; the previous one stays in force",
                );
            }
        }
    }
}

fn read<T>(
    path: &Path,
    parse: fn(Vec<u8>) -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    parse(bytes)
}

/// The largest file read (256 MiB: a GeoLite2 City database is about 60 MiB); lists are
/// further held to [`MAX_LIST_BYTES`].
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A text list's bytes as UTF-8, at most [`MAX_LIST_BYTES`], parsed by `parse`.
fn text<T>(
    bytes: Vec<u8>,
    parse: fn(&str) -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    if bytes.len() as u64 > MAX_LIST_BYTES {
        return Err(format!("larger than {MAX_LIST_BYTES} bytes"));
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    parse(&text)
}

fn tor_list(bytes: Vec<u8>) -> std::result::Result<IpSet, String> {
    text(bytes, parse_tor_exit_list)
}

fn datacenter_list(bytes: Vec<u8>) -> std::result::Result<DatacenterRanges, String> {
    text(bytes, parse_datacenter_ranges)
}

struct Lists {
    tor: Option<Watched<IpSet>>,
    datacenters: Option<Watched<DatacenterRanges>>,
    geo: Option<Watched<GeoDb>>,
}

impl Lists {
    fn reload_changed(&self) {
        if let Some(tor) = &self.tor {
            tor.reload_if_changed();
        }
        if let Some(datacenters) = &self.datacenters {
            datacenters.reload_if_changed();
        }
        if let Some(geo) = &self.geo {
            geo.reload_if_changed();
        }
    }
}

/// The IP lists in force and the thread that reloads them.
pub(crate) struct IpIntel {
    lists: Arc<Lists>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IpIntel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpIntel")
            .field(
                "tor",
                &self.lists.tor.as_ref().map(|t| t.current.load().len()),
            )
            .field(
                "datacenters",
                &self
                    .lists
                    .datacenters
                    .as_ref()
                    .map(|d| d.current.load().len()),
            )
            .finish_non_exhaustive()
    }
}

/// Counts of the list reloads, for stats.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct IpListStats {
    /// Addresses in the Tor exit list in force (0 without `SQREEN_TOR_EXIT_LIST`).
    pub tor_exits: u64,
    /// Networks in the datacenter ranges in force (0 without `SQREEN_DATACENTER_RANGES`).
    pub datacenter_ranges: u64,
    /// Search tree nodes of the MaxMind DB in force (0 without `SQREEN_GEOIP_DB`).
    pub geoip_nodes: u64,
    /// Times a changed list file was read and put in force.
    pub reloads: u64,
    /// Times a changed list file was rejected (the previous list stayed).
    pub rejected: u64,
}

impl IpIntel {
    /// Loads the files `config` names and starts watching them every `poll`; `None` when it
    /// names none. A file that cannot be read or parsed is an error naming its variable.
    pub(crate) fn start(config: &Config, poll: Duration) -> Result<Option<IpIntel>> {
        let tor = match &config.tor_exit_list {
            Some(path) => Some(Watched::load("SQREEN_TOR_EXIT_LIST", path, tor_list)?),
            None => None,
        };
        let datacenters = match &config.datacenter_ranges {
            Some(path) => Some(Watched::load(
                "SQREEN_DATACENTER_RANGES",
                path,
                datacenter_list,
            )?),
            None => None,
        };
        let geo = match &config.geoip_db {
            Some(path) => Some(Watched::load("SQREEN_GEOIP_DB", path, GeoDb::from_bytes)?),
            None => None,
        };
        if tor.is_none() && datacenters.is_none() && geo.is_none() {
            return Ok(None);
        }
        let lists = Arc::new(Lists {
            tor,
            datacenters,
            geo,
        });
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (watched, flag) = (Arc::downgrade(&lists), stop.clone());
        let thread = std::thread::Builder::new()
            .name("sqreen-ip-lists".to_owned())
            .spawn(move || loop {
                {
                    let (lock, cvar) = &*flag;
                    let mut stopped = lock.lock();
                    if !*stopped {
                        cvar.wait_for(&mut stopped, poll);
                    }
                    if *stopped {
                        return;
                    }
                }
                let Some(lists) = watched.upgrade() else {
                    return;
                };
                lists.reload_changed();
            })
            .map_err(|e| Error::io("the sqreen-ip-lists thread", e))?;
        Ok(Some(IpIntel {
            lists,
            stop,
            thread: Some(thread),
        }))
    }

    /// What the lists in force say of `ip`: lock-free, no I/O, no allocation (a provider's
    /// name is shared, not copied).
    pub(crate) fn lookup(&self, ip: IpAddr) -> IntelFacts {
        let mut facts = IntelFacts {
            is_tor: self
                .lists
                .tor
                .as_ref()
                .map(|tor| tor.current.load().contains(ip)),
            ..IntelFacts::default()
        };
        if let Some(datacenters) = &self.lists.datacenters {
            let ranges = datacenters.current.load();
            let found = ranges.longest_match(ip);
            facts.datacenter = Some(found.is_some());
            facts.provider = found.and_then(|(_, provider)| provider.clone());
        }
        if let Some(geo) = &self.lists.geo {
            let found = geo.current.load().lookup(ip);
            facts.geo = found.geo;
            facts.asn = found.asn;
        }
        facts
    }

    /// The lists' sizes and reload counts.
    pub(crate) fn stats(&self) -> IpListStats {
        let mut stats = IpListStats::default();
        if let Some(tor) = &self.lists.tor {
            stats.tor_exits = tor.current.load().len() as u64;
            stats.reloads += tor.reloads.load(Ordering::Relaxed);
            stats.rejected += tor.rejected.load(Ordering::Relaxed);
        }
        if let Some(datacenters) = &self.lists.datacenters {
            stats.datacenter_ranges = datacenters.current.load().len() as u64;
            stats.reloads += datacenters.reloads.load(Ordering::Relaxed);
            stats.rejected += datacenters.rejected.load(Ordering::Relaxed);
        }
        if let Some(geo) = &self.lists.geo {
            stats.geoip_nodes = geo.current.load().nodes();
            stats.reloads += geo.reloads.load(Ordering::Relaxed);
            stats.rejected += geo.rejected.load(Ordering::Relaxed);
        }
        stats
    }
}

impl Drop for IpIntel {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock() = true;
        cvar.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
