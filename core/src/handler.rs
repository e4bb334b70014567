//! The `Handler` trait: how an HTTP invocation is answered (buffered or streamed).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::Response;
use http_body_util::BodyExt;

use crate::adapter::EncodeAnswer;
use crate::body::Body;
use crate::context::LambdaContext;
use crate::error::Error;
use crate::resolver::{ErasedResolver, Resolution};
use crate::runtime::RuntimeClient;

/// Lambda's limit for a buffered answer: 6 MB.
pub const BUFFERED_ANSWER_LIMIT: usize = 6 * 1024 * 1024;

/// Answers an HTTP invocation through the Runtime API.
pub trait Handler: Send + Sync + 'static {
    /// Sends `response` as the answer. Errors are the Runtime API's (the invocation could not
    /// be answered); the app's errors are settled by the handler itself.
    fn answer(
        &self,
        response: Response<Body>,
        answer: Answer<'_>,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

impl<H: Handler> Handler for Arc<H> {
    fn answer(
        &self,
        response: Response<Body>,
        answer: Answer<'_>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        (**self).answer(response, answer)
    }
}

/// The answer to one HTTP invocation, handed to a [`Handler`]: send it buffered, streamed,
/// or fail the invocation.
pub struct Answer<'a> {
    client: &'a mut RuntimeClient,
    context: &'a LambdaContext,
    encoder: Box<dyn EncodeAnswer>,
    can_stream: bool,
    resolver: &'a dyn ErasedResolver,
}

impl fmt::Debug for Answer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("request_id", &self.context.request_id)
            .field("can_stream", &self.can_stream)
            .finish_non_exhaustive()
    }
}

impl<'a> Answer<'a> {
    pub(crate) fn new(
        client: &'a mut RuntimeClient,
        context: &'a LambdaContext,
        encoder: Box<dyn EncodeAnswer>,
        can_stream: bool,
        resolver: &'a dyn ErasedResolver,
    ) -> Self {
        Self {
            client,
            context,
            encoder,
            can_stream,
            resolver,
        }
    }

    /// The invocation's Lambda context.
    pub fn context(&self) -> &LambdaContext {
        self.context
    }

    /// Whether the caller can receive a streamed answer for this event.
    pub fn can_stream(&self) -> bool {
        self.can_stream
    }

    /// Collects the body (up to Lambda's 6 MB), encodes the event's answer and posts it.
    ///
    /// A body that fails before it is complete is settled by the resolver (a 5xx answer by
    /// default): an app error, a panic, or a body still running at the invocation's deadline
    /// (the Lambda deadline minus the builder's `deadline_margin`: `App.Timeout`, a `504` by
    /// default, exactly like a response head that comes too late). An answer over the limit
    /// fails the invocation with `Function.ResponseSizeTooLarge`, never a truncated answer.
    pub async fn send_buffered(self, response: Response<Body>) -> Result<(), Error> {
        let (head, body) = response.into_parts();
        let (head, body) = match collect_limited(body, BUFFERED_ANSWER_LIMIT).await {
            Ok(body) => (head, body),
            Err(error) if error.is_response_too_large() => return self.fail(error).await,
            Err(error) => match self.resolver.resolve_boxed(Err(error), self.context).await {
                Resolution::Fail(error) => return self.fail(error).await,
                Resolution::Respond(fallback) => {
                    let (head, body) = fallback.into_parts();
                    match collect_limited(body, BUFFERED_ANSWER_LIMIT).await {
                        Ok(body) => (head, body),
                        Err(error) => return self.fail(error).await,
                    }
                }
            },
        };
        match self.encoder.encode(&head, body) {
            Ok(answer) if answer.len() > BUFFERED_ANSWER_LIMIT => {
                self.client
                    .post_error(
                        self.context,
                        &Error::response_too_large(BUFFERED_ANSWER_LIMIT),
                    )
                    .await
            }
            Ok(answer) => self.client.post_response(self.context, answer).await,
            Err(error) => self.client.post_error(self.context, &error).await,
        }
    }

    /// Posts a streamed answer with the given content type; `body`'s frames are sent as they
    /// come and its trailers as HTTP trailers.
    pub async fn send_streaming(self, content_type: &str, body: Body) -> Result<(), Error> {
        self.client
            .post_streaming(self.context, content_type, body)
            .await
    }

    /// Fails the invocation with `error` (the Runtime API's `/error`).
    pub async fn fail(self, error: Error) -> Result<(), Error> {
        tracing::warn!(
            error_type = error.error_type(),
            error = error.message(),
            "invocation failed"
        );
        self.client.post_error(self.context, &error).await
    }
}

/// Collects a body, failing as soon as it grows past `limit` bytes.
pub async fn collect_limited(mut body: Body, limit: usize) -> Result<Bytes, Error> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(app_error)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > limit {
            return Err(Error::response_too_large(limit));
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut buf = BytesMut::with_capacity(head.len() + data.len());
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match rest {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// Turns a body error into the crate's error, keeping an [`Error`] (a caught panic) as it is.
pub fn app_error(error: crate::body::BoxError) -> Error {
    match error.downcast::<Error>() {
        Ok(error) => *error,
        Err(error) => Error::app(error),
    }
}

/// The buffered handler: collects the body (up to 6 MB) and posts the event's JSON answer.
///
/// The whole answer is bounded by the invocation's deadline (the Lambda deadline minus the
/// builder's `deadline_margin`): a body still coming then is settled as `App.Timeout`, like a
/// late response head; see [`Answer::send_buffered`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultHandler;

impl Handler for DefaultHandler {
    async fn answer(&self, response: Response<Body>, answer: Answer<'_>) -> Result<(), Error> {
        answer.send_buffered(response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;

    #[tokio::test]
    async fn collect_limited_keeps_single_frames_and_stops_at_the_limit() {
        let one = collect_limited(Body::from("abc"), 10).await.unwrap();
        assert_eq!(&one[..], b"abc");
        let frames = futures_util::stream::iter(
            ["ab", "cd", "ef"]
                .map(|s| Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from(s)))),
        );
        let many = collect_limited(Body::new(StreamBody::new(frames)), 10)
            .await
            .unwrap();
        assert_eq!(&many[..], b"abcdef");
        let frames = futures_util::stream::iter(
            ["abcdef", "ghijkl"]
                .map(|s| Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from(s)))),
        );
        let err = collect_limited(Body::new(StreamBody::new(frames)), 10)
            .await
            .unwrap_err();
        assert!(err.is_response_too_large());
    }

    #[tokio::test]
    async fn body_errors_become_app_errors_and_panics_stay_panics() {
        let frames = futures_util::stream::iter([
            Ok(http_body::Frame::data(Bytes::from("partial"))),
            Err(std::io::Error::other("broken")),
        ]);
        let err = collect_limited(Body::new(StreamBody::new(frames)), 100)
            .await
            .unwrap_err();
        assert!(err.is_app());
        let boxed: crate::body::BoxError = Box::new(Error::panic("p"));
        assert!(app_error(boxed).is_panic());
    }
}
