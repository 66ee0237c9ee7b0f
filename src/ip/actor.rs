//! IPv6 clients as actors: keyed by a prefix, not by address.
//!
//! An IPv4 client holds one address; an IPv6 client is usually handed a whole `/64` (a home
//! router, a cloud VM, a phone) and can pick any of its 2^64 addresses for each request. Counted
//! per `/128`, a brute force spread over four addresses of one `/64` never reaches a threshold of
//! four, and a block on one address is left by moving to the next. So playbook counters, the
//! actors they fire on and the runtime actions on IPv6 addresses use the address's prefix of
//! [`DEFAULT_PREFIX`] bits (`SQREEN_IPV6_ACTOR_PREFIX`, or the rules document's
//! `ipv6_actor_prefix`), while deny and pass lists and events keep the full address.
//!
//! The cost: every client of one `/64` shares its counts and its blocks. That is one subscriber
//! or one host almost everywhere; where a provider puts many users in one `/64` (some mobile
//! carriers, shared hosting), set a longer prefix, up to `128` (per address, as for IPv4).

use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};

/// The default IPv6 actor prefix length: one subscriber's or one host's network.
pub const DEFAULT_PREFIX: u8 = 64;

/// The shortest prefix accepted: a provider's allocation (any shorter would lump providers).
pub const MIN_PREFIX: u8 = 32;

/// Checks a configured prefix length: `MIN_PREFIX..=128`.
pub(crate) fn check_prefix(n: u64) -> Result<u8, String> {
    match u8::try_from(n) {
        Ok(p) if (MIN_PREFIX..=128).contains(&p) => Ok(p),
        _ => Err(format!(
            "expected a prefix length from {MIN_PREFIX} to 128 (got {n})"
        )),
    }
}

/// The address an actor is keyed by: an IPv4 address (also when written IPv4-mapped,
/// `::ffff:192.0.2.1`) as it is, an IPv6 address cut to its first `prefix` bits.
pub fn actor_ip(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(truncate(v6, prefix)),
        },
    }
}

/// The network an actor stands for: `/32` for IPv4, the `prefix` network for IPv6.
pub fn actor_net(ip: IpAddr, prefix: u8) -> IpNet {
    match actor_ip(ip, prefix) {
        IpAddr::V4(v4) => IpNet::from(IpAddr::V4(v4)),
        IpAddr::V6(v6) => Ipv6Net::new(v6, prefix.min(128))
            .map(IpNet::V6)
            .unwrap_or_else(|_| IpNet::from(IpAddr::V6(v6))),
    }
}

/// `net` widened to at least the actor prefix when it is an IPv6 network narrower than it (a
/// runtime action on one address covers the address's actor network); other networks as given.
pub fn widen(net: IpNet, prefix: u8) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() > prefix && v6.addr().to_ipv4_mapped().is_none() => {
            actor_net(IpAddr::V6(v6.addr()), prefix)
        }
        _ => net.trunc(),
    }
}

fn truncate(v6: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let bits = u128::from(v6);
    let mask = match prefix {
        0 => 0,
        p if p >= 128 => u128::MAX,
        p => u128::MAX << (128 - u32::from(p)),
    };
    Ipv6Addr::from(bits & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_of_one_prefix_are_one_actor() {
        let a = actor_ip(ip("2001:db8:1:2:aaaa::1"), 64);
        for other in [
            "2001:db8:1:2::1",
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
            "2001:db8:1:2::",
        ] {
            assert_eq!(actor_ip(ip(other), 64), a, "{other}");
        }
        assert_ne!(actor_ip(ip("2001:db8:1:3::1"), 64), a);
        assert_eq!(a, ip("2001:db8:1:2::"));
        assert_eq!(
            actor_net(ip("2001:db8:1:2::9"), 64).to_string(),
            "2001:db8:1:2::/64"
        );
        // per address at 128, and the widest a provider's allocation
        assert_eq!(actor_ip(ip("2001:db8::9"), 128), ip("2001:db8::9"));
        assert_eq!(actor_ip(ip("2001:db8:ffff::9"), 32), ip("2001:db8::"));
    }

    #[test]
    fn ipv4_is_per_address_also_when_mapped() {
        assert_eq!(actor_ip(ip("192.0.2.1"), 64), ip("192.0.2.1"));
        assert_eq!(actor_ip(ip("::ffff:192.0.2.1"), 64), ip("192.0.2.1"));
        assert_ne!(actor_ip(ip("::ffff:192.0.2.2"), 64), ip("192.0.2.1"));
        assert_eq!(actor_net(ip("192.0.2.1"), 64).to_string(), "192.0.2.1/32");
    }

    #[test]
    fn narrower_ipv6_networks_are_widened_to_the_prefix() {
        let w = |s: &str| widen(s.parse().unwrap(), 64).to_string();
        assert_eq!(w("2001:db8:1:2::5/128"), "2001:db8:1:2::/64");
        assert_eq!(w("2001:db8:1:2::5/96"), "2001:db8:1:2::/64");
        assert_eq!(w("2001:db8::/48"), "2001:db8::/48");
        assert_eq!(w("192.0.2.7/32"), "192.0.2.7/32");
        assert_eq!(w("192.0.2.0/24"), "192.0.2.0/24");
    }

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(check_prefix(64), Ok(64));
        assert_eq!(check_prefix(32), Ok(32));
        assert_eq!(check_prefix(128), Ok(128));
        for bad in [0, 31, 129, 256, u64::MAX] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
