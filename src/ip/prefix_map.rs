//! `PrefixMap<V>`: a map from CIDR networks (IPv4 and IPv6) to values, with lookups whose cost does
//! not depend on how many networks it holds.
//!
//! It owns the storage of networks and their values, the normalisation of networks and addresses
//! (host bits cleared, IPv4-mapped IPv6 folded into IPv4) and the parsing of one network from text
//! ([`parse_net`]). For each address family it keeps one hash table per prefix length present,
//! longest prefix first; a lookup masks the address once per present length and probes that
//! table, so its cost is bounded by the number of distinct prefix lengths (at most 33 for IPv4 and
//! 129 for IPv6), never by the number of entries. Keys are plain integers (`u32`, `u128`) hashed
//! with a small seeded multiply-fold hasher. It must never panic on any input, and its lookup
//! path ([`PrefixMap::longest_match`], [`PrefixMap::matches`], [`PrefixMap::contains`]) must never
//! allocate. It knows nothing of HTTP, proxies or what a value means.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::fasthash::FoldState;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::BitAnd;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

#[cfg(test)]
#[path = "prefix_map_tests.rs"]
mod tests;

/// A set of networks: a [`PrefixMap`] without values.
pub type IpSet = PrefixMap<()>;

/// A map from CIDR networks to values, answering "which networks contain this address".
///
/// Networks are normalised on the way in: host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`)
/// and IPv4-mapped IPv6 networks of length 96 or more (`::ffff:1.2.3.0/120`) are stored as their
/// IPv4 network (`1.2.3.0/24`). Addresses are normalised the same way on lookup, so
/// `::ffff:1.2.3.4` is looked up as `1.2.3.4`. An IPv6 network shorter than /96 (for example
/// `::/0`) is an IPv6 network only: it does not contain IPv4 (or IPv4-mapped) addresses.
///
/// Networks yielded by [`iter`](Self::iter), [`matches`](Self::matches) and
/// [`longest_match`](Self::longest_match) are the normalised ones.
pub struct PrefixMap<V> {
    v4: Family<u32, V>,
    v6: Family<u128, V>,
    len: usize,
    hasher: FoldState,
}

impl<V> PrefixMap<V> {
    /// An empty map, with a fresh random hash seed.
    pub fn new() -> Self {
        PrefixMap {
            v4: Family::default(),
            v6: Family::default(),
            len: 0,
            hasher: FoldState::random(),
        }
    }

    /// Inserts `net` (normalised) with `value`; returns the value it replaces, if the same network
    /// was already present.
    pub fn insert(&mut self, net: IpNet, value: V) -> Option<V> {
        let old = match Key::of_net(&net) {
            Key::V4(addr, len) => self.v4.insert(addr, len, value, self.hasher),
            Key::V6(addr, len) => self.v6.insert(addr, len, value, self.hasher),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes the network `net` exactly (after normalisation) and returns its value.
    pub fn remove(&mut self, net: &IpNet) -> Option<V> {
        let old = match Key::of_net(net) {
            Key::V4(addr, len) => self.v4.remove(addr, len),
            Key::V6(addr, len) => self.v6.remove(addr, len),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// The value of the network `net` exactly (after normalisation), not of networks containing it.
    pub fn get(&self, net: &IpNet) -> Option<&V> {
        match Key::of_net(net) {
            Key::V4(addr, len) => self.v4.get(addr, len),
            Key::V6(addr, len) => self.v6.get(addr, len),
        }
    }

    /// The most specific network containing `ip`, and its value.
    pub fn longest_match(&self, ip: IpAddr) -> Option<(IpNet, &V)> {
        self.matches(ip).next()
    }

    /// Every network containing `ip`, most specific (longest prefix) first. Lazy: stopping early
    /// saves the remaining probes.
    pub fn matches(&self, ip: IpAddr) -> impl Iterator<Item = (IpNet, &V)> + '_ {
        let (v4, v6) = match canonical_bits(ip) {
            Bits::V4(addr) => (Some(addr), None),
            Bits::V6(addr) => (None, Some(addr)),
        };
        let v4 = v4.into_iter().flat_map(move |addr| self.v4.matches(addr));
        let v6 = v6.into_iter().flat_map(move |addr| self.v6.matches(addr));
        v4.chain(v6)
    }

    /// Whether some network of the map contains `ip`: one mask and one probe per prefix length
    /// present, stopping at the first hit, and nothing built for the answer.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match canonical_bits(ip) {
            Bits::V4(addr) => self.v4.contains(addr),
            Bits::V6(addr) => self.v6.contains(addr),
        }
    }

    /// The number of networks in the map.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map holds no network.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every network.
    pub fn clear(&mut self) {
        self.v4 = Family::default();
        self.v6 = Family::default();
        self.len = 0;
    }

    /// Every network and its value: IPv4 first, then IPv6; longest prefix first within a family,
    /// in no particular order within one prefix length.
    pub fn iter(&self) -> impl Iterator<Item = (IpNet, &V)> + '_ {
        self.v4.iter().chain(self.v6.iter())
    }
}

