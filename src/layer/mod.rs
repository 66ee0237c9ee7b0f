//! The tower middleware: [`SqreenLayer`], [`SqreenService`], its response future and body.
//!
//! For each request the service builds the [`crate::RequestContext`], checks the pass and deny
//! lists and actions, and either answers at once (block page, redirect) or calls the inner
//! service with the context in the request extensions and in a task-local. A form or JSON body
//! is read first, up to `SQREEN_MAX_BODY_BYTES`, and handed on byte for byte
//! ([`SqreenRequestBody`]). After the handler, a
//! response decided during it (`identify` on a blocked user) replaces the handler's. Rejections
//! are ordinary responses: the service's error type is the inner service's.
//!
//! A panic in the agent's own code is caught: the request goes through (fail-open) or gets a 503
//! when `SQREEN_FAIL_CLOSED=true`, and the failure is logged once per kind.
//!
//! With the `axum` feature, [`SqreenLayer::axum`] gives the same layer for an axum `Router`,
//! with axum's own body type on both sides ([`SqreenAxumLayer`]).
//!
//! ```
//! use axum::{routing::get, Router};
//! let agent = sqreen::Agent::builder().build().unwrap();
//! let app: Router = Router::new().route("/", get(|| async { "hello" })).layer(agent.layer());
//! # let _ = app;
//! ```

mod body;
mod decode;
#[cfg(feature = "axum")]
mod for_axum;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod request_body;
mod service;

pub use body::SqreenBody;
#[cfg(feature = "axum")]
pub use for_axum::{AxumResponseFuture, OriginalBody, SqreenAxumLayer, SqreenAxumService};
pub use future::ResponseFuture;
pub use layer::SqreenLayer;
pub use request_body::SqreenRequestBody;

pub use service::SqreenService;
