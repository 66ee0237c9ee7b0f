//! Unit tests of `PrefixMap` and `parse_net`: exact lookups, longest match and overlaps,
//! normalisation (host bits, IPv4-mapped IPv6), removal, and 100,000 random networks checked
//! against a naive linear model with a fixed seed. Tests only; never part of the build proper.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn net(s: &str) -> IpNet {
    parse_net(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn map_of(entries: &[(&str, u32)]) -> PrefixMap<u32> {
    entries.iter().map(|&(n, v)| (net(n), v)).collect()
}

fn matched(map: &PrefixMap<u32>, addr: &str) -> Vec<(String, u32)> {
    map.matches(ip(addr))
        .map(|(n, v)| (n.to_string(), *v))
        .collect()
}

#[test]
fn empty_map_matches_nothing() {
    let map: PrefixMap<u32> = PrefixMap::new();
    assert!(map.is_empty());
    assert_eq!(map.len(), 0);
    assert!(!map.contains(ip("1.2.3.4")));
    assert!(!map.contains(ip("::1")));
    assert_eq!(map.longest_match(ip("10.0.0.1")), None);
    assert_eq!(map.iter().count(), 0);
}

#[test]
fn ipv4_exact_and_containment() {
    let map = map_of(&[("10.0.0.0/8", 1), ("192.168.1.7", 2)]);
    assert_eq!(map.len(), 2);
    assert_eq!(map.get(&net("10.0.0.0/8")), Some(&1));
    assert_eq!(map.get(&net("10.0.0.0/9")), None);
    assert_eq!(map.get(&net("192.168.1.7/32")), Some(&2));
    assert!(map.contains(ip("10.255.255.255")));
    assert!(!map.contains(ip("11.0.0.0")));
    assert!(map.contains(ip("192.168.1.7")));
    assert!(!map.contains(ip("192.168.1.8")));
    assert_eq!(
        map.longest_match(ip("10.1.2.3")),
        Some((net("10.0.0.0/8"), &1))
    );
}

#[test]
fn ipv6_exact_and_containment() {
    let map = map_of(&[("2001:db8::/32", 1), ("::1", 2), ("fe80::/10", 3)]);
    assert!(map.contains(ip("2001:db8:ffff::1")));
    assert!(!map.contains(ip("2001:db9::1")));
    assert!(map.contains(ip("::1")));
    assert!(!map.contains(ip("::2")));
    assert!(map.contains(ip("febf:ffff::1")));
    assert!(!map.contains(ip("fec0::1")));
    assert_eq!(map.get(&net("[2001:db8::]/32")), Some(&1));
    // Families never mix.
    assert!(!map.contains(ip("0.0.0.1")));
}

#[test]
fn longest_match_wins_and_matches_are_ordered() {
    let map = map_of(&[
        ("10.0.0.0/8", 8),
        ("10.1.0.0/16", 16),
        ("10.1.2.0/24", 24),
        ("10.1.2.3/32", 32),
        ("0.0.0.0/0", 0),
    ]);
    assert_eq!(
        matched(&map, "10.1.2.3"),
        vec![
            ("10.1.2.3/32".to_string(), 32),
            ("10.1.2.0/24".to_string(), 24),
            ("10.1.0.0/16".to_string(), 16),
            ("10.0.0.0/8".to_string(), 8),
            ("0.0.0.0/0".to_string(), 0),
        ]
    );
    assert_eq!(map.longest_match(ip("10.1.2.4")).map(|(_, v)| *v), Some(24));
    assert_eq!(map.longest_match(ip("10.1.3.4")).map(|(_, v)| *v), Some(16));
    assert_eq!(map.longest_match(ip("10.2.0.0")).map(|(_, v)| *v), Some(8));
    assert_eq!(map.longest_match(ip("11.0.0.0")).map(|(_, v)| *v), Some(0));
    // The IPv4 /0 does not contain IPv6 addresses.
    assert_eq!(map.longest_match(ip("2001:db8::1")), None);
}

#[test]
fn zero_length_prefixes() {
    let map = map_of(&[("0.0.0.0/0", 4), ("::/0", 6)]);
    assert_eq!(map.len(), 2);
    assert_eq!(
        map.longest_match(ip("255.255.255.255")).map(|(_, v)| *v),
        Some(4)
    );
    assert_eq!(map.longest_match(ip("0.0.0.0")).map(|(_, v)| *v), Some(4));
    assert_eq!(map.longest_match(ip("ffff::1")).map(|(_, v)| *v), Some(6));
    assert_eq!(map.longest_match(ip("::")).map(|(_, v)| *v), Some(6));
    // A mapped address is IPv4: the IPv4 /0 holds it, not the IPv6 one.
    assert_eq!(
        map.longest_match(ip("::ffff:8.8.8.8")).map(|(_, v)| *v),
        Some(4)
    );
}

#[test]
fn host_bits_are_truncated() {
    let mut map = PrefixMap::new();
    assert_eq!(map.insert(net("10.1.2.3/8"), 1), None);
    assert_eq!(map.insert(net("10.0.0.0/8"), 2), Some(1));
    assert_eq!(map.len(), 1);
    assert_eq!(map.get(&net("10.200.0.0/8")), Some(&2));
    assert_eq!(map.iter().next().map(|(n, _)| n), Some(net("10.0.0.0/8")));
    map.insert(net("2001:db8::1/32"), 3);
    assert_eq!(map.get(&net("2001:db8::/32")), Some(&3));
    assert_eq!(map.remove(&net("2001:db8:1::/32")), Some(3));
    assert_eq!(map.len(), 1);
}

#[test]
fn mapped_addresses_are_ipv4() {
    let mut map = PrefixMap::new();
    let mapped_net: IpNet = "::ffff:1.2.3.0/120".parse().unwrap();
    map.insert(mapped_net, 1);
    assert_eq!(map.get(&net("1.2.3.0/24")), Some(&1));
    assert!(map.contains(ip("1.2.3.99")));
    assert!(map.contains(ip("::ffff:1.2.3.99")));
    assert_eq!(
        map.longest_match(ip("::ffff:1.2.3.99")),
        Some((net("1.2.3.0/24"), &1))
    );
    let mut map = PrefixMap::new();
    map.insert(net("5.6.7.8"), 2);
    assert!(map.contains(ip("::ffff:5.6.7.8")));
    let mapped_host: IpNet = "::ffff:5.6.7.8/128".parse().unwrap();
    assert_eq!(map.get(&mapped_host), Some(&2));
    assert_eq!(map.remove(&mapped_host), Some(2));
    assert!(map.is_empty());
    // An IPv6 network shorter than /96 stays IPv6.
    let wide: IpNet = "::/64".parse().unwrap();
    map.insert(wide, 3);
    assert!(!map.contains(ip("::ffff:5.6.7.8")));
    assert!(map.contains(ip("::1")));
    // IPv4-compatible (deprecated) addresses are not folded.
    assert!(map.contains(ip("::5.6.7.8")));
}

#[test]
fn remove_and_reinsert() {
    let mut map = map_of(&[("10.0.0.0/8", 1), ("10.1.0.0/16", 2), ("::1", 3)]);
    assert_eq!(map.remove(&net("10.1.0.0/16")), Some(2));
    assert_eq!(map.remove(&net("10.1.0.0/16")), None);
    assert_eq!(map.remove(&net("10.0.0.0/9")), None);
    assert_eq!(map.len(), 2);
    assert_eq!(map.longest_match(ip("10.1.2.3")).map(|(_, v)| *v), Some(1));
    assert_eq!(map.remove(&net("::1")), Some(3));
    assert!(!map.contains(ip("::1")));
    assert!(map.v6.tables.is_empty(), "empty tables are dropped");
    map.insert(net("10.1.0.0/16"), 4);
    assert_eq!(map.longest_match(ip("10.1.2.3")).map(|(_, v)| *v), Some(4));
    map.clear();
    assert!(map.is_empty());
    assert!(!map.contains(ip("10.1.2.3")));
}

#[test]
fn clone_debug_default_and_sets() {
    let set = IpSet::from_nets([net("10.0.0.0/8"), net("::1")]);
    let copy = set.clone();
    assert_eq!(copy.len(), 2);
    assert!(copy.contains(ip("10.9.9.9")));
    let text = format!("{set:?}");
    assert!(text.contains("10.0.0.0/8"), "{text}");
    let empty: IpSet = Default::default();
    assert!(empty.is_empty());
    let collected: IpSet = vec![net("1.1.1.1")].into_iter().collect();
    assert!(collected.contains(ip("1.1.1.1")));
}

#[test]
fn parse_list_of_networks() {
    let set = IpSet::parse_list(" 10.0.0.0/8, ::1 ,, 192.168.0.0/16 ").unwrap();
    assert_eq!(set.len(), 3);
    assert!(IpSet::parse_list("").unwrap().is_empty());
    assert!(IpSet::parse_list("  ,  ").unwrap().is_empty());
    let err = IpSet::parse_list("10.0.0.0/8, nope").unwrap_err();
    assert!(err.contains("\"nope\""), "{err}");
}

#[test]
fn parse_net_accepts_the_documented_forms() {
    let cases = [
        ("1.2.3.4", "1.2.3.4/32"),
        ("1.2.3.0/24", "1.2.3.0/24"),
        ("  1.2.3.0/24\t", "1.2.3.0/24"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::ffff:1.2.3.4", "1.2.3.4/32"),
        ("::ffff:1.2.3.0/120", "1.2.3.0/24"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("[2001:db8::1]", "2001:db8::1/128"),
        ("[2001:db8::]/32", "2001:db8::/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("::/0", "::/0"),
        ("10.1.2.3/8", "10.1.2.3/8"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            parse_net(input).map(|n| n.to_string()),
            Ok(expected.to_string()),
            "{input}"
        );
    }
}

#[test]
fn parse_net_rejects_garbage() {
    let long = "1".repeat(10_000);
    let cases = [
        "",
        "   ",
        "nope",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "999.1.1.1",
        "01.2.3.4",
        "1.2.3.4/33",
        "1.2.3.4/",
        "1.2.3.4/-1",
        "1.2.3.4/+8",
        "1.2.3.4/ 8",
        "1.2.3.4/8/8",
        "1.2.3.4/0x8",
        "1.2.3.4/1000",
        "2001:db8::/129",
        "[1.2.3.4]",
        "[2001:db8::1",
        "2001:db8::1]",
        "[2001:db8::1]:443",
        "fe80::1%eth0",
        "1.2.3.4:80",
        "::ffff:1.2.3.4/97x",
        "<script>",
        "1.2.3.4 5.6.7.8",
        "é.é.é.é",
        "/8",
        "/",
        long.as_str(),
    ];
    for input in cases {
        let err = parse_net(input).expect_err(input);
        assert!(!err.is_empty());
        assert!(err.len() < 200, "short message for {input:?}: {err}");
    }
    assert!(parse_net("nope").unwrap_err().contains("\"nope\""));
}

/// The model: every entry in a vector, scanned linearly.
fn naive_matches(model: &[(IpNet, u32)], addr: IpAddr) -> Vec<(IpNet, u32)> {
    let mut found: Vec<(IpNet, u32)> = model
        .iter()
        .filter(|(n, _)| n.contains(&addr))
        .copied()
        .collect();
    found.sort_by_key(|(n, _)| std::cmp::Reverse(n.prefix_len()));
    found
}

fn random_v4(rng: &mut StdRng) -> IpNet {
    // A few first octets only, so that networks overlap often.
    let top = [10u32, 172, 192][rng.random_range(0..3)] << 24;
    let addr = top | (rng.random::<u32>() & 0x00ff_ffff);
    let len = rng.random_range(0..=32u8);
    IpNet::V4(Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc())
}

fn random_v6(rng: &mut StdRng) -> IpNet {
    let top = u128::from([0x2001u16, 0xfd00][rng.random_range(0..2)]) << 112;
    let addr = top | (rng.random::<u128>() >> 16);
    let len = rng.random_range(0..=128u8);
    IpNet::V6(Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap().trunc())
}

fn random_host_in(rng: &mut StdRng, net: IpNet) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let host = rng.random::<u32>() & !<u32 as AddrBits>::mask(n.prefix_len());
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | host))
        }
        IpNet::V6(n) => {
            let host = rng.random::<u128>() & !<u128 as AddrBits>::mask(n.prefix_len());
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | host))
        }
    }
}

