//! [`SqreenBody`]: the inner service's body, or the agent's own (block page, redirect).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The response body of [`super::SqreenService`]: the inner service's body untouched, or a
    /// complete body written by the agent.
    pub struct SqreenBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

impl<B> SqreenBody<B> {
    /// The inner service's body.
    pub fn inner(body: B) -> Self {
        SqreenBody {
            kind: Kind::Inner { body },
        }
    }

    /// A complete body written by the agent.
    pub fn full(data: Bytes) -> Self {
        SqreenBody {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }

    /// The inner service's body, or the agent's complete body (`None`: empty).
    #[cfg(feature = "axum")]
    pub(super) fn into_inner(self) -> Result<B, Option<Bytes>> {
        match self.kind {
            Kind::Inner { body } => Ok(body),
            Kind::Full { data } => Err(data),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for SqreenBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
