//! [`Stats`]: counters of what the agent did, for logs, health checks and metrics.
//!
//! Counters are relaxed atomics bumped only when something happens (a block, a reload), never on
//! every request, so they add no shared-cache-line traffic to the common path.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the agent's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Requests answered 403 because of the IP (deny list or action).
    pub blocked_ip: u64,
    /// Requests answered 403 because of the user (deny list or action).
    pub blocked_user: u64,
    /// Requests redirected by an action.
    pub redirected: u64,
    /// Requests whose client IP was on the pass list.
    pub passlisted: u64,
    /// Internal failures (the request was let through, or answered 503 when failing closed).
    pub internal_failures: u64,
    /// Rules documents loaded (the first one included).
    pub rules_loaded: u64,
    /// Rules documents rejected as invalid (the previous rules stayed).
    pub rules_rejected: u64,
    /// Playbook firings.
    pub playbooks_fired: u64,
    /// Counter windows held now: one per actor and group of playbooks (the playbooks counting
    /// the same event pattern by the same actor kind over the same period share a window).
    pub windows: u64,
    /// Counter windows evicted to stay within `SQREEN_MAX_ACTORS` (which a window counts
    /// against once per playbook of its group).
    pub actors_evicted: u64,
    /// Runtime actions evicted to stay within `SQREEN_MAX_ACTIONS` (the store was full of
    /// unexpired actions; the oldest went).
    pub actions_evicted: u64,
    /// Playbook notifications dropped because the notifier's queue was full (the notifier is
    /// slower than the playbooks fire).
    pub notifications_dropped: u64,
    /// Admin API requests refused (401) for a missing or wrong token.
    pub admin_unauthorized: u64,
    /// The in-app WAF's counters.
    pub waf: WafStats,
    /// The rules URL's counters (all zero without `SQREEN_RULES_URL`).
    pub rules_remote: RemoteRulesStats,
    /// The event pipeline's counters (all zero when no file, webhook or Slack is configured).
    pub events: crate::event::PipelineStats,
    /// Cluster mode's state and counters (state `off` without `SQREEN_REDIS_URL`).
    pub cluster: crate::cluster::ClusterStats,
    /// What the RASP checks found.
    pub rasp: RaspStats,
    /// The IP lists' sizes and reloads (all zero without `SQREEN_TOR_EXIT_LIST` and
    /// `SQREEN_DATACENTER_RANGES`).
    pub ip_lists: crate::intel::IpListStats,
}

/// What the RASP checks at the sinks found (`sqreen::rasp`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RaspStats {
    /// SQL injections found at a query.
    pub sqli: u64,
    /// Path traversals found at a file path.
    pub lfi: u64,
    /// Server-side request forgeries found at an outbound URL.
    pub ssrf: u64,
    /// Command injections found at a shell command.
    pub shi: u64,
    /// Of those, the ones blocked (block mode).
    pub blocked: u64,
}

/// What the in-app WAF did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WafStats {
    /// Matches of SQL injection rules (requests; at most one per category per request).
    pub sqli: u64,
    /// Matches of XSS rules.
    pub xss: u64,
    /// Matches of path traversal and file inclusion rules.
    pub lfi: u64,
    /// Matches of command injection rules.
    pub rce: u64,
    /// Matches of SSRF rules.
    pub ssrf: u64,
    /// Matches of code injection rules.
    pub code_injection: u64,
    /// Known scanners (user agent, or probe path answered 404).
    pub scanner: u64,
    /// Requests answered 403 by the WAF in block mode.
    pub blocked: u64,
    /// Requests whose inspection stopped because the time budget was spent (they went through).
    pub budget_overruns: u64,
    /// Request bodies longer than `SQREEN_MAX_BODY_BYTES` (only their first bytes inspected,
    /// or refused with `waf.on_body_over_limit: "refuse"`).
    pub bodies_over_limit: u64,
}

/// What the rules URL poller did (`SQREEN_RULES_URL`). Every poll counts in `polls` and in
/// exactly one of `updates`, `not_modified`, `failures`, `invalid`, `bad_signature` and
/// `stale`; only
/// `updates` changes the rules in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RemoteRulesStats {
    /// Requests made to the rules URL.
    pub polls: u64,
    /// New documents put in force.
    pub updates: u64,
    /// Answers that left the rules as they were: `304 Not Modified`, or the same document again.
    pub not_modified: u64,
    /// Polls that got no document: connection errors, timeouts, and statuses other than 200
    /// and 304 (these are retried with backoff).
    pub failures: u64,
    /// Documents refused as invalid (they do not parse, or break a rule of the format).
    pub invalid: u64,
    /// Documents refused because `SQREEN_RULES_SECRET` is set and their signature header is
    /// missing or wrong.
    pub bad_signature: u64,
    /// Documents refused as a replay: issued before the rules in force (or, with
    /// `SQREEN_RULES_SECRET`, stating no `issued_at`).
    pub stale: u64,
    /// Disk cache failures: the last good document could not be written to
    /// `SQREEN_RULES_CACHE_PATH`, or the cached copy was refused at start-up.
    pub cache_errors: u64,
}

