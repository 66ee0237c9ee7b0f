//! What notification emails say: [`notification_email`] for one playbook firing, and
//! [`digest_email`] for a day's or a week's firings of several playbooks, each an [`Email`] with
//! a subject, a plain-text part and a small HTML part.
//!
//! Actors, events and actions may come from attackers (a user name read from a JWT, an event
//! name from `track`), so every value is made inert before it is written: control characters
//! (CR and LF among them) become spaces, URLs are cut to their path (as in Slack messages: a
//! security email must not carry an attacker's link), long values are cut, and in the HTML part
//! `&`, `<`, `>`, `"` and `'` are escaped. The subject holds only the app's and the playbooks'
//! names, cleaned the same way. Pure functions: no I/O, no clock.

use super::Email;
use crate::duration::format_duration;
use crate::notify::slack::{human_utc, strip_urls, DigestEntry};
use crate::notify::PlaybookNotification;
use crate::playbook::Frequency;

/// The most characters shown of any one name, actor, event or action.
const MAX_FIELD_CHARS: usize = 200;

/// The most characters of a subject (before the mail client's own cut).
const MAX_SUBJECT_CHARS: usize = 160;

/// The most playbooks named in a digest's subject; the others are counted.
const SUBJECT_PLAYBOOKS: usize = 3;

/// One actor's part in a playbook's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestActor {
    /// The actor, e.g. `ip 192.0.2.7` or `user alice@example.com`.
    pub actor: String,
    /// Times the playbook fired for this actor within the period.
    pub count: u64,
    /// When it first fired for this actor (milliseconds since the Unix epoch).
    pub first_ms: u64,
    /// When it last fired for this actor.
    pub last_ms: u64,
    /// The response applied the last time, e.g. `block for 24h` or `none`.
    pub action: String,
}

/// One playbook's digest as an email shows it: the counts of [`DigestEntry`] and a row per
/// actor (the actors that made it fire most, most first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaybookDigest {
    /// The playbook, its counts and its period.
    pub entry: DigestEntry,
    /// The top actors, most first.
    pub actors: Vec<DigestActor>,
    /// How many distinct actors made it fire (at least `actors.len()`).
    pub distinct_actors: u64,
}

/// The email for one playbook firing. Subject: `[APP] Sqreen: playbook "NAME" fired (SEVERITY)`.
pub fn notification_email(app: &str, n: &PlaybookNotification) -> Email {
    let subject = subject(&format!(
        "[{}] Sqreen: playbook \"{}\" fired ({})",
        one_line(app),
        one_line(&n.playbook_name),
        n.severity
    ));
    let rows = [
        ("Actor", clean(&n.actor)),
        (
            "Event",
            format!(
                "{}, {} {} within {} (threshold {})",
                clean(&n.event),
                n.count,
                times(n.count),
                format_duration(n.period),
                n.threshold
            ),
        ),
        ("Response", clean(&n.action)),
        ("Severity", n.severity.to_string()),
        ("Fired at", human_utc(n.at)),
    ];
    let intro = format!(
        "Playbook \"{}\" ({}) fired in {}.",
        clean(&n.playbook_name),
        clean(&n.playbook_id),
        clean(app)
    );
    let mut text = format!("{intro}\n\n");
    for (label, value) in &rows {
        text.push_str(&format!("{:<10} {value}\n", format!("{label}:")));
    }
    text.push_str(&footer(app));

    let mut html = html_head(&subject);
    html.push_str(&format!(
        "<p>Playbook <b>{}</b> (<code>{}</code>) fired in <b>{}</b>.</p>\n",
        escape(&clean(&n.playbook_name)),
        escape(&clean(&n.playbook_id)),
        escape(&clean(app)),
    ));
    html.push_str("<table cellpadding=\"4\" style=\"border-collapse:collapse\">\n");
    for (label, value) in &rows {
        html.push_str(&format!(
            "<tr><th align=\"left\">{label}</th><td>{}</td></tr>\n",
            escape(value)
        ));
    }
    html.push_str("</table>\n");
    html.push_str(&html_foot(app));
    Email {
        subject,
        text,
        html,
    }
}