#[test]
fn random_networks_agree_with_a_naive_model() {
    let mut rng = StdRng::seed_from_u64(0x5eed_1234);
    let mut map = PrefixMap::new();
    let mut exact: HashMap<IpNet, u32> = HashMap::new();
    for i in 0..100_000u32 {
        let n = if i % 3 == 0 {
            random_v6(&mut rng)
        } else {
            random_v4(&mut rng)
        };
        assert_eq!(map.insert(n, i), exact.insert(n, i), "insert {n}");
    }
    assert_eq!(map.len(), exact.len());
    assert_eq!(map.iter().count(), exact.len());
    for (n, v) in map.iter() {
        assert_eq!(exact.get(&n), Some(v));
    }
    // Remove a third of them.
    let mut nets: Vec<IpNet> = exact.keys().copied().collect();
    nets.sort();
    for n in nets.iter().step_by(3) {
        assert_eq!(map.remove(n), exact.remove(n), "remove {n}");
    }
    assert_eq!(map.len(), exact.len());
    let model: Vec<(IpNet, u32)> = exact.iter().map(|(n, v)| (*n, *v)).collect();
    for round in 0..600 {
        let addr = if round % 4 == 0 {
            if round % 8 == 0 {
                IpAddr::V4(Ipv4Addr::from(rng.random::<u32>()))
            } else {
                IpAddr::V6(Ipv6Addr::from(rng.random::<u128>()))
            }
        } else {
            let n = nets[rng.random_range(0..nets.len())];
            random_host_in(&mut rng, n)
        };
        let expected = naive_matches(&model, addr);
        let got: Vec<(IpNet, u32)> = map.matches(addr).map(|(n, v)| (n, *v)).collect();
        assert_eq!(got, expected, "matches for {addr}");
        assert_eq!(
            map.longest_match(addr).map(|(n, v)| (n, *v)),
            expected.first().copied()
        );
        assert_eq!(map.contains(addr), !expected.is_empty());
    }
}

