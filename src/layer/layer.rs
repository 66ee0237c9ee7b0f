//! [`SqreenLayer`]: wraps a service in a [`SqreenService`] sharing the agent.

use tower_layer::Layer;

use super::SqreenService;
use crate::agent::Agent;

/// The layer to add to an axum `Router` or any tower stack. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqreenLayer {
    agent: Option<Agent>,
}

impl SqreenLayer {
    /// A layer protecting services with `agent`.
    pub fn new(agent: Agent) -> Self {
        SqreenLayer { agent: Some(agent) }
    }

    /// A layer that passes every request through (no agent).
    pub fn pass_through() -> Self {
        SqreenLayer { agent: None }
    }
}

impl<S> Layer<S> for SqreenLayer {
    type Service = SqreenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SqreenService::new(inner, self.agent.clone())
    }
}
