//! The verdict on the development corpus (`values.jsonl`, read where it lies through
//! `tests/support/corpus.rs`): no benign value put inside the app's quoted literal is flagged,
//! and the share of libinjection's SQLi payloads that break out of it is pinned.

use super::tests::quoted;
use super::*;

// the WAF's unit tests include the same file; sharing theirs would tie RASP to the WAF's tests
#[allow(clippy::duplicate_mod)]
#[path = "../../../tests/support/corpus.rs"]
mod corpus;

/// `values.jsonl`'s values whose `expect` is `expect` (and category `category`, if given).
fn values(expect: &str, category: Option<&str>) -> Option<Vec<String>> {
    let text = corpus::read("values.jsonl", "the RASP SQL corpus tests")?;
    let out = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|r| r["expect"] == expect && category.is_none_or(|c| r["category"] == c))
        .map(|r| r["value"].as_str().unwrap().to_owned())
        .collect();
    Some(out)
}

/// Benign values that the app could have concatenated into its literal without breaking it:
/// no `'` (which would end the literal: `O'Brien` *is* flagged, see `tests::o_brien`), and for
/// MySQL no backslash either — MySQL reads `\` as an escape inside the literal, so a value
/// ending in one (`C:\`) turns the app's closing quote into text and really does change the
/// query's syntax, which the verdict rightly reports.
#[test]
fn benign_values_inside_the_literal_are_never_flagged() {
    let Some(benign) = values("benign", None) else {
        return;
    };
    for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
        let fits = |v: &&String| !(v.contains('\'') || d == Dialect::MySql && v.contains('\\'));
        let checked: Vec<&String> = benign.iter().filter(fits).collect();
        let flagged: Vec<&&String> = checked
            .iter()
            .filter(|v| injection(&quoted(v), d, v).is_some())
            .collect();
        let with_quote = benign.iter().filter(|v| !fits(v));
        let quote_flagged = with_quote
            .clone()
            .filter(|v| injection(&quoted(v), d, v).is_some())
            .count();
        println!(
            "rasp/sql {d:?}: benign values checked {}, flagged {}; left out (quote{}) {}, of \
             which flagged {quote_flagged}",
            checked.len(),
            flagged.len(),
            if d == Dialect::MySql {
                " or backslash"
            } else {
                ""
            },
            with_quote.count(),
        );
        assert!(checked.len() > 3000, "{}", checked.len());
        assert!(flagged.is_empty(), "{d:?} false positives: {flagged:?}");
    }
}

/// Whether `v`, put between quotes as it is, stays one literal by the simplest reading: every
/// run of `'` is even (doubled quotes), after MySQL's `\x` escapes are dropped, and no MySQL
/// backslash is left to escape the closing quote. A second, independent reading of the
/// literal rules, for the corpus test below.
fn stays_inside(v: &str, d: Dialect) -> bool {
    let mut text = Vec::new();
    let mut bytes = v.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\' && d == Dialect::MySql {
            if bytes.next().is_none() {
                return false; // `\` + the app's quote
            }
        } else {
            text.push(b);
        }
    }
    text.split(|&b| b != b'\'').all(|run| run.len() % 2 == 0)
}

/// libinjection's SQLi payloads concatenated into the app's quoted literal. Not all of them
/// break out — a payload without a quote (`1 OR 1=1`) is text inside a literal, harmless there,
/// which is the point of checking at the sink — so the rate is reported and a floor measured on
/// 2026-12-07 is pinned; and exactly the payloads that do not stay inside the literal (by
/// [`stays_inside`]) are caught.
#[test]
fn sqli_payloads_that_break_out_of_the_literal_are_detected() {
    let Some(attacks) = values("attack", Some("sqli")) else {
        return;
    };
    // (dialect, floor on the detection rate in the quoted literal, per mille)
    for (d, floor) in [
        (Dialect::Sqlite, 168),
        (Dialect::Postgres, 168),
        (Dialect::MySql, 168),
    ] {
        let detected = |v: &String| injection(&quoted(v), d, v).is_some();
        let (inside, breaking): (Vec<&String>, Vec<&String>) =
            attacks.iter().partition(|v| stays_inside(v, d));
        let missed: Vec<&&String> = breaking.iter().filter(|v| !detected(v)).collect();
        let wrong: Vec<&&String> = inside.iter().filter(|v| detected(v)).collect();
        // in numeric position only a payload that is one whole literal (`' OR '`, made for a
        // quoted context) is left: one value where the app put one
        let numeric_misses: Vec<&String> = attacks
            .iter()
            .filter(|v| {
                let q = format!("SELECT name FROM products WHERE id = {v} ORDER BY name");
                injection(&q, d, v).is_none()
            })
            .collect();
        let numeric_hits = attacks.len() - numeric_misses.len();
        let hits = breaking.len() - missed.len() + wrong.len();
        let per_mille = hits * 1000 / attacks.len();
        println!(
            "rasp/sql {d:?}: sqli payloads in a quoted literal: detected {hits}/{} ({}.{}%); \
             breaking out {}, of which missed {}; staying inside {}, of which flagged {}; \
             in numeric position: detected {numeric_hits}",
            attacks.len(),
            per_mille / 10,
            per_mille % 10,
            breaking.len(),
            missed.len(),
            inside.len(),
            wrong.len(),
        );
        assert!(per_mille >= floor, "{d:?}: {per_mille} per mille < {floor}");
        assert!(
            numeric_hits * 1000 / attacks.len() >= 995,
            "{d:?}: {numeric_hits}"
        );
        let whole = |v: &&String| v.len() > 1 && v.starts_with('\'') && v.ends_with('\'');
        assert!(
            numeric_misses.iter().all(whole),
            "{d:?}: {numeric_misses:?}"
        );
        let some = |v: &[&&String]| format!("{} e.g. {:?}", v.len(), &v[..v.len().min(8)]);
        assert!(
            missed.is_empty(),
            "{d:?}: breaking out, missed {}",
            some(&missed)
        );
        assert!(
            wrong.is_empty(),
            "{d:?}: staying inside, flagged {}",
            some(&wrong)
        );
    }
}
