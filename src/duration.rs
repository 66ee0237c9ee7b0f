//! Short durations as written in rules documents: `"30s"`, `"5m"`, `"1h"`, `"7d"`, and the
//! [`Lifetime`] of a response, which may also be `"permanent"`.
//!
//! This file owns the duration syntax (parsing, the canonical short form and its serde form) and
//! nothing else: limits such as "a period lasts at most 30 days" belong to the playbook model.
//! It must never panic on any input, never accept a value it cannot represent exactly (overflow
//! is an error, not a saturation), and never echo an unbounded input into an error message.
//!
//! Syntax: one unsigned decimal integer immediately followed by one unit, `s`, `m`, `h` or `d`.
//! No sign, no fraction, no spaces (inside or around), no compound forms such as `"1h30m"`.
//! **Case policy:** units and `"permanent"` are lowercase only. `"5M"` is rejected rather than
//! guessed (it could as well mean months as minutes); the error says units are lowercase.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The units, largest first, with their length in seconds.
const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// What a duration must look like, for error messages.
const EXPECTED: &str =
    "expected a whole number followed by s, m, h or d (e.g. \"30s\", \"5m\", \"1h\", \"7d\")";

/// The longest duration anything takes: ten years (3650 days). Longer is `"permanent"` for a
/// response, and an error everywhere: millisecond expiries then never come near overflowing,
/// whatever the clock says.
pub const MAX_DURATION: Duration = Duration::from_secs(3650 * 86_400);

/// The error for a duration over [`MAX_DURATION`].
pub(crate) const TOO_LONG: &str = "at most 10 years (3650d)";

/// Checks a duration given in code against [`MAX_DURATION`]; the error names `what`.
pub(crate) fn check_max(what: &str, d: Duration) -> Result<Duration, String> {
    if d > MAX_DURATION {
        return Err(format!("{what}: {} is too long: {TOO_LONG}", d.as_secs()));
    }
    Ok(d)
}

/// `now` plus `d` in milliseconds, saturating: a duration too long for the clock's range ends
/// at its end, never wraps to the past.
pub(crate) fn expiry(now: u64, d: Duration) -> u64 {
    now.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The word that makes a [`Lifetime`] last forever.
const PERMANENT: &str = "permanent";

/// Parses a short duration such as `"30s"`, `"5m"`, `"1h"` or `"7d"`.
///
/// Zero (`"0s"`) and values over [`MAX_DURATION`] (ten years) are rejected. The error string
/// names the input.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!("invalid duration {}: {why}", quote(s));
    let Some(unit) = s.chars().last() else {
        return Err(invalid(EXPECTED));
    };
    let digits = s.get(..s.len() - unit.len_utf8()).unwrap_or_default();
    let Some(&(_, unit_secs)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        let lower = unit.to_ascii_lowercase();
        if lower != unit && UNITS.iter().any(|(u, _)| *u == lower) {
            return Err(invalid("units are lowercase: s, m, h or d"));
        }
        return Err(invalid(EXPECTED));
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(EXPECTED));
    }
    let n: u64 = digits.parse().map_err(|_| invalid(TOO_LONG))?;
    if n == 0 {
        return Err(invalid("must be greater than zero"));
    }
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .filter(|d| *d <= MAX_DURATION)
        .ok_or_else(|| invalid(TOO_LONG))
}

/// Formats a duration in the short form, choosing the largest unit that divides it exactly
/// (`86400s` is `"1d"`, `90m` is `"90m"`).
///
/// Rules documents only hold whole seconds; a fraction of a second is rounded up, and a zero
/// duration is shown as `"0s"` (which [`parse_duration`] rejects).
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        secs = secs.saturating_add(1);
    }
    for (unit, unit_secs) in UNITS {
        if secs != 0 && secs % unit_secs == 0 {
            return format!("{}{unit}", secs / unit_secs);
        }
    }
    "0s".to_string()
}

/// Serializes a [`Duration`] in the short form (for `#[serde(serialize_with)]`).
pub(crate) fn serialize_short<S: Serializer>(
    d: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_duration(*d))
}

/// Quotes untrusted input for an error message, cut to its first 64 characters.
pub(crate) fn quote(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

/// How long a response (a block or a redirect) lasts: a duration, or for ever.
///
/// Written `"24h"` (any [`parse_duration`] form) or `"permanent"`; serialized the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// The response lasts this long after it starts.
    For(Duration),
    /// The response lasts until the rules change or it is lifted by hand.
    Permanent,
}

impl Lifetime {
    /// Parses `"permanent"` or a short duration such as `"24h"`. The error names the input.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == PERMANENT {
            return Ok(Lifetime::Permanent);
        }
        parse_duration(s)
            .map(Lifetime::For)
            .map_err(|e| format!("{e}, or \"{PERMANENT}\""))
    }

    /// The duration, or `None` when permanent.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            Lifetime::For(d) => Some(*d),
            Lifetime::Permanent => None,
        }
    }

    /// Whether this lifetime never ends.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Lifetime::Permanent)
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::For(d) => f.write_str(&format_duration(*d)),
            Lifetime::Permanent => f.write_str(PERMANENT),
        }
    }
}

