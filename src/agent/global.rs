//! The process-wide agent that `sqreen::init*` installs and `sqreen::layer()` uses.
//!
//! Held in an `ArcSwapOption`: reading it is wait-free, and `init` may replace it (tests,
//! reconfiguration). The request path never reads it: requests carry their agent in the context.

use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use std::sync::LazyLock;

use super::{Agent, AgentInner};
use crate::error::Result;
use crate::layer::SqreenLayer;

static GLOBAL: LazyLock<ArcSwapOption<AgentInner>> = LazyLock::new(ArcSwapOption::empty);
static WARNED_NO_AGENT: AtomicBool = AtomicBool::new(false);

/// Builds an agent from the environment (see [`Agent::from_env`]) and installs it as the global
/// agent. Returns it too.
pub fn init_from_env() -> Result<Agent> {
    let agent = Agent::from_env()?;
    init(agent.clone());
    Ok(agent)
}

/// Installs `agent` as the global agent, replacing any earlier one.
pub fn init(agent: Agent) {
    GLOBAL.store(Some(agent.inner));
}

/// The global agent, if one was installed.
pub fn global() -> Option<Agent> {
    GLOBAL.load_full().map(|inner| Agent { inner })
}

/// The layer of the global agent (for an axum `Router`, `sqreen::layer().axum()`: see
/// `SqreenLayer::axum`). Without one (no `init*` call yet) the layer passes every request
/// through and a warning is logged once.
pub fn layer() -> SqreenLayer {
    match global() {
        Some(agent) => agent.layer(),
        None => {
            if !WARNED_NO_AGENT.swap(true, Ordering::Relaxed) {
                tracing::warn!(target: "sqreen", "sqreen::layer() called before sqreen::init*(): the layer passes requests through");
            }
            SqreenLayer::pass_through()
        }
    }
}
