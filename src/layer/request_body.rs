//! [`SqreenRequestBody`]: the request body the inner service receives.
//!
//! For a form or JSON request, the layer reads the body up to `SQREEN_MAX_BODY_BYTES` before the
//! handler runs (to report its parameters in events, and for the WAF). The inner service then
//! gets exactly the bytes the client sent: the part the layer read, followed by the rest of the
//! original stream (and its trailers, and any error it ended with). Every other request's body
//! is handed on untouched, with no copy.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

/// The request body of the service wrapped by [`super::SqreenLayer`].
#[derive(Debug)]
pub struct SqreenRequestBody<B: Body> {
    /// Bytes the layer read first, given back before anything else.
    prefix: Option<Bytes>,
    /// The original body, if it has more to give.
    body: Option<B>,
    /// Trailers the layer met while reading.
    trailers: Option<HeaderMap>,
    /// The error the original body ended with while the layer read it.
    error: Option<B::Error>,
}

impl<B: Body> SqreenRequestBody<B> {
    /// The original body, untouched.
    pub fn original(body: B) -> Self {
        SqreenRequestBody {
            prefix: None,
            body: Some(body),
            trailers: None,
            error: None,
        }
    }

    /// `prefix` (what the layer read), then what is left of `rest`: trailers met while reading,
    /// the error the body ended with, or the rest of the stream.
    pub(crate) fn replay(
        prefix: Bytes,
        rest: Option<B>,
        trailers: Option<HeaderMap>,
        error: Option<B::Error>,
    ) -> Self {
        SqreenRequestBody {
            prefix: (!prefix.is_empty()).then_some(prefix),
            body: rest,
            trailers,
            error,
        }
    }
}

impl<B> Body for SqreenRequestBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        if let Some(error) = this.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        if let Some(trailers) = this.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        match &mut this.body {
            Some(body) => {
                let frame = Pin::new(body).poll_frame(cx);
                if let Poll::Ready(None) = frame {
                    this.body = None;
                }
                frame
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none()
            && self.error.is_none()
            && self.trailers.is_none()
            && self.body.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let prefix = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let rest = match &self.body {
            Some(body) => body.size_hint(),
            None => SizeHint::with_exact(0),
        };
        let mut hint = SizeHint::new();
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(prefix));
        }
        hint.set_lower(rest.lower().saturating_add(prefix));
        hint
    }
}
