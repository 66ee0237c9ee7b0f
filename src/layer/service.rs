//! [`SqreenService`]: checks each request, then answers it or calls the inner service.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;

use super::{ResponseFuture, SqreenBody};
use crate::agent::{guard, Agent, FailureKind, Inspection};
use crate::context::{RequestContext, Rid};

/// The service made by [`super::SqreenLayer`]. Cheap to clone: the agent is shared.
#[derive(Clone, Debug)]
pub struct SqreenService<S> {
    inner: S,
    agent: Option<Agent>,
}

impl<S> SqreenService<S> {
    /// Wraps `inner`; without an agent every request passes through.
    pub fn new(inner: S, agent: Option<Agent>) -> Self {
        let agent = agent.filter(|a| !a.inner.config.disabled);
        SqreenService { inner, agent }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SqreenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<SqreenBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let Some(agent) = &self.agent else {
            return ResponseFuture::pass_through(self.inner.call(req));
        };
        let inner = &agent.inner;
        match guard(|| inner.inspect(&mut req)) {
            Some(Inspection::Forward(ctx)) => {
                let fut = ctx.clone().sync_scope(|| self.inner.call(req));
                ResponseFuture::scoped(ctx.clone().scope(fut), ctx)
            }
            Some(Inspection::Respond(response)) => ResponseFuture::ready(response),
            None => {
                let closed = inner.config.fail_closed;
                inner.failures.record(FailureKind::Inspect, closed);
                if closed {
                    ResponseFuture::ready(inner.renderer.unavailable(Rid::random()))
                } else {
                    // The request goes through, without a context (SDK calls are then no-ops).
                    req.extensions_mut().remove::<RequestContext>();
                    ResponseFuture::pass_through(self.inner.call(req))
                }
            }
        }
    }
}

/// Keeps the compiler honest about what a rejection's body is.
pub(crate) fn full<B>(response: Response<Bytes>) -> Response<SqreenBody<B>> {
    response.map(SqreenBody::full)
}
