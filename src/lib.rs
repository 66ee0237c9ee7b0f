//! # sqreen — an in-app security microagent for Rust web services
//!
//! One tower layer gives an axum or hyper app, in-process and with no external service:
//! the client IP (trusted-proxy aware) and user of every request, IP and user deny and pass lists,
//! blocks (403, HTML or JSON) and redirects, permanent or timed, and a rules file hot-reloaded
//! without a redeploy.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use std::net::SocketAddr;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let agent = sqreen::Agent::from_env()?; // SQREEN_* variables + rules file
//! let app = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(agent.layer().axum()); // `.axum()`: axum's own body types, not boxed again
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! In a handler, [`identify`] names the user; a user on the deny list, or blocked with
//! [`Agent::block_user`], gets the block page instead of the handler's response.
//!
//! The client IP is read from forwarded headers only when the connection comes from a trusted
//! proxy, right to left, so a client cannot choose its own address; see [`ip::ClientIpResolver`].
//! The README lists every `SQREEN_*` variable and the rules document format.
#![forbid(unsafe_code)]
#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod action;
mod admin;
mod agent;
mod body;
mod clock;
pub mod cluster;
mod config;
mod context;
pub mod counter;
pub mod duration;
mod error;
pub mod event;
mod failure;
mod fasthash;
pub mod intel;
pub mod ip;
mod layer;
pub mod notify;
pub mod playbook;
pub mod rasp;
pub mod rules;
mod sdk;
mod trace;
mod user;
pub mod waf;

pub use action::Actor;
pub use admin::AdminService;
pub use agent::global::{global, init, init_from_env, layer};
pub use agent::{
    Agent, AgentBuilder, RaspStats, RemoteRulesStats, RequestHead, Stats, UserResolver, WafStats,
};
pub use clock::{Clock, CoarseClock, ManualClock, Millis, SystemClock, COARSE_CLOCK_STEP};
pub use config::{
    AdminListener, Config, WebhookEvents, DEFAULT_SENSITIVE_KEY_REGEX,
    DEFAULT_SENSITIVE_VALUE_REGEX, ENV_VARS,
};
pub use context::{RequestContext, Rid, UserKeys};
pub use error::{Error, Result};
#[cfg(feature = "axum")]
pub use layer::{AxumResponseFuture, OriginalBody, SqreenAxumLayer, SqreenAxumService};
pub use layer::{ResponseFuture, SqreenBody, SqreenLayer, SqreenRequestBody, SqreenService};
pub use sdk::{
    auth_track, identify, signup_track, track, track_for, SdkError, Verdict, MAX_PROPERTIES,
};
pub use user::{AuthenticatedUser, UserIdMode, UserMonitoring};

/// The README's code blocks, compiled as doc-tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The guides' code blocks (`docs/`), compiled as doc-tests too.
#[cfg(doctest)]
#[doc = include_str!("../docs/sdk-playbooks-events.md")]
struct SdkGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/operations.md")]
struct OperationsGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/rasp.md")]
struct RaspGuideDoctests;
