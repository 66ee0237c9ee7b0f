//! Critical-address classification: which client addresses must never be blocked, and the address
//! metadata attached to security events.
//!
//! It owns the built-in special-purpose ranges (private, loopback, link-local, CGNAT, unspecified,
//! "this network", multicast, reserved, documentation), the operator's extra critical networks
//! ([`CriticalIps`]) and the [`IpMetadata`] shape of an event's `ip_meta.metadata`. Classification
//! is pure bit arithmetic on the address: it must never allocate, never panic, and never decide
//! what to do with a request (that is the caller's job). IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`) are always classified as their IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::IpSet;

#[cfg(test)]
#[path = "critical_tests.rs"]
mod tests;

/// Whether `ip` is in a built-in critical range, one that a deny list or a playbook must never
/// block because it is (or is usually) infrastructure rather than a remote client:
///
/// - private: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`;
/// - loopback: `127.0.0.0/8`, `::1`;
/// - link-local: `169.254.0.0/16`, `fe80::/10`;
/// - carrier-grade NAT: `100.64.0.0/10`;
/// - unspecified: `0.0.0.0`, `::`; and "this network": `0.0.0.0/8`.
///
/// IPv4-mapped IPv6 is classified as its IPv4 address.
pub fn is_builtin_critical(ip: IpAddr) -> bool {
    let class = Class::of(ip);
    class.private
        || class.loopback
        || class.link_local
        || class.cgnat
        || class.unspecified
        || class.this_network
}

/// The critical addresses: the built-in ranges of [`is_builtin_critical`] plus the operator's
/// extra networks.
#[derive(Clone, Debug, Default)]
pub struct CriticalIps {
    extra: IpSet,
}

impl CriticalIps {
    /// The built-in ranges plus `extra`.
    pub fn new(extra: IpSet) -> Self {
        CriticalIps { extra }
    }

    /// Whether `ip` is critical: built-in, or in one of the extra networks.
    pub fn is_critical(&self, ip: IpAddr) -> bool {
        is_builtin_critical(ip) || self.extra.contains(ip)
    }

    /// The operator's extra critical networks.
    pub fn extra(&self) -> &IpSet {
        &self.extra
    }
}

/// Address metadata for security events, the shape of a Sqreen event's `ip_meta.metadata`.
///
/// IPv4-mapped IPv6 addresses are described as their IPv4 address (`version` 4).
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpMetadata {
    /// Private use: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7` (unique local).
    pub private: bool,
    /// Publicly routable: none of private, loopback, link-local, carrier-grade NAT, unspecified,
    /// reserved, multicast or documentation.
    pub global: bool,
    /// Loopback: `127.0.0.0/8`, `::1`.
    pub loopback: bool,
    /// Unspecified: `0.0.0.0`, `::`.
    pub unspecified: bool,
    /// 4 or 6.
    pub version: u8,
    /// Reserved or special-purpose and not covered by another flag. IPv4: `0.0.0.0/8` ("this
    /// network"), `192.0.0.0/24` (protocol assignments), `198.18.0.0/15` (benchmarking),
    /// `240.0.0.0/4` (future use, with the broadcast address). IPv6: everything outside the
    /// allocated blocks `2000::/3`, `fc00::/7`, `fe80::/10` and `ff00::/8`, except `::` and `::1`
    /// (so `64:ff9b::/96`, `100::/64` and the deprecated site-local `fec0::/10` are reserved).
    pub reserved: bool,
    /// Multicast: `224.0.0.0/4`, `ff00::/8`.
    pub multicast: bool,
}

/// The metadata of `ip` (see [`IpMetadata`] for each flag's ranges).
pub fn ip_metadata(ip: IpAddr) -> IpMetadata {
    let class = Class::of(ip);
    IpMetadata {
        private: class.private,
        global: !(class.private
            || class.loopback
            || class.link_local
            || class.cgnat
            || class.unspecified
            || class.reserved
            || class.multicast
            || class.documentation),
        loopback: class.loopback,
        unspecified: class.unspecified,
        version: class.version,
        reserved: class.reserved,
        multicast: class.multicast,
    }
}

/// Every range flag of one (canonical) address.
struct Class {
    version: u8,
    private: bool,
    loopback: bool,
    link_local: bool,
    cgnat: bool,
    unspecified: bool,
    this_network: bool,
    reserved: bool,
    multicast: bool,
    documentation: bool,
}

/// Whether `addr` is in `net/len` (IPv4, `len` at most 32).
fn in_v4(addr: u32, net: [u8; 4], len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32u32.saturating_sub(len)).unwrap_or(0);
    addr & mask == u32::from(Ipv4Addr::from(net)) & mask
}

/// Whether `addr` is in `net/len` (IPv6, `len` at most 128).
fn in_v6(addr: u128, net: [u16; 8], len: u32) -> bool {
    let mask = u128::MAX
        .checked_shl(128u32.saturating_sub(len))
        .unwrap_or(0);
    addr & mask == u128::from(Ipv6Addr::from(net)) & mask
}

impl Class {
    fn of(ip: IpAddr) -> Class {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Class::of_v4(u32::from(v4)),
            IpAddr::V6(v6) => Class::of_v6(u128::from(v6)),
        }
    }

    fn of_v4(a: u32) -> Class {
        Class {
            version: 4,
            private: in_v4(a, [10, 0, 0, 0], 8)
                || in_v4(a, [172, 16, 0, 0], 12)
                || in_v4(a, [192, 168, 0, 0], 16),
            loopback: in_v4(a, [127, 0, 0, 0], 8),
            link_local: in_v4(a, [169, 254, 0, 0], 16),
            cgnat: in_v4(a, [100, 64, 0, 0], 10),
            unspecified: a == 0,
            this_network: in_v4(a, [0, 0, 0, 0], 8),
            reserved: in_v4(a, [0, 0, 0, 0], 8)
                || in_v4(a, [192, 0, 0, 0], 24)
                || in_v4(a, [198, 18, 0, 0], 15)
                || in_v4(a, [240, 0, 0, 0], 4),
            multicast: in_v4(a, [224, 0, 0, 0], 4),
            documentation: in_v4(a, [192, 0, 2, 0], 24)
                || in_v4(a, [198, 51, 100, 0], 24)
                || in_v4(a, [203, 0, 113, 0], 24),
        }
    }

    fn of_v6(a: u128) -> Class {
        let private = in_v6(a, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7);
        let loopback = a == 1;
        let link_local = in_v6(a, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10);
        let unspecified = a == 0;
        let multicast = in_v6(a, [0xff00, 0, 0, 0, 0, 0, 0, 0], 8);
        let global_unicast = in_v6(a, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3);
        Class {
            version: 6,
            private,
            loopback,
            link_local,
            cgnat: false,
            unspecified,
            this_network: false,
            reserved: !(global_unicast
                || private
                || link_local
                || multicast
                || loopback
                || unspecified),
            multicast,
            documentation: in_v6(a, [0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32)
                || in_v6(a, [0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        }
    }
}
