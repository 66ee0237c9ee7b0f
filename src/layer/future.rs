//! [`ResponseFuture`]: an immediate answer, or the inner service's future run with the request
//! context as its task-local and its response replaced when the handler's SDK calls decided so.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;

use super::service::full;
use super::SqreenBody;
use crate::agent::{guard, FailureKind};
use crate::context::{PendingResponse, RequestContext};

pin_project! {
    /// The future of [`super::SqreenService`].
    #[project = FutureProj]
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Ready { response: Option<Response<Bytes>> },
        PassThrough { #[pin] fut: F },
        Scoped { #[pin] fut: TaskLocalFuture<RequestContext, F>, ctx: RequestContext },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn ready(response: Response<Bytes>) -> Self {
        ResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn pass_through(fut: F) -> Self {
        ResponseFuture {
            state: State::PassThrough { fut },
        }
    }

    pub(crate) fn scoped(fut: TaskLocalFuture<RequestContext, F>, ctx: RequestContext) -> Self {
        ResponseFuture {
            state: State::Scoped { fut, ctx },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SqreenBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Ready { response } => Poll::Ready(Ok(full(
                response
                    .take()
                    .expect("ResponseFuture polled after completion"),
            ))),
            StateProj::PassThrough { fut } => {
                let response = ready!(fut.poll(cx))?;
                Poll::Ready(Ok(response.map(SqreenBody::inner)))
            }
            StateProj::Scoped { fut, ctx } => {
                let response = ready!(fut.poll(cx))?;
                Poll::Ready(Ok(apply_pending(ctx, response)))
            }
        }
    }
}

/// Replaces the handler's response when an SDK call decided so during the handler.
fn apply_pending<B>(ctx: &RequestContext, response: Response<B>) -> Response<SqreenBody<B>> {
    let inner = ctx.inner();
    let Some(pending) = inner.pending.lock().take() else {
        return response.map(SqreenBody::inner);
    };
    let agent = &inner.agent;
    let rendered = guard(|| match &pending {
        PendingResponse::Action(kind) => {
            agent
                .renderer
                .render(kind, inner.rid, inner.accept.as_ref())
        }
        PendingResponse::Unavailable => agent.renderer.unavailable(inner.rid),
    });
    match rendered {
        Some(replacement) => full(replacement),
        None => {
            let closed = agent.config.fail_closed;
            agent.failures.record(FailureKind::Respond, closed);
            if closed {
                full(agent.renderer.unavailable(inner.rid))
            } else {
                response.map(SqreenBody::inner)
            }
        }
    }
}
