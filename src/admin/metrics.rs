//! `GET metrics`: `agent.stats()` in the Prometheus text exposition format, version 0.0.4.
//!
//! Each family has its `# HELP` and `# TYPE` lines, then its samples; counters are named
//! `sqreen_..._total`; what comes in kinds (WAF categories, block reasons, delivery statuses) is a
//! label, not a name, so dashboards can sum over it. Label values are escaped as the format says
//! (`\\`, `\"`, `\n`). Written by hand: the format is a few lines of text and a client library
//! would bring a registry the agent does not need.

use std::fmt::Write;

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::agent::Agent;
use crate::event::ring::EventRing;

/// The content type of the exposition format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metric families, written in order.
#[derive(Default)]
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) -> &mut Self {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        self
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) -> &mut Self {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }

    /// A family with one unlabelled sample.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: u64) -> &mut Self {
        self.family(name, kind, help).sample(name, &[], value)
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition of `agent`'s counters.
pub(crate) fn render(agent: &Agent, ring: &EventRing) -> Response<Bytes> {
    let stats = agent.stats();
    let inner = &agent.inner;
    let rules = inner.rules.load();
    let now = inner.now();
    let ev = &stats.events;
    let waf = &stats.waf;
    let mut x = Exposition::default();

    x.family(
        "sqreen_info",
        "gauge",
        "Always 1; the labels say which agent and rules are running.",
    )
    .sample(
        "sqreen_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("rules_version", rules.version.as_deref().unwrap_or("")),
            ("waf_mode", agent.waf_mode().as_str()),
        ],
        1,
    );
    x.single(
        "sqreen_uptime_seconds",
        "gauge",
        "Seconds since the agent started.",
        now.saturating_sub(agent.inner.started) / 1000,
    );

    // events
    x.single(
        "sqreen_events_recorded_total",
        "counter",
        "Security events recorded (taken by the background pipeline).",
        ring.recorded(),
    );
    x.single(
        "sqreen_events_held",
        "gauge",
        "Recent events held in memory for the admin API.",
        ring.len() as u64,
    );
    x.single(
        "sqreen_events_queued_total",
        "counter",
        "Events and notifications accepted into the background queue.",
        ev.queued,
    );
    x.single(
        "sqreen_event_queue_depth",
        "gauge",
        "Events and notifications waiting in the background queue.",
        ev.queue_depth,
    );
    x.family(
        "sqreen_events_dropped_total",
        "counter",
        "Items dropped because a queue was full: queue=\"events\" before the background thread, queue=\"delivery\" before the webhook, Slack and email.",
    )
    .sample("sqreen_events_dropped_total", &[("queue", "events")], ev.dropped)
    .sample(
        "sqreen_events_dropped_total",
        &[("queue", "delivery")],
        ev.delivery_dropped,
    );
    x.single(
        "sqreen_events_written_total",
        "counter",
        "Events written to the JSON-lines file.",
        ev.written,
    );
    x.single(
        "sqreen_events_file_errors_total",
        "counter",
        "Errors writing the JSON-lines file.",
        ev.file_errors,
    );

    // deliveries
    x.family(
        "sqreen_deliveries_total",
        "counter",
        "Messages delivered, by sink.",
    )
    .sample(
        "sqreen_deliveries_total",
        &[("sink", "webhook")],
        ev.webhook_sent,
    )
    .sample(
        "sqreen_deliveries_total",
        &[("sink", "slack")],
        ev.slack_sent,
    )
    .sample(
        "sqreen_deliveries_total",
        &[("sink", "email")],
        ev.email_sent,
    );
    x.family(
        "sqreen_delivery_failures_total",
        "counter",
        "Failed webhook requests by HTTP status, failed email attempts by SMTP reply code (0: connection error, timeout or abandoned).",
    );
    for (sink, failures) in [
        ("webhook", &ev.webhook_failures),
        ("email", &ev.email_failures),
    ] {
        for (status, count) in failures {
            x.sample(
                "sqreen_delivery_failures_total",
                &[("sink", sink), ("status", &status.to_string())],
                *count,
            );
        }
    }
    x.family(
        "sqreen_delivery_retries_total",
        "counter",
        "Retries: webhook messages sent again, failed email attempts retried.",
    )
    .sample(
        "sqreen_delivery_retries_total",
        &[("sink", "webhook")],
        ev.webhook_retries,
    )
    .sample(
        "sqreen_delivery_retries_total",
        &[("sink", "email")],
        ev.email_retries,
    );
    x.single(
        "sqreen_digests_sent_total",
        "counter",
        "Daily and weekly digests sent.",
        ev.digests,
    );

    // responses
    x.single(
        "sqreen_playbooks_fired_total",
        "counter",
        "Playbook firings.",
        stats.playbooks_fired,
    );
    x.family(
        "sqreen_blocks_total",
        "counter",
        "Requests answered 403 by the agent, by reason (ip or user: deny list or action; waf: block mode).",
    )
    .sample("sqreen_blocks_total", &[("reason", "ip")], stats.blocked_ip)
    .sample("sqreen_blocks_total", &[("reason", "user")], stats.blocked_user)
    .sample("sqreen_blocks_total", &[("reason", "waf")], waf.blocked);
    x.single(
        "sqreen_redirects_total",
        "counter",
        "Requests redirected by an action.",
        stats.redirected,
    );
    x.single(
        "sqreen_passlisted_requests_total",
        "counter",
        "Requests whose client IP was on the pass list.",
        stats.passlisted,
    );
    x.single(
        "sqreen_actions",
        "gauge",
        "Runtime actions (blocks, redirects) in force.",
        agent.actions().len() as u64,
    );

    // WAF
    x.family(
        "sqreen_waf_matches_total",
        "counter",
        "Requests matched by the in-app WAF, by category (at most one per category per request).",
    );
    for (category, count) in [
        ("sqli", waf.sqli),
        ("xss", waf.xss),
        ("lfi", waf.lfi),
        ("rce", waf.rce),
        ("ssrf", waf.ssrf),
        ("code_injection", waf.code_injection),
        ("scanner", waf.scanner),
    ] {
        x.sample("sqreen_waf_matches_total", &[("category", category)], count);
    }
    x.single(
        "sqreen_waf_budget_overruns_total",
        "counter",
        "Requests whose WAF inspection stopped at the time budget (they went through).",
        waf.budget_overruns,
    );
    x.single(
        "sqreen_waf_bodies_over_limit_total",
        "counter",
        "Request bodies longer than SQREEN_MAX_BODY_BYTES (first bytes inspected, or refused).",
        waf.bodies_over_limit,
    );

    // counters, rules, agent
    x.single(
        "sqreen_counter_windows",
        "gauge",
        "Playbook counter windows held (one per group of playbooks and actor).",
        stats.windows,
    );
    x.single(
        "sqreen_counter_evictions_total",
        "counter",
        "Counter windows evicted to stay within SQREEN_MAX_ACTORS.",
        stats.actors_evicted,
    );
    x.single(
        "sqreen_notifications_dropped_total",
        "counter",
        "Playbook notifications dropped because the notifier's queue was full.",
        stats.notifications_dropped,
    );
    x.single(
        "sqreen_actions_evicted_total",
        "counter",
        "Runtime actions evicted (oldest first) to stay within SQREEN_MAX_ACTIONS.",
        stats.actions_evicted,
    );
    cluster(&mut x, &stats.cluster);
    x.single(
        "sqreen_rules_loaded_total",
        "counter",
        "Rules documents put in force (the first one included).",
        stats.rules_loaded,
    );
    x.single(
        "sqreen_rules_rejected_total",
        "counter",
        "Rules documents rejected as invalid (the previous rules stayed).",
        stats.rules_rejected,
    );
    let remote = &stats.rules_remote;
    x.family(
        "sqreen_rules_remote_polls_total",
        "counter",
        "Requests to the rules URL (SQREEN_RULES_URL), by result; only `updated` changes the rules.",
    );
    for (result, n) in [
        ("updated", remote.updates),
        ("not_modified", remote.not_modified),
        ("failed", remote.failures),
        ("invalid", remote.invalid),
        ("bad_signature", remote.bad_signature),
        ("stale", remote.stale),
    ] {
        x.sample("sqreen_rules_remote_polls_total", &[("result", result)], n);
    }
    x.single(
        "sqreen_rules_remote_cache_errors_total",
        "counter",
        "Rules cache failures: not written to SQREEN_RULES_CACHE_PATH, or refused at start-up.",
        remote.cache_errors,
    );
    x.single(
        "sqreen_internal_failures_total",
        "counter",
        "Internal failures of the agent (the request went through, or got 503 when failing closed).",
        stats.internal_failures,
    );
    x.single(
        "sqreen_admin_unauthorized_total",
        "counter",
        "Admin API requests refused for a missing or wrong token.",
        stats.admin_unauthorized,
    );

    super::respond(StatusCode::OK, CONTENT_TYPE, Bytes::from(x.out))
}

