//! The streaming body type shared by requests and responses.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};

/// A boxed error, the currency of errors at the crate's edges.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming HTTP body: any [`http_body::Body`] with `Bytes` frames, boxed once.
///
/// Requests built by adapters and responses returned by frameworks both use it, so a
/// body is never re-boxed or collected on its way through.
pub struct Body(UnsyncBoxBody<Bytes, BoxError>);

impl Body {
    /// Wraps any body whose frames are [`Bytes`]. A `Body` passed in is not boxed again.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        try_downcast(body).unwrap_or_else(|body| Self(body.map_err(Into::into).boxed_unsync()))
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::new(Empty::new())
    }

    /// A body made of one buffer (nothing is copied).
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Self::empty();
        }
        Self::new(Full::new(bytes))
    }
}

fn try_downcast<B: 'static>(body: B) -> Result<Body, B> {
    let mut slot = Some(body);
    match (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Body>>() {
        Some(body) => Ok(body.take().expect("the slot was just filled")),
        None => Err(slot.expect("the slot was just filled")),
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("size_hint", &http_body::Body::size_hint(&self.0))
            .finish()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::full(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[tokio::test]
    async fn wrapping_a_body_does_not_box_it_twice() {
        let body = Body::full("abc");
        let again = Body::new(body);
        assert_eq!(again.size_hint().exact(), Some(3));
        let bytes = again.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"abc");
    }

    #[test]
    fn empty_bodies_end_at_once() {
        assert!(Body::empty().is_end_stream());
        assert!(Body::full(Bytes::new()).is_end_stream());
        assert!(Body::from(()).is_end_stream());
    }
}