impl PrefixMap<()> {
    /// A set holding `nets` (each normalised).
    pub fn from_nets<I: IntoIterator<Item = IpNet>>(nets: I) -> Self {
        nets.into_iter().collect()
    }

    /// Parses a comma-separated list of networks (each as [`parse_net`] reads it). Blank elements
    /// are ignored, so an empty or blank string is the empty set. The error names the bad element.
    pub fn parse_list(s: &str) -> Result<Self, String> {
        let mut set = IpSet::new();
        for part in s.split(',') {
            if part.trim().is_empty() {
                continue;
            }
            set.insert(parse_net(part)?, ());
        }
        Ok(set)
    }
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> Clone for PrefixMap<V> {
    fn clone(&self) -> Self {
        PrefixMap {
            v4: self.v4.clone(),
            v6: self.v6.clone(),
            len: self.len,
            hasher: self.hasher,
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for PrefixMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> FromIterator<(IpNet, V)> for PrefixMap<V> {
    fn from_iter<I: IntoIterator<Item = (IpNet, V)>>(iter: I) -> Self {
        let mut map = PrefixMap::new();
        map.extend(iter);
        map
    }
}

impl FromIterator<IpNet> for PrefixMap<()> {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        iter.into_iter().map(|net| (net, ())).collect()
    }
}

impl<V> Extend<(IpNet, V)> for PrefixMap<V> {
    fn extend<I: IntoIterator<Item = (IpNet, V)>>(&mut self, iter: I) {
        for (net, value) in iter {
            self.insert(net, value);
        }
    }
}

/// Parses one network: `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`, `::ffff:1.2.3.4`,
/// `[2001:db8::1]` or `[2001:db8::]/32`, after trimming surrounding whitespace.
///
/// A bare address is a /32 (IPv4) or /128 (IPv6). IPv4-mapped IPv6 networks of length 96 or more
/// are returned as IPv4 (`::ffff:1.2.3.4` is `1.2.3.4/32`). Host bits are kept as written (a
/// [`PrefixMap`] clears them). Leading zeros in IPv4 octets (`010.0.0.1`, ambiguous with octal)
/// and IPv6 zone ids (`fe80::1%eth0`) are rejected. On failure, returns a short message that
/// quotes the input.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let text = s.trim();
    let bad = || format!("{} is not an IP address or CIDR network", shown(text));
    let (addr_text, len_text) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let addr = match addr_text.strip_prefix('[') {
        Some(rest) => {
            let inner = rest.strip_suffix(']').ok_or_else(bad)?;
            IpAddr::V6(inner.parse::<Ipv6Addr>().map_err(|_| bad())?)
        }
        None => addr_text.parse::<IpAddr>().map_err(|_| bad())?,
    };
    let max = match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let len = match len_text {
        None => max,
        Some(len) => {
            let digits_only =
                !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit());
            match len.parse::<u8>() {
                Ok(n) if digits_only && n <= max => n,
                _ => {
                    return Err(format!(
                        "{}: prefix length must be a number from 0 to {max}",
                        shown(text)
                    ))
                }
            }
        }
    };
    let net = IpNet::new(addr, len).map_err(|_| bad())?;
    Ok(normalize_net(net))
}

/// Folds an IPv4-mapped IPv6 network of length 96 or more into its IPv4 network; any other
/// network is returned unchanged. Host bits are kept.
pub(crate) fn normalize_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let (Some(v4), Some(len)) = (v6.addr().to_ipv4_mapped(), v6.prefix_len().checked_sub(96))
        {
            if let Ok(v4) = Ipv4Net::new(v4, len) {
                return IpNet::V4(v4);
            }
        }
    }
    net
}

