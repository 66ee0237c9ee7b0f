//! [`AdminService`]: the admin API as a tower service of its own, for a listener other than the
//! application's: the agent's own (`SQREEN_ADMIN_ADDR`, [`super::listener`]) or one the
//! application mounts it on ([`crate::Agent::admin_service`], `admin_router`).
//!
//! It answers exactly as the layer does on the application's listener (same routes, token,
//! limits and JSON errors); a path outside the admin path is a JSON 404, never anything else.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};

use super::{error, internal_error, AdminApi, AdminRequest, AdminStep, BodyError, MAX_BODY};
use crate::agent::{guard, Agent, AgentInner, FailureKind};

/// The admin API of an agent as a [`tower_service::Service`]: see [`crate::Agent::admin_service`].
///
/// Its answers are `Response<Full<Bytes>>`; it never fails (`Infallible`), so it mounts as is
/// in axum (`Router::fallback_service`, `Router::nest_service`) or hyper. Cloning is cheap.
#[derive(Clone)]
pub struct AdminService {
    agent: Handle,
    /// `None` when the agent has no admin API (no token, or disabled).
    admin: Option<Arc<AdminApi>>,
}

/// The agent a service answers for: the application's services hold it, the agent's own
/// listener only refers to it (the listener must not keep a dropped agent alive).
#[derive(Clone)]
enum Handle {
    Strong(Agent),
    Weak(Weak<AgentInner>),
}

impl std::fmt::Debug for AdminService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminService").finish_non_exhaustive()
    }
}

impl AdminService {
    pub(crate) fn new(agent: Agent) -> Self {
        AdminService {
            admin: AdminApi::new(&agent.inner.config).map(Arc::new),
            agent: Handle::Strong(agent),
        }
    }

    pub(crate) fn weak(agent: Weak<AgentInner>, admin: AdminApi) -> Self {
        AdminService {
            agent: Handle::Weak(agent),
            admin: Some(Arc::new(admin)),
        }
    }

    /// The answer to `req`.
    pub(crate) async fn answer<B>(&self, req: Request<B>) -> Response<Bytes>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let agent = match &self.agent {
            Handle::Strong(agent) => agent.clone(),
            Handle::Weak(weak) => match weak.upgrade() {
                Some(inner) => Agent { inner },
                None => {
                    return error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        None,
                        "the agent has stopped".to_owned(),
                    )
                }
            },
        };
        let Some(admin) = self.admin.as_deref() else {
            return error(
                StatusCode::NOT_FOUND,
                None,
                "the admin API is off: set SQREEN_ADMIN_TOKEN".to_owned(),
            );
        };
        if !admin.serves(req.uri().path()) {
            return error(
                StatusCode::NOT_FOUND,
                None,
                format!("not an admin path: the admin API is under {}", admin.path),
            );
        }
        let head = AdminRequest {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
        };
        let step = guard(|| admin.head(&agent, &head));
        let answer = match step {
            Some(AdminStep::Respond(response)) => Some(response),
            Some(AdminStep::ReadBody) => {
                let body = read(req.into_body()).await;
                guard(|| admin.with_body(&agent, body))
            }
            None => None,
        };
        answer.unwrap_or_else(|| {
            agent.inner.failures.record(FailureKind::Admin, false);
            internal_error()
        })
    }
}

/// The whole body, up to [`MAX_BODY`] bytes.
async fn read<B>(body: B) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

impl<B> tower_service::Service<Request<B>> for AdminService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.answer(req).await.map(Full::new)) })
    }
}

impl Agent {
    /// The admin API as a tower service, to mount on a listener of the application's choice
    /// (an internal port, a unix socket, behind its own authentication), typically with
    /// `SQREEN_ADMIN_ADDR=mounted` so the application's public listener does not answer it too.
    /// It answers under `SQREEN_ADMIN_PATH` with the same bearer token; when
    /// `SQREEN_ADMIN_TOKEN` is not set (or the agent is disabled) every call is a JSON 404.
    ///
    /// ```no_run
    /// # async fn run(agent: sqreen::Agent) -> std::io::Result<()> {
    /// let admin = axum::Router::new().fallback_service(agent.admin_service());
    /// let internal = tokio::net::TcpListener::bind("127.0.0.1:9901").await?;
    /// axum::serve(internal, admin).await
    /// # }
    /// ```
    pub fn admin_service(&self) -> AdminService {
        AdminService::new(self.clone())
    }

    /// [`Agent::admin_service`] as an axum `Router`, to serve or to `merge` into an internal
    /// router.
    #[cfg(feature = "axum")]
    pub fn admin_router(&self) -> axum::Router {
        axum::Router::new().fallback_service(self.admin_service())
    }

    /// The address the agent's own admin listener is bound to (`SQREEN_ADMIN_ADDR=ip:port`;
    /// with port 0 the port the system chose), `None` when it has none.
    pub fn admin_addr(&self) -> Option<std::net::SocketAddr> {
        self.inner.admin_server.get().map(|(addr, _)| *addr)
    }
}

// `AgentInner` is shared across threads already; a service is too.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AdminService>();
    send_sync::<Arc<AgentInner>>();
};