#[test]
fn lookups_probe_one_table_per_prefix_length() {
    let mut map = PrefixMap::new();
    for i in 0..50_000u32 {
        map.insert(
            IpNet::V4(Ipv4Net::new(Ipv4Addr::from(i << 8), 24).unwrap()),
            i,
        );
    }
    assert_eq!(map.v4.tables.len(), 1);
    assert_eq!(map.longest_match(ip("0.1.0.7")).map(|(_, v)| *v), Some(256));
}

#[test]
fn hasher_spreads_aligned_keys() {
    // Keys that differ only in their high bits (masked /8 networks) must not collide.
    let state = crate::fasthash::FoldState::random();
    let mut seen = std::collections::HashSet::new();
    for top in 0..=255u32 {
        let key = top << 24;
        seen.insert(std::hash::BuildHasher::hash_one(&state, key) & 0xff);
    }
    assert!(seen.len() > 128, "low bits poorly spread: {}", seen.len());
}

#[test]
fn small_maps_answer_contains_from_their_flat_list_alike() {
    // sizes across the flat list's limit, grown and shrunk again: `contains` (the flat list
    // while small, the tables above) agrees with the naive model at every step
    let mut rng = StdRng::seed_from_u64(0x51a1_1e57);
    for _ in 0..40 {
        let mut map = PrefixMap::new();
        let mut model: Vec<(IpNet, u32)> = Vec::new();
        let target = rng.random_range(0..=2 * super::LINEAR_MAX);
        let mut ops: Vec<bool> = vec![true; target];
        ops.extend(std::iter::repeat_n(false, target));
        for (i, insert) in ops.into_iter().enumerate() {
            if insert {
                let n = if i % 3 == 0 {
                    random_v6(&mut rng)
                } else {
                    random_v4(&mut rng)
                };
                map.insert(n, i as u32);
                let key = super::normalize_net(n).trunc();
                model.retain(|(m, _)| *m != key);
                model.push((key, i as u32));
            } else if let Some((n, _)) = model.pop() {
                assert!(map.remove(&n).is_some(), "remove {n}");
            }
            for _ in 0..20 {
                let addr = if rng.random_bool(0.5) && !model.is_empty() {
                    let (n, _) = model[rng.random_range(0..model.len())];
                    random_host_in(&mut rng, n)
                } else if rng.random_bool(0.5) {
                    IpAddr::V4(Ipv4Addr::from(rng.random::<u32>()))
                } else {
                    IpAddr::V6(Ipv6Addr::from(rng.random::<u128>()))
                };
                let expected = !naive_matches(&model, addr).is_empty();
                assert_eq!(
                    map.contains(addr),
                    expected,
                    "{addr} in {} nets",
                    model.len()
                );
            }
        }
        assert!(map.is_empty());
    }
}
