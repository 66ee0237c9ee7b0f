//! A small MaxMind DB writer for the tests: a few networks and their records in the format the
//! GeoIP2/GeoLite2, DB-IP and IPinfo databases use (an IPv6 search tree of 24-bit records,
//! IPv4 networks under `::/96`, a data section, the metadata map), written by the tests
//! themselves so no third-party database (and its licence) is shipped.
#![allow(dead_code)]

use std::net::IpAddr;

/// A value of the data section.
#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

/// `{"key": value, ...}`.
pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub fn s(v: &str) -> Value {
    Value::Str(v.to_owned())
}

/// A GeoIP2 City record: country code, English city name, latitude and longitude.
pub fn city(code: &str, name: &str, lat: f64, lon: f64) -> Value {
    map(&[
        (
            "country",
            map(&[("iso_code", s(code)), ("names", map(&[("en", s(code))]))]),
        ),
        ("city", map(&[("names", map(&[("en", s(name))]))])),
        (
            "location",
            map(&[
                ("latitude", Value::Double(lat)),
                ("longitude", Value::Double(lon)),
            ]),
        ),
        ("autonomous_system_number", Value::U32(64_500)),
    ])
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec())
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Appends `v` in the data section's encoding.
pub fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        Value::Double(d) => {
            control(out, 3, 8);
            out.extend(d.to_be_bytes());
        }
        Value::U16(n) => {
            let b = n.to_be_bytes();
            let m = minimal(&b);
            control(out, 5, m.len());
            out.extend(m);
        }
        Value::U32(n) => {
            let b = n.to_be_bytes();
            let m = minimal(&b);
            control(out, 6, m.len());
            out.extend(m);
        }
        Value::U64(n) => {
            let b = n.to_be_bytes();
            let m = minimal(&b);
            control(out, 9, m.len());
            out.extend(m);
        }
        Value::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode(out, &Value::Str(k.clone()));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for item in items {
                encode(out, item);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// The bytes of a database holding `networks` (`"1.2.3.0/24"`, `"2001:db8::/32"`), each with
/// its record.
pub fn database(database_type: &str, networks: &[(&str, Value)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    for (net, value) in networks {
        let (addr, len) = net.split_once('/').unwrap();
        let (key, prefix): (u128, usize) = match addr.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => (
                u128::from(u32::from(v4)),
                96 + len.parse::<usize>().unwrap(),
            ),
            IpAddr::V6(v6) => (u128::from(v6), len.parse().unwrap()),
        };
        let offset = data.len();
        encode(&mut data, value);
        let mut node = 0;
        for depth in 0..prefix {
            let bit = ((key >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix {
                nodes[node][bit] = Record::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(n) => n,
                    _ => {
                        nodes.push([Record::Empty; 2]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Record::Node(n);
                        n
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => count,
                Record::Node(n) => n,
                Record::Data(offset) => count + 16 + offset,
            };
            out.extend(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    let metadata = map(&[
        ("binary_format_major_version", Value::U16(2)),
        ("binary_format_minor_version", Value::U16(0)),
        ("build_epoch", Value::U64(1_795_392_000)),
        ("database_type", s(database_type)),
        ("description", map(&[("en", s("sqreen test database"))])),
        ("ip_version", Value::U16(6)),
        ("languages", Value::Array(vec![s("en")])),
        ("node_count", Value::U32(count as u32)),
        ("record_size", Value::U16(24)),
    ]);
    encode(&mut out, &metadata);
    out
}