/// Cluster mode (`SQREEN_REDIS_URL`): its state and what its sync thread did.
fn cluster(x: &mut Exposition, c: &crate::cluster::ClusterStats) {
    use crate::cluster::ClusterState;
    x.family(
        "sqreen_cluster_state",
        "gauge",
        "Cluster mode's state: 1 for the current one (off, connecting, connected, degraded).",
    );
    for (name, state) in [
        ("off", ClusterState::Off),
        ("connecting", ClusterState::Connecting),
        ("connected", ClusterState::Connected),
        ("degraded", ClusterState::Degraded),
    ] {
        x.sample(
            "sqreen_cluster_state",
            &[("state", name)],
            u64::from(c.state == state),
        );
    }
    for (name, kind, help, value) in [
        (
            "sqreen_cluster_syncs_total",
            "counter",
            "Sync rounds with Redis that went through.",
            c.syncs,
        ),
        (
            "sqreen_cluster_sync_failures_total",
            "counter",
            "Connections or sync rounds with Redis that failed (away, slow, or a bad answer).",
            c.sync_failures,
        ),
        (
            "sqreen_cluster_lag_ms",
            "gauge",
            "Milliseconds since the last sync with Redis that went through.",
            c.lag_ms,
        ),
        (
            "sqreen_cluster_sync_duration_ms",
            "gauge",
            "How long the last sync round took, in milliseconds.",
            c.sync_ms,
        ),
        (
            "sqreen_cluster_actions_pushed_total",
            "counter",
            "Local action changes written to Redis.",
            c.actions_pushed,
        ),
        (
            "sqreen_cluster_actions_applied_total",
            "counter",
            "Other replicas' action changes applied here.",
            c.actions_applied,
        ),
        (
            "sqreen_cluster_changes_dropped_total",
            "counter",
            "Local changes dropped on a full channel (every action in force is pushed instead).",
            c.changes_dropped,
        ),
        (
            "sqreen_cluster_bad_entries_total",
            "counter",
            "Entries read from Redis that were not what the agent writes (skipped).",
            c.bad_entries,
        ),
    ] {
        x.single(name, kind, help, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut x = Exposition::default();
        x.family("m", "gauge", "a \\ help\nline")
            .sample("m", &[("v", "a\"b\\c\nd")], 1);
        assert_eq!(
            x.out,
            "# HELP m a \\\\ help\\nline\n# TYPE m gauge\nm{v=\"a\\\"b\\\\c\\nd\"} 1\n"
        );
    }
}
