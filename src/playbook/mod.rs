//! Playbooks: "when an actor does this so often, do that and tell these people".
//!
//! This module owns the validated, engine-ready playbook types and their limits (in
//! [`model`]). It does not parse documents (see `crate::rules`), count events or carry out
//! responses; it must never hold a value that failed validation when built by the rules parser,
//! and never panic on any input.
//!
//! A playbook has a [`Trigger`] (an [`EventPattern`], a threshold, a period and an
//! [`ActorKind`]), a [`ResponseAction`] (none, block or redirect, each timed by a
//! [`Lifetime`](crate::duration::Lifetime)) and a [`Notification`].

pub mod model;

pub use model::{
    validate_event_name, ActorKind, EventPattern, Frequency, Notification, Playbook,
    ResponseAction, Severity, Trigger,
};
