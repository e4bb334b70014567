//! The body of a streamed HTTP answer: prelude, separator, the app's frames, maybe error trailers.

use std::convert::Infallible;
use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use http_body::{Frame, SizeHint};
use serverless_adapter_core::runtime::{error_json, ERROR_BODY_HEADER, ERROR_TYPE_HEADER};
use serverless_adapter_core::{app_error, Body, BoxError, Error};
use tokio::time::{Instant, Sleep};

use super::prelude::encode_prelude;

/// The eight NUL bytes that end the prelude of a streamed HTTP answer.
pub const PRELUDE_SEPARATOR: [u8; 8] = [0; 8];

/// The `errorType` reported in the trailers when the app's body fails with an ordinary error
/// after the prelude was sent. Errors the core knows better keep their own type: a panic inside
/// the body is `App.Panic`, a body still running at the deadline `App.Timeout`.
pub const STREAM_ERROR_TYPE: &str = "Runtime.StreamError";

/// Longest error message put in the error trailer; longer messages are cut (the trailer is a
/// header line, and the Runtime API is not the place for megabytes of error text).
const MAX_ERROR_MESSAGE: usize = 2048;

/// The body of a streamed HTTP answer (`application/vnd.awslambda.http-integration-response`).
///
/// Its frames are, each on its own:
/// 1. the JSON prelude ([`encode_prelude`]);
/// 2. the eight NUL bytes of [`PRELUDE_SEPARATOR`];
/// 3. each non-empty data frame of the app's body, as the app produces it: the app's body is
///    polled only when this body is, so a slow reader slows the app and nothing is buffered
///    ahead or coalesced (the app's own trailers are dropped: Lambda has no place for them);
/// 4. then either the end, or — when the app's body fails, or the [deadline](Self::deadline)
///    comes first — a trailers frame with `Lambda-Runtime-Function-Error-Type` and
///    `Lambda-Runtime-Function-Error-Body` (the base64 of `{"errorType":..,"errorMessage":..}`).
///
/// It never fails itself: every failure of the app becomes the trailers frame, so the Runtime
/// API connection is never torn down by it. A response with an empty body ends right after the
/// separator.
pub struct HttpIntegrationBody {
    state: State,
    inner: Body,
    deadline: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    request_id: Option<String>,
}

enum State {
    Prelude(Bytes),
    Separator,
    Streaming,
    Done,
}

impl HttpIntegrationBody {
    /// The streamed answer for `response`, with no deadline.
    pub fn new(response: Response<Body>) -> Self {
        let (head, inner) = response.into_parts();
        Self {
            state: State::Prelude(encode_prelude(head.status, &head.headers)),
            inner,
            deadline: None,
            timer: None,
            request_id: None,
        }
    }

    /// Ends the stream with an `App.Timeout` error trailer if the app's body is still running
    /// at `at` (the Lambda deadline minus a margin, so that the answer is complete before Lambda
    /// stops the function).
    pub fn deadline(mut self, at: Instant) -> Self {
        self.deadline = Some(at);
        self.timer = None;
        self
    }

    /// Names the invocation in the logs written when the stream fails.
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Ends the stream: drops the app's body (releasing what it holds) and the timer.
    fn finish(&mut self) {
        self.state = State::Done;
        self.inner = Body::empty();
        self.timer = None;
    }

    /// Ends the stream with `error` in the trailers.
    fn fail(&mut self, error: &Error) -> Frame<Bytes> {
        tracing::warn!(
            request_id = self.request_id.as_deref().unwrap_or(""),
            error_type = error.error_type(),
            error = error.message(),
            "the streamed answer failed after its prelude; reporting it in the trailers"
        );
        self.finish();
        Frame::trailers(error_trailers(error))
    }

    fn deadline_passed(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.deadline else {
            return false;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        timer.as_mut().poll(cx).is_ready()
    }
}

impl fmt::Debug for HttpIntegrationBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Prelude(_) => "prelude",
            State::Separator => "separator",
            State::Streaming => "streaming",
            State::Done => "done",
        };
        f.debug_struct("HttpIntegrationBody")
            .field("state", &state)
            .field("deadline", &self.deadline)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl http_body::Body for HttpIntegrationBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match &mut this.state {
            State::Prelude(prelude) => {
                let prelude = std::mem::take(prelude);
                this.state = State::Separator;
                return Poll::Ready(Some(Ok(Frame::data(prelude))));
            }
            State::Separator => {
                if this.inner.is_end_stream() {
                    this.finish();
                } else {
                    this.state = State::Streaming;
                }
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                    &PRELUDE_SEPARATOR,
                )))));
            }
            State::Done => return Poll::Ready(None),
            State::Streaming => {}
        }
        if this.deadline_passed(cx) {
            let error = Error::timeout(
                "the response body was still streaming at the Lambda deadline (less the margin \
                 kept for answering); the stream was ended",
            );
            return Poll::Ready(Some(Ok(this.fail(&error))));
        }
        loop {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Some(Err(error)) => {
                    let error = stream_error(error);
                    return Poll::Ready(Some(Ok(this.fail(&error))));
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if data.is_empty() => {}
                    Ok(data) => {
                        if this.inner.is_end_stream() {
                            this.finish();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    Err(frame) => {
                        if frame.is_trailers() {
                            tracing::debug!(
                                "dropping the app's trailers: a streamed Lambda answer has none"
                            );
                        }
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        // Never exact (error trailers may follow), so the answer is always sent chunked.
        let ahead = match &self.state {
            State::Prelude(prelude) => prelude.len() + PRELUDE_SEPARATOR.len(),
            State::Separator => PRELUDE_SEPARATOR.len(),
            State::Streaming => 0,
            State::Done => return SizeHint::with_exact(0),
        };
        let mut hint = SizeHint::new();
        hint.set_lower(self.inner.size_hint().lower() + ahead as u64);
        hint
    }
}

/// The core error for a failure of the app's body: a core error (a caught panic, say) keeps its
/// type; any other error is a `Runtime.StreamError`.
fn stream_error(error: BoxError) -> Error {
    let error = app_error(error);
    if error.is_app() {
        let message = error.message().to_owned();
        Error::custom(STREAM_ERROR_TYPE, message).with_source(error)
    } else {
        error
    }
}

/// The error trailers for `error`.
fn error_trailers(error: &Error) -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    let error_type = HeaderValue::from_str(error.error_type())
        .unwrap_or_else(|_| HeaderValue::from_static(STREAM_ERROR_TYPE));
    trailers.insert(HeaderName::from_static(ERROR_TYPE_HEADER), error_type);
    let message = error.message();
    let json = if message.len() > MAX_ERROR_MESSAGE {
        let mut cut = MAX_ERROR_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        let short = Error::custom(
            error.error_type().to_owned(),
            format!("{}...", &message[..cut]),
        );
        error_json(&short)
    } else {
        error_json(error)
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    if let Ok(value) = HeaderValue::from_str(&encoded) {
        trailers.insert(HeaderName::from_static(ERROR_BODY_HEADER), value);
    }
    trailers
}
