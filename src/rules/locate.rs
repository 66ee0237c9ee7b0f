//! The line of a place (`playbooks[0].trigger.threshold`) in a rules document's JSON text, for
//! errors found after parsing (a bad CIDR, a bad duration), which serde cannot position.
//!
//! It walks the text with serde_json itself, one step of the place at a time, each value taken
//! as a `RawValue`: a slice of the very text, so where it starts is where the value is. Strings,
//! escapes and nesting are read by the parser that read the document, not by a second one. It
//! runs only when a document is rejected, never on the request path, and never panics: a place
//! it cannot find has no line.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// One step of a place: a key of an object or an index of an array.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of `place`, or `None` when it is not written as the rules errors write places.
fn steps(place: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = Vec::new();
    for part in place.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() && (steps.is_empty() || rest.is_empty()) {
            return None;
        }
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']')?;
            steps.push(Step::Index(index.parse().ok()?));
            rest = tail;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(steps)
}

/// The 1-based line where the value at `place` starts in `text`, when it is there. The root
/// (the empty place) has none: its errors are about the whole document.
pub(crate) fn line_of(text: &str, place: &str) -> Option<usize> {
    let steps = steps(place).filter(|s| !s.is_empty())?;
    let mut value: &RawValue = serde_json::from_str(text).ok()?;
    for step in steps {
        value = match step {
            Step::Key(key) => {
                let object: BTreeMap<String, &RawValue> = serde_json::from_str(value.get()).ok()?;
                *object.get(key)?
            }
            Step::Index(index) => {
                let array: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
                *array.get(index)?
            }
        };
    }
    // a borrowed RawValue is a slice of `text`: its address says where it starts
    let offset = (value.get().as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let before = text.get(..offset)?;
    Some(before.bytes().filter(|&b| b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
  "version": "v1",
  "ip_denylist": [
    "203.0.113.0/24",
    "not a \"cidr\" [1].x"
  ],
  "waf": {"mode": "block"},
  "rasp":
    { "mode": "off" },
  "playbooks": [
    { "id": "a", "trigger": { "event": "e", "threshold": 1 } },
    {
      "id": "b",
      "trigger": {
        "threshold": 0
      }
    }
  ]
}"#;

    #[test]
    fn places_are_found_on_their_line() {
        assert_eq!(line_of(DOC, "version"), Some(2));
        assert_eq!(line_of(DOC, "ip_denylist"), Some(3));
        assert_eq!(line_of(DOC, "ip_denylist[1]"), Some(5));
        assert_eq!(line_of(DOC, "waf.mode"), Some(7));
        assert_eq!(line_of(DOC, "rasp"), Some(9));
        assert_eq!(line_of(DOC, "playbooks[0].trigger.threshold"), Some(11));
        assert_eq!(line_of(DOC, "playbooks[1]"), Some(12));
        assert_eq!(line_of(DOC, "playbooks[1].trigger.threshold"), Some(15));
        // the last value of a document without a final newline
        assert_eq!(line_of("{\n\"a\":\n[1,\n2]}", "a[1]"), Some(4));
    }

    #[test]
    fn places_not_in_the_text_have_no_line() {
        for place in [
            "",
            "waf.paranoia",
            "ip_denylist[2]",
            "version.x",
            "playbooks[0].response",
            "playbooks[x]",
            "[0]",
            "a..b",
            "a[1",
        ] {
            assert_eq!(line_of(DOC, place), None, "{place}");
        }
        assert_eq!(line_of("{ not json", "version"), None);
    }

    #[test]
    fn places_are_split_into_steps() {
        assert_eq!(
            steps("playbooks[0].trigger"),
            Some(vec![
                Step::Key("playbooks"),
                Step::Index(0),
                Step::Key("trigger")
            ])
        );
        assert_eq!(
            steps("a[1][2]"),
            Some(vec![Step::Key("a"), Step::Index(1), Step::Index(2)])
        );
    }
}
