//! [`Rid`] and [`UserKeys`]: plain values the events and lists use too, apart from the request
//! context so that they do not depend on the agent.

use std::collections::BTreeMap;
use std::fmt;

/// A request id: 128 random bits, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rid(pub(crate) u128);

impl Rid {
    /// A fresh random id.
    pub(crate) fn random() -> Self {
        Rid(rand::random())
    }

    /// The id as a number.
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rid({self})")
    }
}

/// The keys that identify a user, e.g. `{"email": "alice@example.com"}`.
///
/// Keys are kept sorted, so the same keys given in any order make the same user. The user's
/// canonical id ([`UserKeys::id`]) is the value of the only key when there is one, else
/// `key=value` pairs joined by `&` in key order. A user list entry matches a user when it equals
/// the canonical id or the value of any key.
///
/// ```
/// use sqreen::UserKeys;
/// let alice = UserKeys::new().with("email", "alice@example.com");
/// assert_eq!(alice.id(), "alice@example.com");
/// let bob = UserKeys::new().with("org", "acme").with("id", "42");
/// assert_eq!(bob.id(), "id=42&org=acme");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserKeys {
    keys: BTreeMap<String, String>,
    /// Named by credentials nobody verified (HTTP Basic, a bearer JWT read without its
    /// signature): counted and blockable, never granted a pass list's trust.
    claimed: bool,
}

impl UserKeys {
    /// No keys yet.
    pub fn new() -> Self {
        UserKeys::default()
    }

    /// Adds (or replaces) a key. Keys and values are trimmed; an empty key or value is ignored.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        let (key, value) = (key.trim(), value.trim());
        if !key.is_empty() && !value.is_empty() {
            self.keys.insert(key.to_owned(), value.to_owned());
        }
        self
    }

    /// These keys as a claim: read from credentials the app did not verify.
    pub(crate) fn claimed(mut self) -> Self {
        self.claimed = true;
        self
    }

    /// True when the keys come from credentials nobody verified (automatic user monitoring's
    /// HTTP Basic username or unverified JWT claim): such a user is counted and can be blocked,
    /// but a user pass list never applies to it.
    pub fn is_claimed(&self) -> bool {
        self.claimed
    }

    /// True when no key was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(String::as_str)
    }

    /// The canonical id of the user (see the type's docs).
    pub fn id(&self) -> String {
        self.id_cow().into_owned()
    }

    /// The canonical id, borrowed when the user has a single key.
    pub(crate) fn id_cow(&self) -> std::borrow::Cow<'_, str> {
        if self.keys.len() == 1 {
            if let Some(v) = self.keys.values().next() {
                return std::borrow::Cow::Borrowed(v);
            }
        }
        let mut id = String::new();
        for (i, (k, v)) in self.keys.iter().enumerate() {
            if i > 0 {
                id.push('&');
            }
            id.push_str(k);
            id.push('=');
            id.push_str(v);
        }
        std::borrow::Cow::Owned(id)
    }

    /// The strings a user list entry is compared with: the canonical id, then every value.
    pub(crate) fn match_candidates(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        let id = (self.keys.len() != 1).then(|| std::borrow::Cow::Owned(self.id()));
        id.into_iter().chain(
            self.keys
                .values()
                .map(|v| std::borrow::Cow::Borrowed(v.as_str())),
        )
    }
}
