//! The formats of the IP list files, parsed strictly: a line that is not understood is an error
//! naming the line, so a truncated or wrong file is never half-used. Pure functions, no I/O.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::ip::IpSet;

/// The largest list file read (64 MiB): a file over it is an error, not a partial list.
pub const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// The most characters of a bad line shown in an error.
const SHOWN_CHARS: usize = 60;

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