/// The email for the digests of one period: a section (and in HTML a table: actor, count,
/// first and last seen, action taken) per playbook. Subject:
/// `[APP] Sqreen daily digest: "NAME" (COUNT), ...`.
pub fn digest_email(app: &str, frequency: Frequency, digests: &[PlaybookDigest]) -> Email {
    let kind = match frequency {
        Frequency::Weekly => "weekly",
        _ => "daily",
    };
    let mut named: Vec<String> = digests
        .iter()
        .take(SUBJECT_PLAYBOOKS)
        .map(|d| {
            format!(
                "\"{}\" ({})",
                one_line(&d.entry.playbook_name),
                d.entry.count
            )
        })
        .collect();
    if digests.len() > SUBJECT_PLAYBOOKS {
        named.push(format!("and {} more", digests.len() - SUBJECT_PLAYBOOKS));
    }
    let subject = subject(&format!(
        "[{}] Sqreen {kind} digest: {}",
        one_line(app),
        named.join(", ")
    ));
    let period = digests.first().map(|d| {
        (
            human_utc(d.entry.period_start_ms),
            human_utc(d.entry.period_end_ms),
        )
    });
    let intro = match &period {
        Some((start, end)) => format!(
            "Sqreen {kind} digest for {}, from {start} to {end}.",
            clean(app)
        ),
        None => format!("Sqreen {kind} digest for {}.", clean(app)),
    };
    let mut text = format!("{intro}\n");
    let mut html = html_head(&subject);
    html.push_str(&format!("<p>{}</p>\n", escape(&intro)));
    for d in digests {
        let e = &d.entry;
        let summary = format!(
            "fired {} {}, first at {}, last at {}",
            e.count,
            times(e.count),
            human_utc(e.first_ms),
            human_utc(e.last_ms)
        );
        let more = d.distinct_actors.saturating_sub(d.actors.len() as u64);
        text.push_str(&format!(
            "\n{} ({}): {summary}.\n",
            clean(&e.playbook_name),
            clean(&e.playbook_id)
        ));
        for a in &d.actors {
            text.push_str(&format!(
                "  - {}: {} {}, first seen {}, last seen {}, action taken: {}\n",
                clean(&a.actor),
                a.count,
                times(a.count),
                human_utc(a.first_ms),
                human_utc(a.last_ms),
                clean(&a.action),
            ));
        }
        if more > 0 {
            text.push_str(&format!("  ... and {more} more actors\n"));
        }

        html.push_str(&format!(
            "<h2 style=\"font-size:1.1em\">{} <small>(<code>{}</code>)</small></h2>\n<p>{}.</p>\n",
            escape(&clean(&e.playbook_name)),
            escape(&clean(&e.playbook_id)),
            escape(&summary),
        ));
        html.push_str(
            "<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">\n\
             <tr><th>Actor</th><th>Count</th><th>First seen</th><th>Last seen</th>\
             <th>Action taken</th></tr>\n",
        );
        for a in &d.actors {
            html.push_str(&format!(
                "<tr><td><code>{}</code></td><td align=\"right\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&clean(&a.actor)),
                a.count,
                human_utc(a.first_ms),
                human_utc(a.last_ms),
                escape(&clean(&a.action)),
            ));
        }
        html.push_str("</table>\n");
        if more > 0 {
            html.push_str(&format!("<p>... and {more} more actors.</p>\n"));
        }
    }
    text.push('\n');
    text.push_str(&footer(app));
    html.push_str(&html_foot(app));
    Email {
        subject,
        text,
        html,
    }
}

fn times(count: u64) -> &'static str {
    if count == 1 {
        "time"
    } else {
        "times"
    }
}

fn footer(app: &str) -> String {
    format!(
        "--\nSent by the sqreen agent of {}. Times are UTC.\n",
        clean(app)
    )
}

fn html_head(subject: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family:sans-serif\">\n",
        escape(subject)
    )
}

fn html_foot(app: &str) -> String {
    format!(
        "<p style=\"color:#666\">Sent by the sqreen agent of {}. Times are UTC.</p>\n</body></html>\n",
        escape(&clean(app))
    )
}

/// Untrusted text made inert for either part: control characters made spaces, URLs cut to
/// their path, cut to [`MAX_FIELD_CHARS`]. Escape it too before it goes into HTML.
pub(crate) fn clean(s: &str) -> String {
    let no_controls: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(&strip_urls(&no_controls), MAX_FIELD_CHARS)
}

