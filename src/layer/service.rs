//! [`SqreenService`]: checks each request, then answers it or calls the inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{Request, Response};
use tower_service::Service;

use super::future::Reading;
use super::{ResponseFuture, SqreenBody, SqreenRequestBody};
use crate::admin::{AdminApi, AdminRequest, AdminStep};
use crate::agent::{guard, Agent, FailureKind, Inspection, WafStep};
use crate::body::BodyKind;
use crate::context::{RequestContext, Rid};

/// The service made by [`super::SqreenLayer`]. Cheap to clone: the agent is shared.
#[derive(Clone, Debug)]
pub struct SqreenService<S> {
    inner: S,
    agent: Option<Agent>,
    /// The admin API, when this service answers it on the application's listener.
    admin: Option<Arc<AdminApi>>,
}

impl<S> SqreenService<S> {
    /// Wraps `inner`; without an agent every request passes through.
    pub fn new(inner: S, agent: Option<Agent>) -> Self {
        let admin = agent
            .as_ref()
            .and_then(|a| AdminApi::on_app_listener(&a.inner.config))
            .map(Arc::new);
        Self::with_admin(inner, agent, admin)
    }

    /// Wraps `inner`, sharing the layer's admin API.
    pub(crate) fn with_admin(inner: S, agent: Option<Agent>, admin: Option<Arc<AdminApi>>) -> Self {
        let agent = agent.filter(|a| !a.inner.config.disabled);
        SqreenService {
            inner,
            admin: admin.filter(|_| agent.is_some()),
            agent,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SqreenService<S>
where
    S: Service<Request<SqreenRequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    ReqBody: http_body::Body<Data = Bytes> + Unpin,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<SqreenBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let Some(agent) = &self.agent else {
            return ResponseFuture::pass_through(
                self.inner.call(req.map(SqreenRequestBody::original)),
            );
        };
        let inner = &agent.inner;
        // The admin API comes first: its requests skip the lists, the WAF and the playbooks,
        // and never reach the inner service.
        if let Some(admin) = self.admin.as_ref().filter(|a| a.serves(req.uri().path())) {
            let head = AdminRequest {
                method: req.method(),
                uri: req.uri(),
                headers: req.headers(),
            };
            return match guard(|| admin.head(agent, &head)) {
                Some(AdminStep::Respond(response)) => ResponseFuture::ready(response),
                Some(AdminStep::ReadBody) => {
                    ResponseFuture::admin_body(agent.clone(), admin.clone(), req)
                }
                None => {
                    inner.failures.record(FailureKind::Admin, false);
                    ResponseFuture::ready(crate::admin::internal_error())
                }
            };
        }
        match guard(|| inner.inspect(&mut req)) {
            Some(Inspection::Forward(ctx)) => {
                let waf = match guard(|| inner.waf_head(&ctx, &req)) {
                    Some(WafStep::Respond(response)) => return ResponseFuture::ready(response),
                    Some(WafStep::Continue { spent }) => Some(spent),
                    Some(WafStep::Skip) => None,
                    None => {
                        let closed = inner.config.fail_closed;
                        inner.failures.record(FailureKind::Waf, closed);
                        if closed {
                            ctx.decide(crate::trace::VERDICT_UNAVAILABLE);
                            return ResponseFuture::ready(inner.renderer.unavailable(ctx.rid()));
                        }
                        None
                    }
                };
                let limit = inner.config.max_body_bytes;
                match BodyKind::of(req.headers()) {
                    Some(kind) if limit > 0 && !req.body().is_end_stream() => {
                        // the readied service goes with the request; a clone takes its place
                        let clone = self.inner.clone();
                        let service = std::mem::replace(&mut self.inner, clone);
                        ResponseFuture::reading(Reading {
                            service,
                            request: req,
                            ctx,
                            kind,
                            limit,
                            buf: BytesMut::new(),
                            trailers: None,
                            waf,
                        })
                    }
                    _ => ResponseFuture::scoped(&mut self.inner, req, ctx),
                }
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
                    ResponseFuture::pass_through(
                        self.inner.call(req.map(SqreenRequestBody::original)),
                    )
                }
            }
        }
    }
}

/// Keeps the compiler honest about what a rejection's body is.
pub(crate) fn full<B>(response: Response<Bytes>) -> Response<SqreenBody<B>> {
    response.map(SqreenBody::full)
}
