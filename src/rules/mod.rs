//! Rules documents: the JSON an operator writes to set playbooks, deny/pass lists and WAF
//! settings while the service runs.
//!
//! This module owns the document format and its validation (in [`document`]), the tests that
//! pin both down, the rules in force compiled for lookups (`active`), the file watcher
//! (`watcher`), and the rules URL: its settings and signature ([`remote`]), its poller
//! (`poller`) and its disk cache (`cache`). Parsing never swaps rules into the running agent or merges them with the
//! environment: a [`WafSettings::mode`] of `None` means "not stated here", and the caller then
//! keeps the environment's value. It must never yield a partly valid document (an
//! invalid one is rejected whole, so the previous rules stay in force) and never panic on input.
//!
//! ```json
//! {
//!   "version": "2026-11-23.1",
//!   "playbooks": [ { "id": "free-plan-abuse", "name": "Free plan abuse", "enabled": true,
//!       "trigger": { "event": "user.invited", "threshold": 2, "period": "5m", "actor": "user" },
//!       "response": { "action": "none" },
//!       "notification": { "severity": "low", "frequency": "daily", "webhook": true } } ],
//!   "ip_denylist": ["203.0.113.0/24"], "ip_passlist": ["198.51.100.7"],
//!   "user_denylist": ["mallory@example.com"], "user_passlist": [],
//!   "redirect_passlist": ["/blocked"],
//!   "waf": { "mode": "block", "disabled_rules": [] }
//! }
//! ```
//!
//! Every top-level key is optional and unknown keys are errors at every level. Errors name their
//! place: `playbooks[0].trigger.threshold: must be at least 1`.
//!
//! Choices worth knowing: a `block` or `redirect` response must state its `duration` (`"24h"`
//! or `"permanent"`; there is no silent default), `url` is only allowed with `redirect`, and
//! `duration` not with `none`. Units and enum values are lowercase, except `waf.mode`, which
//! (like the environment variable) is case-insensitive. User entries and disabled WAF rule ids
//! are trimmed; IP entries may carry surrounding whitespace. Duplicates in lists are kept.

mod active;
mod cache;
pub mod document;
mod locate;
mod poller;
pub mod remote;
mod waf_scope;
mod watcher;

pub(crate) use active::ActiveRules;
pub use active::RulesSource;
pub use document::{
    OnBodyOverLimit, OnBudgetExceeded, Paranoia, ParseParanoiaError, ParseWafModeError,
    RaspSettings, RulesDocument, WafExclusion, WafMode, WafRoute, WafSettings, MAX_DOCUMENT_BYTES,
};
pub(crate) use poller::RulesPoller;
pub(crate) use remote::RemoteSource;
pub(crate) use watcher::{FileStamp, RulesWatcher};

#[cfg(test)]
mod tests;