impl FromStr for Lifetime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Lifetime::parse(s)
    }
}

impl Serialize for Lifetime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Lifetime::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 3_600;
    const DAY: u64 = 86_400;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(5 * MIN)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(HOUR)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * DAY)));
        assert_eq!(parse_duration("007m"), Ok(Duration::from_secs(7 * MIN)));
    }

    #[test]
    fn rejects_garbage_and_names_the_input() {
        for bad in [
            "",
            "5",
            "m",
            "-1s",
            "+1s",
            "1.5h",
            "1 h",
            " 1h",
            "1h ",
            "1h30m",
            "5w",
            "5ms",
            "h5",
            "0x10s",
            "١h",
            "5é",
            "permanent",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
            assert!(err.contains("expected a whole number"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn rejects_zero_and_overflow() {
        for zero in ["0s", "0d", "000m"] {
            let err = parse_duration(zero).unwrap_err();
            assert!(err.ends_with("must be greater than zero"), "{err}");
        }
        for big in [
            "99999999999999999999d",
            "18446744073709551616s",
            "18446744073709551615s",
            "18446744073709552s",
            "213503982334602d",
            "3651d",
            "87601h",
            "315360001s",
        ] {
            let err = parse_duration(big).unwrap_err();
            assert!(err.ends_with("at most 10 years (3650d)"), "{err}");
            assert!(Lifetime::parse(big).is_err(), "{big}");
        }
        // ten years exactly is the longest
        assert_eq!(parse_duration("3650d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("315360000s"), Ok(MAX_DURATION));
        assert_eq!(check_max("d", MAX_DURATION), Ok(MAX_DURATION));
        assert!(check_max("d", MAX_DURATION + Duration::from_millis(1)).is_err());
        assert!(check_max("d", Duration::MAX)
            .unwrap_err()
            .starts_with("d: "));
    }

    #[test]
    fn units_are_lowercase_only() {
        for upper in ["5M", "1H", "30S", "7D"] {
            let err = parse_duration(upper).unwrap_err();
            assert_eq!(
                err,
                format!("invalid duration {upper:?}: units are lowercase: s, m, h or d")
            );
        }
        assert!(Lifetime::parse("Permanent").is_err());
        assert!(Lifetime::parse("PERMANENT").is_err());
    }

    #[test]
    fn long_inputs_are_cut_in_messages() {
        let long = "9".repeat(10_000) + "x";
        let err = parse_duration(&long).unwrap_err();
        assert!(err.len() < 200, "{err}");
        assert!(err.contains("..."));
    }

    #[test]
    fn formats_with_the_largest_exact_unit() {
        let f = |s| format_duration(Duration::from_secs(s));
        assert_eq!(f(30), "30s");
        assert_eq!(f(90), "90s");
        assert_eq!(f(5 * MIN), "5m");
        assert_eq!(f(90 * MIN), "90m");
        assert_eq!(f(24 * HOUR), "1d");
        assert_eq!(f(36 * HOUR), "36h");
        assert_eq!(f(7 * DAY), "7d");
        assert_eq!(f(u64::MAX), format!("{}s", u64::MAX));
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "2s");
        assert_eq!(
            format_duration(Duration::new(u64::MAX, 1)),
            format!("{}s", u64::MAX)
        );
    }

    #[test]
    fn lifetime_parses_and_displays() {
        assert_eq!(Lifetime::parse("permanent"), Ok(Lifetime::Permanent));
        assert_eq!(
            Lifetime::parse("24h"),
            Ok(Lifetime::For(Duration::from_secs(24 * HOUR)))
        );
        assert_eq!(Lifetime::parse("24h").unwrap().to_string(), "1d");
        assert_eq!(Lifetime::parse("36h").unwrap().to_string(), "36h");
        assert_eq!(Lifetime::Permanent.to_string(), "permanent");
        assert!(Lifetime::Permanent.is_permanent());
        assert_eq!(Lifetime::Permanent.duration(), None);
        assert_eq!(
            "5m".parse::<Lifetime>().unwrap().duration(),
            Some(Duration::from_secs(300))
        );
        let err = Lifetime::parse("forever").unwrap_err();
        assert!(
            err.contains("\"forever\"") && err.ends_with("or \"permanent\""),
            "{err}"
        );
    }

    #[test]
    fn lifetime_serde_round_trips_as_a_string() {
        for s in ["30s", "5m", "36h", "7d", "permanent"] {
            let l = Lifetime::parse(s).unwrap();
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("{s:?}"));
            assert_eq!(serde_json::from_str::<Lifetime>(&json).unwrap(), l);
        }
        assert!(serde_json::from_str::<Lifetime>("\"0s\"").is_err());
        assert!(serde_json::from_str::<Lifetime>("3600").is_err());
    }
}
