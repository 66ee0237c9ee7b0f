//! [`SqreenAxumLayer`]: the same layer for an axum `Router`, with axum's own body type on
//! both sides.
//!
//! axum turns every request and response body that is not its own [`Body`] into one by
//! boxing it (an allocation, and a virtual call for every frame). Behind
//! [`super::SqreenLayer`] that happens twice a request: to the [`super::SqreenRequestBody`]
//! the handler receives and to the [`super::SqreenBody`] it answers with. This layer hands the
//! handler the original `Body` when the agent read none of it (every request without a form or
//! JSON body, and all requests when the agent is disabled) and gives axum the handler's `Body`
//! back as it came; only a body the agent read, or a response it wrote, is wrapped, once.
//! Everything else, the inspection, fail-open and the response future, is
//! [`super::SqreenService`]'s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{ResponseFuture, SqreenBody, SqreenLayer, SqreenRequestBody, SqreenService};

/// [`SqreenLayer`] for an axum `Router` (see [`SqreenLayer::axum`]): the same protection,
/// without axum boxing the bodies again. Cheap to clone.
///
/// ```
/// use axum::{routing::get, Router};
/// let agent = sqreen::Agent::builder().build().unwrap();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(agent.layer().axum());
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SqreenAxumLayer {
    layer: SqreenLayer,
}

impl SqreenLayer {
    /// This layer for an axum `Router`: requests and responses keep axum's own body type, so
    /// axum does not box them a second time (two allocations fewer per request). Any tower
    /// service taking and giving `axum::body::Body` can be wrapped.
    pub fn axum(self) -> SqreenAxumLayer {
        SqreenAxumLayer { layer: self }
    }
}

impl<S> Layer<S> for SqreenAxumLayer {
    type Service = SqreenAxumService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SqreenAxumService {
            inner: self.layer.layer(OriginalBody { inner }),
        }
    }
}

/// The service made by [`SqreenAxumLayer`]: a [`SqreenService`] whose request and response
/// bodies are axum's [`Body`].
#[derive(Clone, Debug)]
pub struct SqreenAxumService<S> {
    inner: SqreenService<OriginalBody<S>>,
}

impl<S> Service<Request<Body>> for SqreenAxumService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = AxumResponseFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        AxumResponseFuture {
            inner: self.inner.call(req),
        }
    }
}

pin_project! {
    /// The future of [`SqreenAxumService`]: [`SqreenService`]'s, its body made axum's.
    pub struct AxumResponseFuture<S>
    where
        S: Service<Request<Body>>,
    {
        #[pin]
        inner: ResponseFuture<OriginalBody<S>, Body>,
    }
}

impl<S> Future for AxumResponseFuture<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Output = Result<Response<Body>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map_ok(|response| response.map(axum_body))
    }
}

/// The handler's own body, or the one the agent wrote.
fn axum_body(body: SqreenBody<Body>) -> Body {
    match body.into_inner() {
        Ok(body) => body,
        Err(Some(data)) => Body::from(data),
        Err(None) => Body::empty(),
    }
}

/// Between [`SqreenService`] and the wrapped service: gives it the original request body when
/// the agent read none of it, else the agent's replay of it as a `Body`.
#[derive(Clone, Debug)]
pub struct OriginalBody<S> {
    inner: S,
}

impl<S> Service<Request<SqreenRequestBody<Body>>> for OriginalBody<S>
where
    S: Service<Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<SqreenRequestBody<Body>>) -> Self::Future {
        self.inner
            .call(req.map(|body| body.into_original().unwrap_or_else(Body::new)))
    }
}
