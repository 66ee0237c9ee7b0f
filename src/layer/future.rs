//! [`ResponseFuture`]: an immediate answer; or the inner service's future, run with the request
//! context as its task-local, after reading a form or JSON body when there is one, and with its
//! response replaced when the handler's SDK calls (or automatic login tracking, right after the
//! handler) decided so.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_service::Service;

use super::decode::{self, Decoded};
use super::service::full;
use super::{SqreenBody, SqreenRequestBody};
use crate::admin::{AdminApi, BodyError};
use crate::agent::{guard, Agent, FailureKind};
use crate::body::{BodyKind, ReadBody};
use crate::context::{PendingResponse, RequestContext};

type Inner<S, B> = <S as Service<Request<SqreenRequestBody<B>>>>::Future;

pin_project! {
    /// The future of [`super::SqreenService`].
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<SqreenRequestBody<B>>>,
        B: Body,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<SqreenRequestBody<B>>>,
        B: Body,
    {
        Ready { response: Option<Response<Bytes>> },
        PassThrough { #[pin] fut: Inner<S, B> },
        // boxed: the largest state by far (the request, the service, a buffer), and only for
        // requests with a body to read; the future of every other request stays small
        Reading { read: Option<Box<Reading<S, B>>> },
        Scoped { #[pin] fut: TaskLocalFuture<RequestContext, Inner<S, B>>, ctx: RequestContext },
        AdminBody { read: Option<AdminBody<B>> },
    }
}

/// The body of an admin call (`POST actions`) being read; the admin API answers once it is.
pub(crate) struct AdminBody<B> {
    agent: Agent,
    admin: std::sync::Arc<AdminApi>,
    body: B,
    buf: BytesMut,
}

/// A form or JSON body being read before the inner service is called.
pub(crate) struct Reading<S, B: Body> {
    pub(crate) service: S,
    pub(crate) request: Request<B>,
    pub(crate) ctx: RequestContext,
    pub(crate) kind: BodyKind,
    pub(crate) limit: usize,
    pub(crate) buf: BytesMut,
    pub(crate) trailers: Option<HeaderMap>,
    /// The WAF's time spent on the head, when the body is to be inspected too.
    pub(crate) waf: Option<std::time::Duration>,
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<SqreenRequestBody<B>>>,
    B: Body,
{
    pub(crate) fn ready(response: Response<Bytes>) -> Self {
        ResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn pass_through(fut: Inner<S, B>) -> Self {
        ResponseFuture {
            state: State::PassThrough { fut },
        }
    }

    pub(crate) fn scoped(service: &mut S, request: Request<B>, ctx: RequestContext) -> Self {
        let request = request.map(SqreenRequestBody::original);
        let fut = {
            let _entered = ctx.inner().span.enter();
            ctx.clone().sync_scope(|| service.call(request))
        };
        ResponseFuture {
            state: State::Scoped {
                fut: ctx.clone().scope(fut),
                ctx,
            },
        }
    }

    pub(crate) fn admin_body(
        agent: Agent,
        admin: std::sync::Arc<AdminApi>,
        request: Request<B>,
    ) -> Self {
        ResponseFuture {
            state: State::AdminBody {
                read: Some(AdminBody {
                    agent,
                    admin,
                    body: request.into_body(),
                    buf: BytesMut::new(),
                }),
            },
        }
    }

    pub(crate) fn reading(read: Reading<S, B>) -> Self {
        ResponseFuture {
            state: State::Reading {
                read: Some(Box::new(read)),
            },
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<SqreenRequestBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes> + Unpin,
{
    type Output = Result<Response<SqreenBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project().state.project() {
                StateProj::Ready { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(full(response)));
                }
                StateProj::PassThrough { fut } => {
                    let response = ready!(fut.poll(cx))?;
                    return Poll::Ready(Ok(response.map(SqreenBody::inner)));
                }
                StateProj::Scoped { fut, ctx } => {
                    // the handler runs in the request's span: the app's own spans nest under it
                    let _entered = ctx.inner().span.enter();
                    let response = ready!(fut.poll(cx))?;
                    let status = response.status();
                    // the layer only scopes contexts it made, which all have an agent
                    let Some(agent) = ctx.agent() else {
                        return Poll::Ready(Ok(response.map(SqreenBody::inner)));
                    };
                    // before the pending response is applied: a playbook firing on this login
                    // attempt answers this very request
                    if agent.users.login().is_some()
                        && guard(|| agent.track_login(ctx, status)).is_none()
                    {
                        agent.failures.record(FailureKind::Sdk, false);
                    }
                    let response = apply_pending(ctx, response);
                    if guard(|| agent.after_response(ctx, status)).is_none() {
                        agent.failures.record(FailureKind::Waf, false);
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProj::AdminBody { read } => {
                    let Some(admin_body) = read.as_mut() else {
                        panic!("ResponseFuture polled after completion");
                    };
                    let outcome = ready!(admin_body.poll_read(cx));
                    let response = read.take().and_then(|done| {
                        let answer = guard(|| done.admin.with_body(&done.agent, outcome));
                        if answer.is_none() {
                            done.agent.inner.failures.record(FailureKind::Admin, false);
                        }
                        answer
                    });
                    self.as_mut().project().state.set(State::Ready {
                        response: Some(response.unwrap_or_else(crate::admin::internal_error)),
                    });
                }
                StateProj::Reading { read } => {
                    let Some(reading) = read.as_mut() else {
                        panic!("ResponseFuture polled after completion");
                    };
                    let outcome = ready!(reading.poll_read(cx));
                    let Some(mut reading) = read.take() else {
                        continue;
                    };
                    let ctx = reading.ctx.clone();
                    let (parts, body) = reading.request.into_parts();
                    let prefix = reading.buf.freeze();
                    // The last frame read may run past the limit (a frame is kept whole, for
                    // the handler): what is inspected and reported stops at the limit.
                    let within = prefix.len() <= reading.limit;
                    let raw = prefix.slice(..prefix.len().min(reading.limit));
                    let raw_whole = within && outcome.is_complete();
                    // a compressed body is inspected decoded; the handler gets it as it came
                    let (bytes, complete, refused) =
                        match decode::decode(&parts.headers, &raw, reading.limit) {
                            Decoded::Plain => (raw, raw_whole, None),
                            Decoded::Bytes { bytes, whole } => (bytes, whole && raw_whole, None),
                            Decoded::Bomb { .. } => {
                                (Bytes::new(), false, Some("decompression_bomb"))
                            }
                            Decoded::Unsupported => {
                                (Bytes::new(), false, Some("unsupported_encoding"))
                            }
                        };
                    let read_body = ReadBody {
                        kind: reading.kind,
                        bytes,
                        complete,
                    };
                    if let (Some(reason), Some(_)) = (refused, reading.waf) {
                        let refusal = waf_refusal(&ctx, |agent| {
                            agent.waf_refuse_body(&ctx, reason, &parts.headers)
                        });
                        if let Some(response) = refusal {
                            self.as_mut().project().state.set(State::Ready {
                                response: Some(response),
                            });
                            continue;
                        }
                    }
                    // more body than the limit: counted and recorded; refused when the rules
                    // say so in block mode, else its first bytes are inspected
                    let over_limit = !within || matches!(outcome, ReadOutcome::Limit);
                    if let (true, Some(_)) = (over_limit, reading.waf) {
                        let refusal = waf_refusal(&ctx, |agent| {
                            agent.waf_body_over_limit(&ctx, prefix.len())
                        });
                        if let Some(response) = refusal {
                            self.as_mut().project().state.set(State::Ready {
                                response: Some(response),
                            });
                            continue;
                        }
                    }
                    if let Some(spent) = reading.waf {
                        if let Some(response) = waf_body(&ctx, &read_body, &parts, spent) {
                            self.as_mut().project().state.set(State::Ready {
                                response: Some(response),
                            });
                            continue;
                        }
                    }
                    let _ = ctx.inner().body.set(read_body);
                    let (rest, error) = match outcome {
                        ReadOutcome::Ended => (None, None),
                        ReadOutcome::Limit => (Some(body), None),
                        ReadOutcome::Failed(e) => (None, Some(e)),
                    };
                    let body = SqreenRequestBody::replay(prefix, rest, reading.trailers, error);
                    let request = Request::from_parts(parts, body);
                    let service = &mut reading.service;
                    let fut = {
                        let _entered = ctx.inner().span.enter();
                        ctx.clone().sync_scope(|| service.call(request))
                    };
                    self.as_mut().project().state.set(State::Scoped {
                        fut: ctx.clone().scope(fut),
                        ctx,
                    });
                }
            }
        }
    }
}

/// How reading a body ended.
enum ReadOutcome<E> {
    /// The whole body was read.
    Ended,
    /// The limit was reached; the rest stays in the body.
    Limit,
    /// The body failed; the error is handed to the inner service after the bytes read.
    Failed(E),
}

impl<E> ReadOutcome<E> {
    fn is_complete(&self) -> bool {
        matches!(self, ReadOutcome::Ended)
    }
}

impl<S, B> Reading<S, B>
where
    B: Body<Data = Bytes> + Unpin,
{
    /// Reads frames until the body ends, fails, or `limit` bytes were read.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<ReadOutcome<B::Error>> {
        loop {
            if self.buf.len() >= self.limit {
                return Poll::Ready(ReadOutcome::Limit);
            }
            match ready!(Pin::new(self.request.body_mut()).poll_frame(cx)) {
                None => return Poll::Ready(ReadOutcome::Ended),
                Some(Err(e)) => return Poll::Ready(ReadOutcome::Failed(e)),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.buf.extend_from_slice(&data),
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.trailers = Some(trailers);
                        }
                        return Poll::Ready(ReadOutcome::Ended);
                    }
                },
            }
        }
    }
}

impl<B> AdminBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    /// Reads the whole body, up to [`crate::admin::MAX_BODY`] bytes.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<Bytes, BodyError>> {
        loop {
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => return Poll::Ready(Ok(std::mem::take(&mut self.buf).freeze())),
                Some(Err(_)) => return Poll::Ready(Err(BodyError::Unreadable)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if self.buf.len() + data.len() > crate::admin::MAX_BODY {
                            return Poll::Ready(Err(BodyError::TooLarge));
                        }
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// Runs the WAF on a body just read; `Some` is the response to answer with instead of calling
/// the handler (a block, a playbook's action, or a 503 when failing closed after an internal
/// failure).
fn waf_body(
    ctx: &RequestContext,
    body: &ReadBody,
    head: &http::request::Parts,
    spent: std::time::Duration,
) -> Option<Response<Bytes>> {
    let agent = ctx.agent()?;
    match guard(|| agent.waf_body(ctx, body, head, spent)) {
        Some(response) => response,
        None => {
            let closed = agent.config.fail_closed;
            agent.failures.record(FailureKind::Waf, closed);
            closed.then(|| {
                ctx.decide(crate::trace::VERDICT_UNAVAILABLE);
                agent.renderer.unavailable(ctx.rid())
            })
        }
    }
}

/// A body refusal decided by `decide` (fail open, counted, if it panics).
fn waf_refusal(
    ctx: &RequestContext,
    decide: impl FnOnce(&crate::agent::AgentInner) -> Option<Response<Bytes>>,
) -> Option<Response<Bytes>> {
    let agent = ctx.agent()?;
    guard(|| decide(agent)).unwrap_or_else(|| {
        agent.failures.record(FailureKind::Waf, false);
        None
    })
}

/// Replaces the handler's response when an SDK call decided so during the handler.
fn apply_pending<B>(ctx: &RequestContext, response: Response<B>) -> Response<SqreenBody<B>> {
    let inner = ctx.inner();
    let Some(pending) = inner.pending.lock().take() else {
        ctx.decide(crate::trace::VERDICT_PASS);
        return response.map(SqreenBody::inner);
    };
    let Some(agent) = &inner.agent else {
        return response.map(SqreenBody::inner);
    };
    let rendered = guard(|| match &pending {
        PendingResponse::Action(kind) => agent.renderer.render_for(kind, inner),
        PendingResponse::Unavailable => agent.renderer.unavailable(inner.rid),
    });
    match rendered {
        Some(replacement) => full(replacement),
        None => {
            let closed = agent.config.fail_closed;
            agent.failures.record(FailureKind::Respond, closed);
            if closed {
                ctx.decide(crate::trace::VERDICT_UNAVAILABLE);
                full(agent.renderer.unavailable(inner.rid))
            } else {
                ctx.decide(crate::trace::VERDICT_PASS);
                response.map(SqreenBody::inner)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::Full;

    use super::*;

    /// A service whose future is small (a ready response).
    #[derive(Clone)]
    struct Big;

    impl<B> Service<Request<B>> for Big {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<B>) -> Self::Future {
            std::future::ready(Ok(Response::new(Full::new(Bytes::new()))))
        }
    }

    #[test]
    fn the_future_is_the_handlers_and_a_few_words() {
        type B = Full<Bytes>;
        let inner = std::mem::size_of::<Inner<Big, B>>();
        let ours = std::mem::size_of::<ResponseFuture<Big, B>>();
        // every request's future is moved (and boxed by axum): the body-reading state, which
        // holds the whole request, must not set its size
        assert!(
            ours <= inner + 8 * 8,
            "{ours} bytes around a {inner}-byte future"
        );
    }
}