/// The input as quoted in an error message: at most 64 characters, cut on a character boundary.
fn shown(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// A normalised network as integer bits and prefix length (host bits cleared).
enum Key {
    V4(u32, u8),
    V6(u128, u8),
}

impl Key {
    fn of_net(net: &IpNet) -> Key {
        match normalize_net(*net) {
            IpNet::V4(n) => {
                let len = n.prefix_len();
                Key::V4(u32::from(n.addr()) & <u32 as AddrBits>::mask(len), len)
            }
            IpNet::V6(n) => {
                let len = n.prefix_len();
                Key::V6(u128::from(n.addr()) & <u128 as AddrBits>::mask(len), len)
            }
        }
    }
}

/// A normalised address as integer bits.
enum Bits {
    V4(u32),
    V6(u128),
}

fn canonical_bits(ip: IpAddr) -> Bits {
    match ip.to_canonical() {
        IpAddr::V4(a) => Bits::V4(u32::from(a)),
        IpAddr::V6(a) => Bits::V6(u128::from(a)),
    }
}

/// The integer form of one address family.
trait AddrBits: Copy + Eq + Hash + BitAnd<Output = Self> {
    /// The mask keeping the first `len` bits (all bits past the width: `len` is clamped).
    fn mask(len: u8) -> Self;
    /// The network of these bits and this prefix length (`None` only if `len` is too long).
    fn net(self, len: u8) -> Option<IpNet>;
}

impl AddrBits for u32 {
    fn mask(len: u8) -> u32 {
        u32::MAX
            .checked_shl(32u32.saturating_sub(u32::from(len)))
            .unwrap_or(0)
    }

    fn net(self, len: u8) -> Option<IpNet> {
        Ipv4Net::new(Ipv4Addr::from(self), len).ok().map(IpNet::V4)
    }
}

impl AddrBits for u128 {
    fn mask(len: u8) -> u128 {
        u128::MAX
            .checked_shl(128u32.saturating_sub(u32::from(len)))
            .unwrap_or(0)
    }

    fn net(self, len: u8) -> Option<IpNet> {
        Ipv6Net::new(Ipv6Addr::from(self), len).ok().map(IpNet::V6)
    }
}

/// The networks of one prefix length: masked address bits to value.
#[derive(Clone)]
struct Table<K, V> {
    len: u8,
    mask: K,
    map: HashMap<K, V, FoldState>,
}

/// The tables of one address family, longest prefix first; empty tables are dropped.
///
/// A family of at most [`LINEAR_MAX`] networks also keeps them in a flat list, which
/// [`Family::contains`] scans instead of probing the tables: the trusted proxies, critical IPs
/// and pass lists are a handful of networks of several lengths, and comparing a few masked
/// integers costs less than hashing once per length. Only whether some network contains an
/// address is answered from the list; which network, from the tables.
#[derive(Clone)]
struct Family<K, V> {
    tables: Vec<Table<K, V>>,
    /// `(mask, network bits)` of every network while there are at most [`LINEAR_MAX`];
    /// `None` above.
    linear: Option<Vec<(K, K)>>,
}

/// Most networks a family keeps in its flat list.
const LINEAR_MAX: usize = 16;

impl<K, V> Default for Family<K, V> {
    fn default() -> Self {
        Family {
            tables: Vec::new(),
            linear: Some(Vec::new()),
        }
    }
}

impl<K: AddrBits, V> Family<K, V> {
    /// Where the table of `len` is (`Ok`) or would go (`Err`), keeping longest first.
    fn position(&self, len: u8) -> Result<usize, usize> {
        self.tables
            .binary_search_by(|table| table.len.cmp(&len).reverse())
    }

    fn insert(&mut self, key: K, len: u8, value: V, hasher: FoldState) -> Option<V> {
        let index = match self.position(len) {
            Ok(index) => index,
            Err(index) => {
                let table = Table {
                    len,
                    mask: K::mask(len),
                    map: HashMap::with_hasher(hasher),
                };
                self.tables.insert(index, table);
                index
            }
        };
        let old = self
            .tables
            .get_mut(index)
            .and_then(|table| table.map.insert(key, value));
        if old.is_none() {
            self.relist();
        }
        old
    }

    /// Rebuilds the flat list after the set of networks changed (see [`Family`]).
    fn relist(&mut self) {
        let count: usize = self.tables.iter().map(|t| t.map.len()).sum();
        self.linear = (count <= LINEAR_MAX).then(|| {
            self.tables
                .iter()
                .flat_map(|t| t.map.keys().map(|&key| (t.mask, key)))
                .collect()
        });
    }

    fn remove(&mut self, key: K, len: u8) -> Option<V> {
        let index = self.position(len).ok()?;
        let table = self.tables.get_mut(index)?;
        let old = table.map.remove(&key);
        if table.map.is_empty() {
            self.tables.remove(index);
        }
        if old.is_some() {
            self.relist();
        }
        old
    }

    fn get(&self, key: K, len: u8) -> Option<&V> {
        let index = self.position(len).ok()?;
        self.tables.get(index)?.map.get(&key)
    }

    /// The networks containing `addr`, longest prefix first: one mask and one probe per table.
    fn matches(&self, addr: K) -> impl Iterator<Item = (IpNet, &V)> + '_ {
        self.tables.iter().filter_map(move |table| {
            let key = addr & table.mask;
            let value = table.map.get(&key)?;
            Some((key.net(table.len)?, value))
        })
    }

    fn contains(&self, addr: K) -> bool {
        match &self.linear {
            Some(nets) => nets.iter().any(|&(mask, key)| addr & mask == key),
            None => self
                .tables
                .iter()
                .any(|table| table.map.contains_key(&(addr & table.mask))),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (IpNet, &V)> + '_ {
        self.tables.iter().flat_map(|table| {
            table
                .map
                .iter()
                .filter_map(move |(key, value)| Some((key.net(table.len)?, value)))
        })
    }
}
