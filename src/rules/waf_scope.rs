//! The rules document's `waf.exclusions` and `waf.routes`: their raw shape and validation.
//!
//! An exclusion names a scope (`path`, `method`, `inputs`; at least one) and what it turns off
//! there (`rules`, `categories`; neither means every rule); a route names a path (and maybe a
//! method) and the WAF mode for it. Every pattern is parsed here with the parser the request
//! path uses (`crate::waf::glob`), so a document that passes matches as written; errors name
//! their place (`waf.exclusions[0].inputs[1]`). This file never compiles them for lookups:
//! that is `crate::waf::exclusions`, once per document.

use serde::Deserialize;

use super::document::{Obj, WafMode};
use crate::duration::quote;
use crate::waf::glob::{rule_matches, InputGlob, PathGlob};
use crate::waf::AttackCategory;
use crate::{Error, Result};

/// Longest HTTP method accepted, in bytes.
const MAX_METHOD_LEN: usize = 32;

/// A WAF exclusion: in its scope (every scope key it states holds), the rules it names do not
/// report. See docs/rules.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafExclusion {
    /// A path pattern (`/forum/*`, `/api/**`), matched against the decoded path.
    pub path: Option<String>,
    /// An HTTP method, in capitals (`POST`).
    pub method: Option<String>,
    /// Input name patterns (`body.content`, `body.*.text`); empty: every input. Header names
    /// are lowercase.
    pub inputs: Vec<String>,
    /// Rule id patterns (`xss-*`, `sqli-union`); each matches at least one rule.
    pub rules: Vec<String>,
    /// Whole categories.
    pub categories: Vec<AttackCategory>,
}

impl WafExclusion {
    /// True when it names neither rules nor categories: every rule is off in its scope.
    pub fn excludes_everything(&self) -> bool {
        self.rules.is_empty() && self.categories.is_empty()
    }
}

/// A per-route WAF mode: requests whose path (and method, when stated) match run the WAF in
/// `mode`. The first route that matches wins. See docs/rules.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WafRoute {
    /// A path pattern, as for exclusions.
    pub path: String,
    /// An HTTP method, in capitals.
    pub method: Option<String>,
    /// The mode on this route.
    pub mode: WafMode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExclusion {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    inputs: Option<Vec<String>>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    categories: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    path: String,
    #[serde(default)]
    method: Option<String>,
    mode: String,
}

/// Validates `waf.exclusions`.
pub(super) fn exclusions(raw: Vec<Obj<RawExclusion>>) -> Result<Vec<WafExclusion>> {
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| r.0.validate(&format!("waf.exclusions[{i}]")))
        .collect()
}

/// Validates `waf.routes`.
pub(super) fn routes(raw: Vec<Obj<RawRoute>>) -> Result<Vec<WafRoute>> {
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| r.0.validate(&format!("waf.routes[{i}]")))
        .collect()
}

impl RawExclusion {
    fn validate(self, place: &str) -> Result<WafExclusion> {
        let field = |name: &str| format!("{place}.{name}");
        if self.path.is_none() && self.method.is_none() && self.inputs.is_none() {
            return Err(Error::rules(
                place,
                "an exclusion needs a scope: path, method or inputs (to turn a rule off \
                 everywhere, list it in waf.disabled_rules)",
            ));
        }
        let path = match self.path {
            Some(p) => Some(path(&p, &field("path"))?),
            None => None,
        };
        let method = match self.method {
            Some(m) => Some(method(&m, &field("method"))?),
            None => None,
        };
        let inputs = list(self.inputs, &field("inputs"), |s, at| {
            InputGlob::parse(s)
                .map(|g| g.as_str().to_owned())
                .map_err(|e| Error::rules(at, e))
        })?;
        let rules = list(self.rules, &field("rules"), |s, at| {
            if s.trim().is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::rules(
                    at,
                    format!("a rule id pattern has no spaces (got {})", quote(s)),
                ));
            }
            let known = AttackCategory::ALL
                .iter()
                .flat_map(|c| c.rules())
                .any(|r| rule_matches(s, r));
            if !known {
                return Err(Error::rules(
                    at,
                    format!(
                        "{} matches no rule of the WAF (ids look like \"sqli-union\" or \
                         \"xss-*\"; attack events name theirs in `rule`)",
                        quote(s)
                    ),
                ));
            }
            Ok(s.to_owned())
        })?;
        let categories = list(self.categories, &field("categories"), |s, at| {
            category(s).ok_or_else(|| {
                let names: Vec<&str> = AttackCategory::ALL.iter().map(|c| c.as_str()).collect();
                Error::rules(
                    at,
                    format!(
                        "unknown category {} (expected one of {})",
                        quote(s),
                        names.join(", ")
                    ),
                )
            })
        })?;
        Ok(WafExclusion {
            path,
            method,
            inputs,
            rules,
            categories,
        })
    }
}

impl RawRoute {
    fn validate(self, place: &str) -> Result<WafRoute> {
        let field = |name: &str| format!("{place}.{name}");
        Ok(WafRoute {
            path: path(&self.path, &field("path"))?,
            method: match self.method {
                Some(m) => Some(method(&m, &field("method"))?),
                None => None,
            },
            mode: self
                .mode
                .parse::<WafMode>()
                .map_err(|e| Error::rules(field("mode"), e.to_string()))?,
        })
    }
}

/// The category named `name` (`sqli`, `xss`, ...: [`AttackCategory::as_str`]).
pub(crate) fn category(name: &str) -> Option<AttackCategory> {
    AttackCategory::ALL
        .iter()
        .copied()
        .find(|c| c.as_str() == name)
}

fn path(p: &str, place: &str) -> Result<String> {
    PathGlob::parse(p)
        .map(|_| p.to_owned())
        .map_err(|e| Error::rules(place, e))
}

/// An HTTP method (a token), in capitals: `post` is read as `POST`.
fn method(m: &str, place: &str) -> Result<String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if m.is_empty() || m.len() > MAX_METHOD_LEN || !m.bytes().all(tchar) {
        return Err(Error::rules(
            place,
            format!(
                "expected an HTTP method such as \"POST\" (got {})",
                quote(m)
            ),
        ));
    }
    Ok(m.to_ascii_uppercase())
}

/// A list that, when stated, is not empty; each entry checked by `check` at its place.
fn list<T>(
    entries: Option<Vec<String>>,
    place: &str,
    check: impl Fn(&str, String) -> Result<T>,
) -> Result<Vec<T>> {
    let Some(entries) = entries else {
        return Ok(Vec::new());
    };
    if entries.is_empty() {
        return Err(Error::rules(
            place,
            "must not be empty (leave the key out instead)",
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, s)| check(s, format!("{place}[{i}]")))
        .collect()
}
