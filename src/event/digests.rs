//! Daily and weekly digests being gathered on the pipeline's `sqreen-events` thread: one per
//! playbook and period, until the agent's clock enters the next period.
//!
//! This file owns the periods (UTC days, weeks starting on Monday), the tallies (firings per
//! playbook; per actor: count, first and last firing, the last action) and the choice of what
//! is due. It is bounded: one digest per playbook (playbooks come from the rules, not from
//! requests) and at most [`DIGEST_ACTORS`] actors tallied per digest (later actors are counted in
//! the total only). It sends nothing: the pipeline turns what is due into webhook, Slack and
//! email messages.

use std::collections::HashMap;

use crate::clock::Millis;
use crate::notify::email::{DigestActor, PlaybookDigest};
use crate::notify::slack::DigestEntry;
use crate::notify::PlaybookNotification;
use crate::playbook::Frequency;

const DAY_MS: u64 = 86_400_000;
/// Most actors a digest keeps tallies for (the top ones are reported).
pub(crate) const DIGEST_ACTORS: usize = 1_000;
/// Actors a digest reports.
const DIGEST_TOP: usize = 10;

/// Which sinks a digest goes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DigestSinks {
    pub(crate) webhook: bool,
    pub(crate) slack: bool,
    pub(crate) email: bool,
}

impl DigestSinks {
    fn any(self) -> bool {
        self.webhook || self.slack || self.email
    }
}

/// A digest whose period is over.
pub(crate) struct DueDigest {
    /// The counts, with `top_actors` filled in.
    pub(crate) digest: PlaybookDigest,
    pub(crate) sinks: DigestSinks,
}

struct ActorTally {
    count: u64,
    first_ms: Millis,
    last_ms: Millis,
    action: String,
}

struct Open {
    entry: DigestEntry,
    actors: HashMap<String, ActorTally>,
    sinks: DigestSinks,
    period: u64,
}

/// The digests being gathered, by playbook id.
#[derive(Default)]
pub(crate) struct Digests {
    open: HashMap<String, Open>,
}

impl Digests {
    /// Counts one firing of a daily or weekly playbook in its period's digest, which goes to
    /// `sinks` (those the notification asks for and the agent has); nothing when none.
    pub(crate) fn gather(&mut self, n: &PlaybookNotification, sinks: DigestSinks) {
        if !sinks.any() {
            return;
        }
        let period = period_index(n.frequency, n.at);
        let open = self.open.entry(n.playbook_id.clone()).or_insert_with(|| {
            let (start, end) = period_bounds(n.frequency, period);
            Open {
                entry: DigestEntry {
                    playbook_id: n.playbook_id.clone(),
                    playbook_name: n.playbook_name.clone(),
                    frequency: n.frequency,
                    count: 0,
                    top_actors: Vec::new(),
                    first_ms: n.at,
                    last_ms: n.at,
                    period_start_ms: start,
                    period_end_ms: end,
                },
                actors: HashMap::new(),
                sinks,
                period,
            }
        });
        open.entry.count += 1;
        open.entry.first_ms = open.entry.first_ms.min(n.at);
        open.entry.last_ms = open.entry.last_ms.max(n.at);
        if let Some(tally) = open.actors.get_mut(&n.actor) {
            tally.count += 1;
            tally.first_ms = tally.first_ms.min(n.at);
            if n.at >= tally.last_ms {
                tally.last_ms = n.at;
                tally.action.clone_from(&n.action);
            }
        } else if open.actors.len() < DIGEST_ACTORS {
            open.actors.insert(
                n.actor.clone(),
                ActorTally {
                    count: 1,
                    first_ms: n.at,
                    last_ms: n.at,
                    action: n.action.clone(),
                },
            );
        }
    }

    /// Takes the digests whose period is over at `now` (all of them when `now` is `None`), in
    /// the order of their playbook ids.
    pub(crate) fn take_due(&mut self, now: Option<Millis>) -> Vec<DueDigest> {
        let mut due: Vec<String> = self
            .open
            .iter()
            .filter(|(_, open)| {
                now.is_none_or(|now| period_index(open.entry.frequency, now) > open.period)
            })
            .map(|(id, _)| id.clone())
            .collect();
        due.sort_unstable();
        due.into_iter()
            .filter_map(|id| self.open.remove(&id))
            .map(|open| {
                let distinct_actors = open.actors.len() as u64;
                let mut actors: Vec<DigestActor> = open
                    .actors
                    .into_iter()
                    .map(|(actor, t)| DigestActor {
                        actor,
                        count: t.count,
                        first_ms: t.first_ms,
                        last_ms: t.last_ms,
                        action: t.action,
                    })
                    .collect();
                actors.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.actor.cmp(&b.actor)));
                actors.truncate(DIGEST_TOP);
                let mut entry = open.entry;
                entry.top_actors = actors.iter().map(|a| (a.actor.clone(), a.count)).collect();
                DueDigest {
                    digest: PlaybookDigest {
                        entry,
                        actors,
                        distinct_actors,
                    },
                    sinks: open.sinks,
                }
            })
            .collect()
    }
}

