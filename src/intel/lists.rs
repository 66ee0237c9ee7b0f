//! The formats of the IP list files, parsed strictly: a line that is not understood is an error
//! naming the line, so a truncated or wrong file is never half-used. Pure functions, no I/O.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::ip::{parse_net, IpSet, PrefixMap};

/// The largest list file read (64 MiB): a file over it is an error, not a partial list.
pub const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// The most characters of a bad line shown in an error.
const SHOWN_CHARS: usize = 60;

/// The longest provider name.
pub const MAX_PROVIDER_CHARS: usize = 64;

/// Datacenter ranges: the networks and, for each, its provider's name if the file gives one.
pub type DatacenterRanges = PrefixMap<Option<Arc<str>>>;

/// A Tor bulk exit list: one IPv4 or IPv6 address a line; blank lines and `#` comments (whole
/// lines or after the address) are skipped. An empty list is valid.
pub fn parse_tor_exit_list(text: &str) -> Result<IpSet, String> {
    let mut set = IpSet::new();
    for (n, line) in text.lines().enumerate() {
        let item = line.split('#').next().unwrap_or("").trim();
        if item.is_empty() {
            continue;
        }
        let ip: IpAddr = item
            .parse()
            .map_err(|_| format!("line {}: {} is not an IP address", n + 1, shown(item)))?;
        set.insert(IpNet::from(ip), ());
    }
    Ok(set)
}

/// Datacenter ranges: one CIDR (or address) a line, optionally followed by whitespace and the
/// provider's name (1 to 64 printable characters, spaces allowed: `aws`, `Google Cloud`);
/// blank lines and `#` comments skipped. One provider's name is stored once, however many
/// ranges it has. Where ranges overlap, the longest prefix wins at lookup. An empty list is
/// valid.
pub fn parse_datacenter_ranges(text: &str) -> Result<DatacenterRanges, String> {
    let mut map = DatacenterRanges::new();
    let mut names: Vec<Arc<str>> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let item = line.split('#').next().unwrap_or("").trim();
        if item.is_empty() {
            continue;
        }
        let at = |reason: String| format!("line {}: {reason}", n + 1);
        let (net, provider) = match item.split_once(char::is_whitespace) {
            Some((net, provider)) => (net, Some(provider.trim())),
            None => (item, None),
        };
        let net = parse_net(net).map_err(|_| at(format!("{} is not a CIDR", shown(net))))?;
        let provider = match provider {
            None => None,
            Some(p) if p.chars().count() > MAX_PROVIDER_CHARS => {
                return Err(at(format!(
                    "the provider name is longer than {MAX_PROVIDER_CHARS} characters"
                )))
            }
            Some(p) if p.chars().any(char::is_control) => {
                return Err(at("the provider name has control characters".to_owned()))
            }
            Some(p) => Some(match names.iter().find(|name| ***name == *p) {
                Some(name) => name.clone(),
                None => {
                    let name: Arc<str> = Arc::from(p);
                    names.push(name.clone());
                    name
                }
            }),
        };
        map.insert(net, provider);
    }
    Ok(map)
}

fn shown(item: &str) -> String {
    let cut: String = item.chars().take(SHOWN_CHARS).collect();
    if cut.len() < item.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_exit_list_parses() {
        let set = parse_tor_exit_list(
            "# exit list\n\n185.220.101.1\n  185.220.101.2  # a relay\r\n2001:db8::7\n",
        )
        .unwrap();
        assert_eq!(set.len(), 3);
        assert!(set.contains("185.220.101.2".parse().unwrap()));
        assert!(set.contains("2001:db8::7".parse().unwrap()));
        // an IPv4-mapped address is the IPv4 one
        assert!(set.contains("::ffff:185.220.101.1".parse().unwrap()));
        assert!(!set.contains("185.220.101.3".parse().unwrap()));
        assert!(parse_tor_exit_list("").unwrap().is_empty());
        assert!(parse_tor_exit_list("# nothing yet\n").unwrap().is_empty());
    }

    #[test]
    fn datacenter_ranges_parse_with_optional_providers() {
        let map = parse_datacenter_ranges(
            "# clouds\n3.5.140.0/22 aws\n34.80.0.0/15\tGoogle Cloud  # gcp\n  2600:1f00::/24 aws\n\
             198.51.100.7\n3.5.141.0/24 aws-eu\n",
        )
        .unwrap();
        assert_eq!(map.len(), 5);
        let provider = |ip: &str| {
            map.longest_match(ip.parse().unwrap())
                .map(|(_, p)| p.as_deref().map(str::to_owned))
        };
        assert_eq!(provider("3.5.140.9"), Some(Some("aws".to_owned())));
        assert_eq!(
            provider("3.5.141.9"),
            Some(Some("aws-eu".to_owned())),
            "longest wins"
        );
        assert_eq!(provider("34.81.1.1"), Some(Some("Google Cloud".to_owned())));
        assert_eq!(provider("2600:1f00::1"), Some(Some("aws".to_owned())));
        assert_eq!(provider("198.51.100.7"), Some(None));
        assert_eq!(provider("192.0.2.1"), None);
        assert!(parse_datacenter_ranges("\n# none\n").unwrap().is_empty());
    }

    #[test]
    fn a_bad_range_line_is_an_error_naming_it() {
        let long = format!("3.5.140.0/22 {}\n", "p".repeat(65));
        for (text, line) in [
            ("3.5.140.0/22 aws\n3.5.140.0/33 aws\n", 2),
            ("nonsense\n", 1),
            (long.as_str(), 1),
            ("1.2.3.0/24 a\u{7}b\n", 1),
        ] {
            let e = parse_datacenter_ranges(text).unwrap_err();
            assert!(e.starts_with(&format!("line {line}: ")), "{e}");
        }
    }

    #[test]
    fn a_line_that_is_not_an_address_is_an_error_naming_it() {
        for (text, line) in [
            ("185.220.101.1\nnot-an-ip\n", 2),
            ("185.220.101.0/24\n", 1),
            ("1.2.3.4\n\n300.1.1.1\n", 3),
            ("ExitAddress 1.2.3.4 2026-11-23 00:00:00\n", 1),
        ] {
            let e = parse_tor_exit_list(text).unwrap_err();
            assert!(e.starts_with(&format!("line {line}: ")), "{e}");
        }
        let e = parse_tor_exit_list(&"x".repeat(10_000)).unwrap_err();
        assert!(e.len() < 120, "{e}");
    }
}
