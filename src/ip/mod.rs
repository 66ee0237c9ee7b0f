//! Client addresses: who a request comes from, whether that address is critical, and fast
//! network lookups for both.
//!
//! This module owns everything about IP addresses and networks, in three parts:
//!
//! - [`PrefixMap`] (and [`IpSet`], [`parse_net`]): a map from CIDR networks to values whose
//!   lookup cost does not depend on its size, used for trusted proxies, deny and pass lists and
//!   critical networks.
//! - [`ClientIpResolver`]: the client address of a request from its peer and headers, believing
//!   forwarding headers only from trusted proxies so that clients cannot spoof their address.
//! - [`CriticalIps`], [`is_builtin_critical`], [`ip_metadata`]: which addresses must never be
//!   blocked (private, loopback, link-local, ...), and the address metadata of security events.
//!
//! None of it decides what to do with a request, reads the environment, or panics on any input;
//! lookups and header parsing do not allocate.

pub mod actor;
mod critical;
pub(crate) mod prefix_map;
mod resolver;

pub use critical::{ip_metadata, is_builtin_critical, CriticalIps, IpMetadata};
pub use prefix_map::{parse_net, IpSet, PrefixMap};
pub use resolver::ClientIpResolver;
