//! Playbooks: "when an actor does this so often, do that and tell these people".
//!
//! This module owns the validated, engine-ready playbook types and their limits (in
//! [`model`]), the builder for playbooks written in code ([`Playbook::on`]), and the engine
//! that feeds events to the playbooks in force and reports which fire (`engine`). It does not
//! parse documents (see `crate::rules`), keep counters (see `crate::counter`) or carry out
//! responses (the agent does); it never panics on any input.
//!
//! A playbook has a [`Trigger`] (an [`EventPattern`], a threshold, a period and an
//! [`ActorKind`]), a [`ResponseAction`] (none, block or redirect, each timed by a
//! [`Lifetime`](crate::duration::Lifetime)) and a [`Notification`].

mod builder;
pub(crate) mod engine;
pub mod model;

pub use builder::PlaybookBuilder;
pub use model::{
    validate_event_name, ActorKind, EventPattern, Frequency, IpFacts, IpFilter, Notification,
    Playbook, ResponseAction, Severity, Trigger,
};
