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
///
/// As small as the original body plus a pointer: most requests carry only the original, and
/// the request (body included) is moved and boxed on its way to the handler.
#[derive(Debug)]
pub struct SqreenRequestBody<B: Body> {
    /// The original body, if it has more to give.
    body: Option<B>,
    /// What the layer read first, given back before the rest of `body`.
    replay: Option<Box<Replay<B::Error>>>,
}

/// What the layer read of a body before the handler: given back first, in this order.
#[derive(Debug)]
struct Replay<E> {
    /// Bytes the layer read.
    prefix: Option<Bytes>,
    /// The error the original body ended with while the layer read it.
    error: Option<E>,
    /// Trailers the layer met while reading.
    trailers: Option<HeaderMap>,
}

impl<B: Body> SqreenRequestBody<B> {
    /// The original body, untouched.
    pub fn original(body: B) -> Self {
        SqreenRequestBody {
            body: Some(body),
            replay: None,
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
        let prefix = (!prefix.is_empty()).then_some(prefix);
        let replay = (prefix.is_some() || trailers.is_some() || error.is_some()).then(|| {
            Box::new(Replay {
                prefix,
                error,
                trailers,
            })
        });
        SqreenRequestBody { body: rest, replay }
    }

    /// The original body when the layer read none of it (most requests), else `self`.
    #[cfg(feature = "axum")]
    pub(super) fn into_original(self) -> Result<B, Self> {
        match self {
            SqreenRequestBody {
                body: Some(body),
                replay: None,
            } => Ok(body),
            other => Err(other),
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
        if let Some(replay) = &mut this.replay {
            if let Some(prefix) = replay.prefix.take() {
                return Poll::Ready(Some(Ok(Frame::data(prefix))));
            }
            if let Some(error) = replay.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            if let Some(trailers) = replay.trailers.take() {
                return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
            }
            this.replay = None;
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
        self.replay
            .as_ref()
            .is_none_or(|r| r.prefix.is_none() && r.error.is_none() && r.trailers.is_none())
            && self.body.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let prefix = self
            .replay
            .as_ref()
            .and_then(|r| r.prefix.as_ref())
            .map_or(0, |p| p.len() as u64);
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{BodyExt, Full};

    use super::*;

    #[test]
    fn the_body_is_the_original_and_a_pointer() {
        type Original = Full<Bytes>;
        assert!(
            std::mem::size_of::<SqreenRequestBody<Original>>()
                <= std::mem::size_of::<Option<Original>>() + std::mem::size_of::<usize>()
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn replay_gives_what_was_read_then_the_rest() {
        let rest: Full<Bytes> = Full::new(Bytes::from_static(b" world"));
        let body = SqreenRequestBody::replay(Bytes::from_static(b"hello"), Some(rest), None, None);
        assert_eq!(body.size_hint().exact(), Some(11));
        assert!(!body.is_end_stream());
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(&all[..], b"hello world");

        let mut trailers = HeaderMap::new();
        trailers.insert("x-sum", "1".parse().unwrap());
        let body: SqreenRequestBody<Full<Bytes>> =
            SqreenRequestBody::replay(Bytes::from_static(b"x"), None, Some(trailers), None);
        let collected = body.collect().await.unwrap();
        assert_eq!(collected.trailers().unwrap()["x-sum"], "1");
        assert_eq!(&collected.to_bytes()[..], b"x");

        let empty: SqreenRequestBody<Full<Bytes>> =
            SqreenRequestBody::replay(Bytes::new(), None, None, None::<Infallible>);
        assert!(empty.is_end_stream());
        assert!(
            empty.replay.is_none(),
            "nothing to give back: no allocation"
        );
    }
}
