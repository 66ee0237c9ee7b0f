//! Unit tests of critical-address classification and event metadata: every built-in range in
//! IPv4 and IPv6, their boundaries, IPv4-mapped addresses, and the operator's extra networks.
//! Tests only; never part of the build proper.

use super::*;
use crate::ip::parse_net;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn builtin_ranges_are_critical() {
    let critical = [
        // private
        "10.0.0.0",
        "10.255.255.255",
        "172.16.0.0",
        "172.31.255.255",
        "192.168.0.0",
        "192.168.255.255",
        "fc00::",
        "fd12:3456::1",
        "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        // loopback
        "127.0.0.1",
        "127.255.255.255",
        "::1",
        // link-local
        "169.254.0.0",
        "169.254.255.255",
        "fe80::1",
        "febf:ffff::1",
        // CGNAT
        "100.64.0.0",
        "100.127.255.255",
        // unspecified and "this network"
        "0.0.0.0",
        "0.1.2.3",
        "0.255.255.255",
        "::",
        // IPv4-mapped forms
        "::ffff:10.1.2.3",
        "::ffff:127.0.0.1",
        "::ffff:100.64.0.1",
        "::ffff:0.0.0.0",
    ];
    for addr in critical {
        assert!(is_builtin_critical(ip(addr)), "{addr} should be critical");
    }
}

#[test]
fn boundaries_and_public_addresses_are_not_critical() {
    let not_critical = [
        "9.255.255.255",
        "11.0.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.167.255.255",
        "192.169.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "1.0.0.0",
        "8.8.8.8",
        "203.0.113.9",
        "255.255.255.255",
        "224.0.0.1",
        "2001:db8::1",
        "2606:4700:4700::1111",
        "fbff:ffff::1",
        "fe00::1",
        "fec0::1",
        "::2",
        "ff02::1",
        "::ffff:8.8.8.8",
    ];
    for addr in not_critical {
        assert!(
            !is_builtin_critical(ip(addr)),
            "{addr} should not be critical"
        );
    }
}

#[test]
fn extra_networks_are_critical() {
    let extra = IpSet::from_nets([
        parse_net("203.0.113.0/24").unwrap(),
        parse_net("2001:db8::/32").unwrap(),
    ]);
    let critical = CriticalIps::new(extra);
    assert!(critical.is_critical(ip("203.0.113.9")));
    assert!(critical.is_critical(ip("::ffff:203.0.113.9")));
    assert!(critical.is_critical(ip("2001:db8::1")));
    assert!(
        critical.is_critical(ip("10.0.0.1")),
        "built-ins still apply"
    );
    assert!(!critical.is_critical(ip("203.0.114.1")));
    assert!(!critical.is_critical(ip("8.8.8.8")));
    assert_eq!(critical.extra().len(), 2);
    let default = CriticalIps::default();
    assert!(default.is_critical(ip("127.0.0.1")));
    assert!(!default.is_critical(ip("203.0.113.9")));
}

fn meta(s: &str) -> IpMetadata {
    ip_metadata(ip(s))
}

#[test]
fn metadata_flags() {
    let public = meta("8.8.8.8");
    assert_eq!(
        public,
        IpMetadata {
            private: false,
            global: true,
            loopback: false,
            unspecified: false,
            version: 4,
            reserved: false,
            multicast: false,
        }
    );
    let private = meta("192.168.1.1");
    assert!(private.private && !private.global);
    let loopback = meta("::1");
    assert!(loopback.loopback && !loopback.global && !loopback.reserved);
    assert_eq!(loopback.version, 6);
    let unspecified = meta("0.0.0.0");
    assert!(unspecified.unspecified && unspecified.reserved && !unspecified.global);
    let unspecified6 = meta("::");
    assert!(unspecified6.unspecified && !unspecified6.reserved && !unspecified6.global);
    assert!(meta("255.255.255.255").reserved);
    assert!(meta("240.0.0.1").reserved);
    assert!(meta("198.18.0.1").reserved);
    assert!(meta("192.0.0.8").reserved);
    assert!(meta("224.0.0.1").multicast && !meta("224.0.0.1").global);
    assert!(meta("ff02::1").multicast && !meta("ff02::1").reserved);
    assert!(!meta("100.64.0.1").global, "CGNAT is not global");
    assert!(!meta("169.254.1.1").global, "link-local is not global");
    assert!(!meta("fe80::1").global && !meta("fe80::1").reserved);
    assert!(!meta("203.0.113.1").global, "documentation is not global");
    assert!(!meta("2001:db8::1").global, "documentation is not global");
    assert!(meta("fd00::1").private);
    assert!(meta("fec0::1").reserved);
    assert!(meta("64:ff9b::1.2.3.4").reserved);
    let google6 = meta("2001:4860:4860::8888");
    assert!(google6.global && !google6.reserved && google6.version == 6);
    let mapped = meta("::ffff:8.8.8.8");
    assert_eq!(mapped, public, "mapped addresses are described as IPv4");
}

#[test]
fn metadata_serialises_with_event_field_names() {
    let json = serde_json::to_value(meta("10.0.0.1")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "private": true,
            "global": false,
            "loopback": false,
            "unspecified": false,
            "version": 4,
            "reserved": false,
            "multicast": false,
        })
    );
}
