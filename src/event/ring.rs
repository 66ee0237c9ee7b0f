//! [`EventRing`]: the most recent events, kept in memory for the admin API's `events` call and
//! the Events Explorer.
//!
//! It is a sink of the pipeline like the JSON-lines file: the dispatcher thread pushes every event
//! it takes from the queue, so the request path pays nothing for it (the event was queued anyway)
//! and the ring sees exactly what the other sinks see, redacted. Each event is kept **serialized**
//! (the redacted JSON the file would get), beside the few fields a query filters on (name, time,
//! IP, user), so a query copies no event and a held event pins no request memory (bodies,
//! headers). The ring is bounded twice, by count and by bytes; the oldest events go first. Its
//! lock is taken by the dispatcher thread and by admin requests only, never by the request path.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use super::Event;
use crate::clock::Millis;
use crate::context::keys::UserKeys;

/// Events the admin API holds by default.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes of serialized events the admin API holds at most by default (32 MiB).
pub(crate) const DEFAULT_MAX_BYTES: usize = 32 << 20;

/// One event as the ring holds it.
#[derive(Debug)]
pub(crate) struct RingEntry {
    /// The event's name.
    pub(crate) name: String,
    /// When it happened.
    pub(crate) at: Millis,
    /// The client IP.
    pub(crate) ip: Option<IpAddr>,
    /// True when the client IP is critical for the agent.
    pub(crate) critical: bool,
    /// The user, as playbooks count it (the canonical id), if any.
    pub(crate) user: Option<String>,
    /// The values of the user's keys (an `actor` query matches the id or any of them).
    pub(crate) user_values: Vec<String>,
    /// The whole event, serialized (redacted).
    pub(crate) json: Box<str>,
}

impl RingEntry {
    fn of(event: &Event) -> Option<RingEntry> {
        let json = serde_json::to_string(event).ok()?.into_boxed_str();
        let (user, user_values) = match &event.user {
            Some(map) => {
                let keys = map.iter().fold(UserKeys::new(), |keys, (k, v)| match v {
                    Value::String(s) => keys.with(k.as_str(), s.as_str()),
                    _ => keys,
                });
                let values = keys.iter().map(|(_, v)| v.to_owned()).collect();
                ((!keys.is_empty()).then(|| keys.id()), values)
            }
            None => (None, Vec::new()),
        };
        Some(RingEntry {
            name: event.name.clone(),
            at: event.timestamp,
            ip: event.client_ip,
            critical: event.ip_meta.as_ref().is_some_and(|m| m.critical),
            user,
            user_values,
            json,
        })
    }

    fn size(&self) -> usize {
        self.json.len()
            + self.name.len()
            + self.user.as_ref().map_or(0, String::len)
            + self.user_values.iter().map(String::len).sum::<usize>()
            + std::mem::size_of::<RingEntry>()
    }
}

#[derive(Default)]
struct Held {
    entries: VecDeque<Arc<RingEntry>>,
    bytes: usize,
}

/// The most recent events, newest last, bounded by count and bytes.
pub(crate) struct EventRing {
    held: Mutex<Held>,
    capacity: usize,
    max_bytes: usize,
    recorded: AtomicU64,
}

impl std::fmt::Debug for EventRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRing")
            .field("capacity", &self.capacity)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl EventRing {
    /// A ring of at most `capacity` events (at least 1) and `max_bytes` bytes of them.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        EventRing {
            held: Mutex::new(Held::default()),
            capacity: capacity.max(1),
            max_bytes,
            recorded: AtomicU64::new(0),
        }
    }

    /// Keeps `event`, dropping the oldest ones beyond the bounds. Called by the pipeline's thread.
    pub(crate) fn push(&self, event: &Event) {
        let Some(entry) = RingEntry::of(event) else {
            return;
        };
        self.recorded.fetch_add(1, Ordering::Relaxed);
        let size = entry.size();
        let mut held = self.held.lock();
        held.bytes += size;
        held.entries.push_back(Arc::new(entry));
        while held.entries.len() > self.capacity
            || (held.bytes > self.max_bytes && held.entries.len() > 1)
        {
            if let Some(old) = held.entries.pop_front() {
                held.bytes -= old.size();
            }
        }
    }

    /// The events for which `keep` holds, newest first, at most `limit`.
    pub(crate) fn newest(
        &self,
        limit: usize,
        mut keep: impl FnMut(&RingEntry) -> bool,
    ) -> Vec<Arc<RingEntry>> {
        let held = self.held.lock();
        held.entries
            .iter()
            .rev()
            .filter(|e| keep(e))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Events held now.
    pub(crate) fn len(&self) -> usize {
        self.held.lock().entries.len()
    }

    /// The most events held at once.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events pushed since the start (held or since dropped).
    pub(crate) fn recorded(&self) -> u64 {
        self.recorded.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn event(name: &str, at: Millis, user: Option<Value>) -> Event {
        Event {
            name: name.to_owned(),
            timestamp: at,
            request: None,
            properties: Map::new(),
            client_ip: Some("203.0.113.7".parse().unwrap()),
            user: user.and_then(|u| u.as_object().cloned()),
            ip_meta: None,
            trace_id: None,
        }
    }

    #[test]
    fn keeps_the_newest_within_count() {
        let ring = EventRing::new(3, usize::MAX);
        for i in 0..5 {
            ring.push(&event(&format!("e{i}"), i, None));
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.recorded(), 5);
        let names: Vec<_> = ring
            .newest(10, |_| true)
            .iter()
            .map(|e| e.name.clone())
            .collect();
        assert_eq!(names, ["e4", "e3", "e2"]);
        assert_eq!(ring.newest(1, |e| e.at < 4)[0].name, "e3");
    }

    #[test]
    fn keeps_within_bytes_and_at_least_one() {
        let ring = EventRing::new(1000, 1);
        ring.push(&event("a", 1, None));
        ring.push(&event("b", 2, None));
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.newest(10, |_| true)[0].name, "b");
        let ring = EventRing::new(1000, 2_000);
        for i in 0..100 {
            ring.push(&event("x", i, None));
        }
        let held = ring.held.lock();
        assert!(
            held.bytes <= 2_000 && held.entries.len() < 100,
            "{}",
            held.bytes
        );
        assert_eq!(
            held.bytes,
            held.entries.iter().map(|e| e.size()).sum::<usize>()
        );
    }

    #[test]
    fn users_get_their_canonical_id() {
        let ring = EventRing::new(10, usize::MAX);
        ring.push(&event("a", 1, Some(json!({"email": "alice@example.com"}))));
        ring.push(&event("b", 2, Some(json!({"org": "acme", "id": "42"}))));
        let held = ring.newest(10, |_| true);
        assert_eq!(held[1].user.as_deref(), Some("alice@example.com"));
        assert_eq!(held[0].user.as_deref(), Some("id=42&org=acme"));
        assert_eq!(held[0].user_values, ["42", "acme"]);
        let json: Value = serde_json::from_str(&held[0].json).unwrap();
        assert_eq!(json["name"], "b");
    }
}
