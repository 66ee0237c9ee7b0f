//! JSON bodies: every key and every string value is handed to the [`Scan`], named by its path
//! (`body.items[2].name`), in document order. Below [`MAX_JSON_DEPTH`] levels, or when a body
//! does not parse, the raw body is also inspected as one value named `body`, so nothing hides
//! below the bound.
//!
//! Repeats: a string equal to one of the last few inspected in the same body (the item names,
//! statuses and currencies of an array of records) is not inspected again (see [`Seen`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::inputs::{cut, decode_more, Name, MAX_JSON_DEPTH, MAX_NAME_KEY};
use super::{Scan, Source, Stop};

/// Scans a JSON body's keys and strings (see the module docs).
pub(crate) fn scan_json(scan: &mut Scan<'_>, body: &[u8]) -> Result<(), Stop> {
    let mut walk = Walk {
        scan,
        path: String::from("body"),
        stopped: None,
        too_deep: false,
        seen: Seen::default(),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = JsonSeed {
        walk: &mut walk,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(stop) = walk.stopped {
        return Err(stop);
    }
    if parsed.is_err() || walk.too_deep {
        let raw = String::from_utf8_lossy(body);
        walk.scan.value(Source::Body, &Name::Raw("body"), &raw)?;
    }
    Ok(())
}

/// The state of a JSON walk: the scan, the path of the current value (`body.user.name`), the
/// strings already inspected.
struct Walk<'s, 'r, 'de> {
    scan: &'s mut Scan<'r>,
    path: String,
    stopped: Option<Stop>,
    too_deep: bool,
    seen: Seen<'de>,
}

/// How many inspected JSON strings are remembered, at most.
const SEEN: usize = 16;
/// Longest string remembered, in bytes: longer ones are rare repeats, and the comparison
/// must stay cheap.
const SEEN_MAX_LEN: usize = 256;

/// The last [`SEEN`] strings of a JSON body that were inspected in full (borrowed from the
/// body: no copy). Arrays of records repeat their strings (the same
/// product name, status or currency in every item); every detector is a pure function of the
/// value and every body string gets the same detectors, so inspecting a repeat again cannot
/// find anything new (a category that matched is not looked for again, the others give the
/// same answer). Repeats are recognised by comparing bytes, never by a hash, so no crafted
/// value can pass for an inspected one.
#[derive(Default)]
struct Seen<'de> {
    values: [&'de str; SEEN],
    next: usize,
}

impl<'de> Seen<'de> {
    fn contains(&self, value: &str) -> bool {
        value.len() <= SEEN_MAX_LEN && self.values.contains(&value)
    }

    fn insert(&mut self, value: &'de str) {
        if value.len() <= SEEN_MAX_LEN {
            self.values[self.next] = value;
            self.next = (self.next + 1) % SEEN;
        }
    }
}

impl<'de> Walk<'_, '_, 'de> {
    /// Inspects a JSON string (a key or a value) named by the current path; `borrowed` when it
    /// is a slice of the body (no escapes).
    fn inspect(&mut self, value: &str, borrowed: Option<&'de str>) -> Result<(), Stop> {
        // words and numbers are never inspected (and need no decoding): not worth
        // remembering; the empty string is `Seen`'s filler
        if value.is_empty() || super::plain(value) || self.seen.contains(value) {
            return Ok(());
        }
        let decoded = decode_more(Cow::Borrowed(value));
        self.scan
            .value(Source::Body, &Name::Raw(&self.path), &decoded)?;
        if let Some(v) = borrowed {
            self.seen.insert(v);
        }
        Ok(())
    }

    /// [`Walk::inspect`] for the serde visitors: a stop is kept and ends the parse.
    fn value<E: serde::de::Error>(
        &mut self,
        value: &str,
        borrowed: Option<&'de str>,
    ) -> Result<(), E> {
        self.inspect(value, borrowed).map_err(|stop| {
            self.stopped = Some(stop);
            E::custom("scan stopped")
        })
    }

    /// Appends `.key` to the path (the key cut to [`MAX_NAME_KEY`] bytes).
    fn push_key(&mut self, key: &str) {
        self.path.push('.');
        self.path.push_str(cut(key, MAX_NAME_KEY));
    }

    /// Appends `[index]` to the path (by hand: `write!` costs ~300 instructions an element,
    /// a third of the whole walk of an array of records).
    fn push_index(&mut self, index: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = index;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.path.push('[');
        for &d in &digits[at..] {
            self.path.push(char::from(d));
        }
        self.path.push(']');
    }
}

/// Walks one JSON value.
struct JsonSeed<'w, 's, 'r, 'de> {
    walk: &'w mut Walk<'s, 'r, 'de>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth > MAX_JSON_DEPTH {
            self.walk.too_deep = true;
            return IgnoredAny::deserialize(d).map(|_| ());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.walk.value(v, None)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.walk.value(v, Some(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let len = self.walk.path.len();
            self.walk.push_index(index);
            let next = seq.next_element_seed(JsonSeed {
                walk: self.walk,
                depth: self.depth + 1,
            });
            self.walk.path.truncate(len);
            if next?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        loop {
            let len = self.walk.path.len();
            let key = map.next_key_seed(KeySeed { walk: self.walk });
            match key {
                Ok(Some(())) => {}
                Ok(None) => {
                    self.walk.path.truncate(len);
                    return Ok(());
                }
                Err(e) => {
                    self.walk.path.truncate(len);
                    return Err(e);
                }
            }
            let value = map.next_value_seed(JsonSeed {
                walk: self.walk,
                depth: self.depth + 1,
            });
            self.walk.path.truncate(len);
            value?;
        }
    }
}

/// Reads a key: appends `.key` to the path and scans the key itself.
struct KeySeed<'w, 's, 'r, 'de> {
    walk: &'w mut Walk<'s, 'r, 'de>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<(), E> {
        self.walk.push_key(key);
        self.walk.value(key, None)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<(), E> {
        self.walk.push_key(key);
        self.walk.value(key, Some(key))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{scan_json, SEEN};
    use crate::waf::{AttackCategory, Scan};

    /// The categories and inputs of the hits a JSON body gives, and how many values the
    /// detectors ran on.
    fn json_scan(body: &str) -> (Vec<(AttackCategory, String)>, u32) {
        let mut scan = Scan::new(&[], false, Duration::from_secs(10), Duration::ZERO);
        scan_json(&mut scan, body.as_bytes()).unwrap();
        let inspected = scan.values_since_check;
        let hits = scan
            .hits
            .into_iter()
            .map(|h| (h.category, h.input))
            .collect();
        (hits, inspected)
    }

    fn json_hits(body: &str) -> Vec<(AttackCategory, String)> {
        json_scan(body).0
    }

    #[test]
    fn repeated_json_strings_are_inspected_once_and_hide_nothing() {
        let name = "Wireless noise-cancelling headphones, black";
        // a repeat of an inspected string is skipped; strings around it still count
        let body = format!(
            r#"{{"items":[{{"n":"{name}"}},{{"n":"{name}"}},{{"n":"{name}","q":"<script>alert(1)</script>"}}]}}"#
        );
        let (hits, inspected) = json_scan(&body);
        assert_eq!(hits, [(AttackCategory::Xss, "body.items[2].q".to_owned())]);
        assert_eq!(inspected, 2, "the name once, the script");
        // the same bytes escaped in JSON are read again (not borrowed: not remembered), and
        // an attack repeated after a hit in another category is still reported in its own
        let body = r#"["<scr\u0069pt>", "<script>", "1' OR '1'='1", "1' OR '1'='1", "x"]"#;
        let hits = json_hits(body);
        assert_eq!(hits.len(), 2, "{hits:?}");
        // more distinct strings than are remembered: the oldest are forgotten, not confused
        let many: Vec<String> = (0..2 * SEEN)
            .map(|i| format!("value {i}, inspected"))
            .collect();
        let mut doc: Vec<&str> = many.iter().map(String::as_str).collect();
        doc.push("' UNION SELECT password FROM users --");
        let body = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            json_hits(&body),
            [(AttackCategory::Sqli, format!("body[{}]", 2 * SEEN))]
        );
    }

    #[test]
    fn array_indices_are_named_in_decimal() {
        let attack = "<script>alert(1)</script>";
        for (i, name) in [
            (0, "body.a[0][0]"),
            (10, "body.a[0][10]"),
            (1000, "body.a[0][1000]"),
        ] {
            let mut doc = vec!["-"; 1001];
            doc[i] = attack;
            let body = serde_json::json!({ "a": [doc] }).to_string();
            assert_eq!(json_hits(&body), [(AttackCategory::Xss, name.to_owned())]);
        }
    }
}
