//! Security actions and the responses they produce.
//!
//! An [`Action`] says what happens to an actor (an IP network or a user): block (403) or redirect
//! (303), until a time or permanently. [`ActionStore`] holds the actions decided at run time (the
//! runtime API, playbooks) and answers lookups without ever waiting on a writer;
//! [`ResponseRenderer`] turns an action into the HTTP response. Deny lists from the rules
//! document are compiled into the agent's rules snapshot and consulted beside the store.
//! Nothing here does I/O on the request path: templates are read once, at set-up.

mod model;
mod negotiate;
mod response;
mod store;

pub(crate) use model::is_valid_location;
pub use model::{Action, ActionKind, ActionSource, Actor};
pub use response::{ResponseRenderer, Templates};
pub use store::{ActionChange, ActionStore, DEFAULT_MAX_ACTIONS};