/// [`clean`] on one line for a header: whitespace runs made one space.
fn one_line(s: &str) -> String {
    clean(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A subject from cleaned parts: at most [`MAX_SUBJECT_CHARS`], no control character.
fn subject(s: &str) -> String {
    truncate(&one_line_raw(s), MAX_SUBJECT_CHARS)
}

fn one_line_raw(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::playbook::Severity;

    fn notification(actor: &str) -> PlaybookNotification {
        PlaybookNotification {
            playbook_id: "brute-force".to_string(),
            playbook_name: "Brute force on login".to_string(),
            severity: Severity::High,
            frequency: Frequency::Immediately,
            webhook: false,
            slack: false,
            email: true,
            actor: actor.to_string(),
            event: "app.sqreen.auth.login_failure".to_string(),
            count: 12,
            threshold: 10,
            period: Duration::from_secs(300),
            action: "redirect to https://www.example.com/blocked?reason=abuse for 1h".to_string(),
            at: 1_795_449_600_123,
        }
    }

    #[test]
    fn a_firing_names_app_playbook_actor_count_action_and_time() {
        let e = notification_email("shop", &notification("ip 192.0.2.7"));
        assert_eq!(
            e.subject,
            "[shop] Sqreen: playbook \"Brute force on login\" fired (high)"
        );
        for part in [&e.text, &e.html] {
            for expected in [
                "Brute force on login",
                "brute-force",
                "ip 192.0.2.7",
                "app.sqreen.auth.login_failure, 12 times within 5m (threshold 10)",
                "redirect to /blocked for 1h",
                "2026-11-23 16:00:00 UTC",
                "shop",
            ] {
                assert!(part.contains(expected), "{expected} missing from {part}");
            }
            // link-free: the redirect target is cut to its path
            assert!(!part.contains("example.com"), "{part}");
        }
        assert!(e.html.starts_with("<!DOCTYPE html>") && e.html.ends_with("</html>\n"));
    }

    #[test]
    fn attacker_text_cannot_break_out_of_a_line_or_into_markup() {
        let actor = "user x\r\nBcc: victim@example.com\r\n\r\n<script>alert('1')</script>&\"";
        let mut n = notification(actor);
        n.playbook_name = "Name\r\nX-Injected: yes".to_string();
        let e = notification_email("app\nX-App: 1", &n);
        assert!(!e.subject.contains(['\r', '\n']), "{:?}", e.subject);
        assert!(e.subject.contains("Name X-Injected: yes"), "{}", e.subject);
        assert!(
            !e.text.contains("\nBcc:") && !e.text.contains('\r'),
            "{}",
            e.text
        );
        assert!(!e.html.contains("<script>"), "{}", e.html);
        assert!(
            e.html
                .contains("&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;&amp;&quot;"),
            "{}",
            e.html
        );
        let d = digest_email(
            "app",
            Frequency::Daily,
            &[digest(vec![actor_row(actor, 1)], 1)],
        );
        assert!(!d.html.contains("<script>"), "{}", d.html);
        assert!(d.html.contains("&lt;script&gt;"), "{}", d.html);
        assert!(!d.text.contains("\nBcc:"), "{}", d.text);
    }

    #[test]
    fn long_values_are_cut() {
        let e = notification_email("app", &notification(&"a".repeat(5_000)));
        assert!(e.text.len() < 2_000 && e.html.len() < 3_000);
        assert!(e
            .text
            .contains(&format!("{}…", "a".repeat(MAX_FIELD_CHARS))));
        let mut n = notification("ip 192.0.2.7");
        n.playbook_name = "p".repeat(1_000);
        assert!(notification_email("app", &n).subject.chars().count() <= MAX_SUBJECT_CHARS + 1);
    }

    fn actor_row(actor: &str, count: u64) -> DigestActor {
        DigestActor {
            actor: actor.to_string(),
            count,
            first_ms: 1_795_395_600_000,
            last_ms: 1_795_399_200_000,
            action: "block for 24h".to_string(),
        }
    }

    fn digest(actors: Vec<DigestActor>, distinct: u64) -> PlaybookDigest {
        PlaybookDigest {
            entry: DigestEntry {
                playbook_id: "free-plan-abuse".to_string(),
                playbook_name: "Free plan abuse".to_string(),
                frequency: Frequency::Daily,
                count: actors.iter().map(|a| a.count).sum(),
                top_actors: actors.iter().map(|a| (a.actor.clone(), a.count)).collect(),
                first_ms: 1_795_395_600_000,
                last_ms: 1_795_399_200_000,
                period_start_ms: 1_795_392_000_000,
                period_end_ms: 1_795_478_400_000,
            },
            actors,
            distinct_actors: distinct,
        }
    }

    #[test]
    fn a_digest_has_a_table_per_playbook_and_names_them_in_the_subject() {
        let first = digest(
            vec![
                actor_row("user mallory@example.com", 5),
                actor_row("ip 203.0.113.9", 2),
            ],
            4,
        );
        let mut second = digest(vec![actor_row("ip 198.51.100.1", 1)], 1);
        second.entry.playbook_id = "csrf".to_string();
        second.entry.playbook_name = "CSRF abuse".to_string();
        let e = digest_email("shop", Frequency::Daily, &[first, second]);
        assert_eq!(
            e.subject,
            "[shop] Sqreen daily digest: \"Free plan abuse\" (7), \"CSRF abuse\" (1)"
        );
        assert_eq!(e.html.matches("<table").count(), 2);
        assert_eq!(e.html.matches("<tr><td>").count(), 3);
        for part in [&e.text, &e.html] {
            for expected in [
                "from 2026-11-23 00:00:00 UTC to 2026-11-24 00:00:00 UTC",
                "fired 7 times",
                "user mallory@example.com",
                "2026-11-23 01:00:00 UTC",
                "2026-11-23 02:00:00 UTC",
                "block for 24h",
                "CSRF abuse",
                "fired 1 time,",
                "and 2 more actors",
            ] {
                assert!(part.contains(expected), "{expected} missing from {part}");
            }
        }
        let many: Vec<PlaybookDigest> = (0..5).map(|_| digest(vec![], 0)).collect();
        let e = digest_email("shop", Frequency::Weekly, &many);
        assert!(e.subject.starts_with("[shop] Sqreen weekly digest: "));
        assert!(e.subject.ends_with(", and 2 more"), "{}", e.subject);
    }
}