/// The index of the period `ms` falls in: UTC days, or weeks starting on Monday.
fn period_index(frequency: Frequency, ms: Millis) -> u64 {
    let day = ms / DAY_MS;
    match frequency {
        Frequency::Weekly => (day + 3) / 7, // 1970-01-01 was a Thursday
        _ => day,
    }
}

fn period_bounds(frequency: Frequency, index: u64) -> (Millis, Millis) {
    match frequency {
        Frequency::Weekly => {
            let start = (index * 7).saturating_sub(3) * DAY_MS;
            (start, start + 7 * DAY_MS)
        }
        _ => (index * DAY_MS, (index + 1) * DAY_MS),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::playbook::Severity;

    const MONDAY: Millis = 1_795_392_000_000; // 2026-11-23, a Monday

    #[test]
    fn periods() {
        assert_eq!(period_index(Frequency::Daily, MONDAY), MONDAY / DAY_MS);
        let week = period_index(Frequency::Weekly, MONDAY);
        assert_eq!(period_bounds(Frequency::Weekly, week).0, MONDAY);
        assert_eq!(
            period_index(Frequency::Weekly, MONDAY + 6 * DAY_MS + 1),
            week
        );
        assert_eq!(period_index(Frequency::Weekly, MONDAY - 1), week - 1);
        let (s, e) = period_bounds(Frequency::Daily, MONDAY / DAY_MS);
        assert_eq!((s, e), (MONDAY, MONDAY + DAY_MS));
    }

    fn firing(id: &str, actor: &str, at: Millis, action: &str) -> PlaybookNotification {
        PlaybookNotification {
            playbook_id: id.to_string(),
            playbook_name: id.to_string(),
            severity: Severity::Low,
            frequency: Frequency::Daily,
            webhook: false,
            slack: false,
            email: true,
            actor: actor.to_string(),
            event: "e".to_string(),
            count: 1,
            threshold: 1,
            period: Duration::from_secs(60),
            action: action.to_string(),
            at,
        }
    }

    const EMAIL: DigestSinks = DigestSinks {
        webhook: false,
        slack: false,
        email: true,
    };

    #[test]
    fn actors_are_tallied_with_first_last_and_last_action() {
        let mut d = Digests::default();
        let h = 3_600_000;
        d.gather(&firing("p", "ip 192.0.2.1", MONDAY + 2 * h, "none"), EMAIL);
        d.gather(&firing("p", "ip 192.0.2.2", MONDAY + 3 * h, "none"), EMAIL);
        d.gather(&firing("p", "ip 192.0.2.1", MONDAY + h, "none"), EMAIL);
        d.gather(
            &firing("p", "ip 192.0.2.1", MONDAY + 5 * h, "block for 1h"),
            EMAIL,
        );
        d.gather(
            &firing("q", "ip 192.0.2.9", MONDAY, "none"),
            DigestSinks::default(),
        );
        assert!(
            d.take_due(Some(MONDAY + 23 * h)).is_empty(),
            "the day is not over"
        );
        let due = d.take_due(Some(MONDAY + DAY_MS));
        assert_eq!(due.len(), 1, "q goes nowhere: not gathered");
        let p = &due[0].digest;
        assert_eq!(p.entry.count, 4);
        assert_eq!(
            (p.entry.first_ms, p.entry.last_ms),
            (MONDAY + h, MONDAY + 5 * h)
        );
        assert_eq!(p.distinct_actors, 2);
        assert_eq!(
            p.actors[0],
            DigestActor {
                actor: "ip 192.0.2.1".to_string(),
                count: 3,
                first_ms: MONDAY + h,
                last_ms: MONDAY + 5 * h,
                action: "block for 1h".to_string(),
            }
        );
        assert_eq!(p.entry.top_actors[1], ("ip 192.0.2.2".to_string(), 1));
        assert!(due[0].sinks.email && !due[0].sinks.webhook);
        assert!(d.take_due(None).is_empty());
    }

    #[test]
    fn actors_past_the_cap_count_in_the_total_only() {
        let mut d = Digests::default();
        for i in 0..DIGEST_ACTORS + 50 {
            d.gather(&firing("p", &format!("ip {i}"), MONDAY, "none"), EMAIL);
        }
        let due = d.take_due(None);
        assert_eq!(due[0].digest.entry.count, (DIGEST_ACTORS + 50) as u64);
        assert_eq!(due[0].digest.distinct_actors, DIGEST_ACTORS as u64);
        assert_eq!(due[0].digest.actors.len(), DIGEST_TOP);
    }
}
