//! [`SqreenLayer`]: wraps a service in a [`SqreenService`] sharing the agent.

use std::sync::Arc;

use tower_layer::Layer;

use super::SqreenService;
use crate::admin::AdminApi;
use crate::agent::Agent;

/// The layer to add to an axum `Router` or any tower stack. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqreenLayer {
    agent: Option<Agent>,
    /// The admin API, when the layer serves it on the application's listener.
    admin: Option<Arc<AdminApi>>,
}

impl SqreenLayer {
    /// A layer protecting services with `agent`.
    pub fn new(agent: Agent) -> Self {
        SqreenLayer {
            admin: AdminApi::on_app_listener(&agent.inner.config).map(Arc::new),
            agent: Some(agent),
        }
    }

    /// A layer that passes every request through (no agent).
    pub fn pass_through() -> Self {
        SqreenLayer {
            agent: None,
            admin: None,
        }
    }
}

impl<S> Layer<S> for SqreenLayer {
    type Service = SqreenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SqreenService::with_admin(inner, self.agent.clone(), self.admin.clone())
    }
}