/// The atomics behind [`RemoteRulesStats`], bumped by the poller's thread only.
#[derive(Debug, Default)]
pub(crate) struct RemoteCounters {
    pub(crate) polls: AtomicU64,
    pub(crate) updates: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) invalid: AtomicU64,
    pub(crate) bad_signature: AtomicU64,
    pub(crate) stale: AtomicU64,
    pub(crate) cache_errors: AtomicU64,
}

impl RemoteCounters {
    fn snapshot(&self) -> RemoteRulesStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RemoteRulesStats {
            polls: get(&self.polls),
            updates: get(&self.updates),
            not_modified: get(&self.not_modified),
            failures: get(&self.failures),
            invalid: get(&self.invalid),
            bad_signature: get(&self.bad_signature),
            stale: get(&self.stale),
            cache_errors: get(&self.cache_errors),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// WAF matches by [`crate::waf::AttackCategory`] (in declaration order).
    pub(crate) waf_hits: [AtomicU64; 7],
    pub(crate) waf_blocked: AtomicU64,
    pub(crate) waf_overruns: AtomicU64,
    pub(crate) waf_bodies_over_limit: AtomicU64,
    pub(crate) blocked_ip: AtomicU64,
    pub(crate) blocked_user: AtomicU64,
    pub(crate) redirected: AtomicU64,
    pub(crate) passlisted: AtomicU64,
    pub(crate) rules_loaded: AtomicU64,
    pub(crate) rules_rejected: AtomicU64,
    pub(crate) playbooks_fired: AtomicU64,
    pub(crate) rules_remote: RemoteCounters,
    /// RASP findings by sink (`Sink` order: SQL, file, URL, shell), and blocks.
    pub(crate) rasp_hits: [AtomicU64; 4],
    pub(crate) rasp_blocked: AtomicU64,
    /// Admin API calls refused for a missing or wrong token.
    pub(crate) admin_unauthorized: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a RASP finding.
    pub(crate) fn count_rasp(&self, sink: crate::rasp::Sink, blocked: bool) {
        use crate::rasp::Sink;
        let i = match sink {
            Sink::Sql => 0,
            Sink::File => 1,
            Sink::Url => 2,
            Sink::Shell => 3,
        };
        Counters::bump(&self.rasp_hits[i]);
        if blocked {
            Counters::bump(&self.rasp_blocked);
        }
    }

    pub(crate) fn snapshot(
        &self,
        internal_failures: u64,
        windows: u64,
        actors_evicted: u64,
    ) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            blocked_ip: get(&self.blocked_ip),
            blocked_user: get(&self.blocked_user),
            redirected: get(&self.redirected),
            passlisted: get(&self.passlisted),
            internal_failures,
            rules_loaded: get(&self.rules_loaded),
            rules_rejected: get(&self.rules_rejected),
            playbooks_fired: get(&self.playbooks_fired),
            windows,
            actors_evicted,
            actions_evicted: 0,
            notifications_dropped: 0,
            admin_unauthorized: 0,
            waf: WafStats {
                sqli: get(&self.waf_hits[0]),
                xss: get(&self.waf_hits[1]),
                lfi: get(&self.waf_hits[2]),
                rce: get(&self.waf_hits[3]),
                ssrf: get(&self.waf_hits[4]),
                scanner: get(&self.waf_hits[5]),
                code_injection: get(&self.waf_hits[6]),
                blocked: get(&self.waf_blocked),
                budget_overruns: get(&self.waf_overruns),
                bodies_over_limit: get(&self.waf_bodies_over_limit),
            },
            rules_remote: self.rules_remote.snapshot(),
            events: Default::default(),
            cluster: Default::default(),
            rasp: RaspStats {
                sqli: get(&self.rasp_hits[0]),
                lfi: get(&self.rasp_hits[1]),
                ssrf: get(&self.rasp_hits[2]),
                shi: get(&self.rasp_hits[3]),
                blocked: get(&self.rasp_blocked),
            },
            ip_lists: Default::default(),
        }
    }
}
