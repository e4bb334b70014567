//! The `Framework` trait: what serves a request. Any tower service qualifies.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;
use tower_service::Service;

use crate::body::{Body, BoxError};
use crate::deadline::AnswerDeadline;
use crate::error::Error;

/// Serves one HTTP request with a streaming body and returns a streaming response.
///
/// Must be safe to call concurrently: several invocations may be in flight at once
/// (Lambda Managed Instances), and a batch's records run side by side.
///
/// Every [`tower_service::Service`] that takes `http::Request<Body>` and is `Clone` —
/// an axum `Router` included — is a `Framework` already; other frameworks (actix-web, a
/// proxy to an app on a port) implement it on a type of their own.
pub trait Framework: Send + Sync + 'static {
    /// Serves the request.
    fn serve(
        &self,
        request: Request<Body>,
    ) -> impl Future<Output = Result<Response<Body>, BoxError>> + Send;
}

impl<S, B> Framework for S
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn serve(
        &self,
        request: Request<Body>,
    ) -> impl Future<Output = Result<Response<Body>, BoxError>> + Send {
        let mut service = self.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let response = service.call(request).await.map_err(Into::into)?;
            Ok(response.map(Body::new))
        }
    }
}

/// Serves a request, turning a panic in the app — while producing the response or later,
/// while producing its body — into an [`Error::panic`], and an app error into [`Error::app`].
///
/// Nothing is timed here; the invocation loop serves each request with the same guards and the
/// invocation's deadline on top, so that the whole answer — head and body — ends before it.
pub async fn serve_guarded<F: Framework + ?Sized>(
    framework: &F,
    request: Request<Body>,
) -> Result<Response<Body>, Error> {
    serve_bounded(framework, request, None).await
}

/// Serves a request like [`serve_guarded`], and bounds the whole answer by `deadline`: a head
/// that has not come by then is an [`Error::timeout`], and so is a body still running then —
/// the body ends with that error (as an error frame), so whoever reads it (collecting a
/// buffered answer or a batch record, or streaming it) settles it like a late head. The app's
/// body is dropped at that point, releasing what it holds.
///
/// A request whose deadline has already passed is not served at all (the app is not called).
/// Once it is, ready results win: a head (or a body frame that completes the body) that is
/// ready when the deadline is checked is used, as [`tokio::time::timeout`] does.
pub(crate) async fn serve_bounded<F: Framework + ?Sized>(
    framework: &F,
    request: Request<Body>,
    deadline: Option<AnswerDeadline>,
) -> Result<Response<Body>, Error> {
    if let Some(deadline) = deadline.filter(AnswerDeadline::has_passed) {
        // Calling the app could only start work that is given up on at once (a batch record
        // whose turn came too late): it is not called, so nothing it does is left half-done.
        return Err(deadline.not_started());
    }
    let serving = AssertUnwindSafe(framework.serve(request)).catch_unwind();
    let served = match deadline {
        None => serving.await,
        Some(deadline) => match tokio::time::timeout_at(deadline.at(), serving).await {
            Ok(served) => served,
            Err(_) => return Err(deadline.head_timeout()),
        },
    };
    match served {
        Ok(Ok(response)) => Ok(response.map(|body| {
            Body::new(GuardedBody {
                inner: body,
                deadline: deadline.map(|deadline| BodyDeadline {
                    deadline,
                    timer: None,
                }),
            })
        })),
        Ok(Err(error)) => Err(Error::app(error)),
        Err(payload) => Err(panic_error(payload)),
    }
}

/// The `App.Panic` error for a caught panic's payload.
pub fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the application panicked".to_owned()
    };
    Error::panic(message)
}

/// The app's response body, guarded: its panics become error frames, and when it has a
/// deadline, a body still running then ends with a timeout error frame.
struct GuardedBody {
    inner: Body,
    deadline: Option<BodyDeadline>,
}

/// The deadline of a [`GuardedBody`] and its timer, made the first time the body waits.
struct BodyDeadline {
    deadline: AnswerDeadline,
    timer: Option<Pin<Box<Sleep>>>,
}

impl GuardedBody {
    /// Ends the body with `error`: the app's body is dropped and is never polled again.
    fn end_with(&mut self, error: Error) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.inner = Body::empty();
        self.deadline = None;
        Poll::Ready(Some(Err(Box::new(error))))
    }
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let inner = &mut this.inner;
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx)));
        match polled {
            // The body cannot be polled again after a panic: end it with the error.
            Err(payload) => this.end_with(panic_error(payload)),
            Ok(Poll::Pending) => {
                let Some(limit) = &mut this.deadline else {
                    return Poll::Pending;
                };
                let at = limit.deadline.at();
                let timer = limit
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                if timer.as_mut().poll(cx).is_ready() {
                    let error = limit.deadline.body_timeout();
                    return this.end_with(error);
                }
                Poll::Pending
            }
            Ok(Poll::Ready(Some(Ok(frame)))) => {
                // A body that keeps producing past the deadline (never waiting, so its timer
                // never fires) is given up on too, unless this frame completes it.
                if let Some(limit) = &this.deadline {
                    if !this.inner.is_end_stream() && limit.deadline.has_passed() {
                        let error = limit.deadline.body_timeout();
                        return this.end_with(error);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Ok(Poll::Ready(None)) => {
                this.deadline = None;
                Poll::Ready(None)
            }
            Ok(failed @ Poll::Ready(Some(Err(_)))) => failed,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::collect_limited;
    use http_body_util::BodyExt;
    use std::convert::Infallible;
    use std::time::Duration;

    #[derive(Clone)]
    struct Echo;

    impl Service<Request<Body>> for Echo {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<Body>) -> Self::Future {
            if request.uri().path() == "/panic" {
                panic!("boom");
            }
            std::future::ready(Ok(Response::new(request.into_body())))
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    #[tokio::test]
    async fn tower_services_are_frameworks_and_panics_are_caught() {
        let future = serve_guarded(&Echo, Request::new(Body::from("hi")));
        assert_send(&future);
        let response = future.await.unwrap();
        assert_eq!(
            &response.into_body().collect().await.unwrap().to_bytes()[..],
            b"hi"
        );

        let request = Request::builder()
            .uri("/panic")
            .body(Body::empty())
            .unwrap();
        let error = serve_guarded(&Echo, request).await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.message(), "boom");
    }

    struct PanickyBody;

    impl http_body::Body for PanickyBody {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            panic!("body panic")
        }
    }

    #[derive(Clone)]
    struct PanickyBodyService;

    impl Service<Request<Body>> for PanickyBodyService {
        type Response = Response<PanickyBody>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<PanickyBody>, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request<Body>) -> Self::Future {
            std::future::ready(Ok(Response::new(PanickyBody)))
        }
    }

    #[tokio::test]
    async fn panics_in_bodies_become_errors() {
        let response = serve_guarded(&PanickyBodyService, Request::new(Body::empty()))
            .await
            .unwrap();
        let mut body = response.into_body();
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(error.to_string().contains("body panic"));
        assert!(
            body.frame().await.is_none(),
            "the body ends after the panic"
        );
    }

    /// An app whose head comes at once (or after `head_delay`) and whose body is `frames`
    /// frames, each `frame_delay` after the previous one (`None`: frames forever, never
    /// waiting).
    struct Trickle {
        head_delay: Duration,
        frames: usize,
        frame_delay: Option<Duration>,
    }

    impl Trickle {
        fn body(frames: usize, frame_delay: Option<Duration>) -> Self {
            Self {
                head_delay: Duration::ZERO,
                frames,
                frame_delay,
            }
        }
    }

    impl Framework for Trickle {
        async fn serve(&self, _: Request<Body>) -> Result<Response<Body>, BoxError> {
            tokio::time::sleep(self.head_delay).await;
            let (frames, delay) = (self.frames, self.frame_delay);
            let stream = futures_util::stream::unfold(0usize, move |sent| async move {
                if sent == frames {
                    return None;
                }
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                let frame = Frame::data(Bytes::from_static(b"row\n"));
                Some((Ok::<_, Infallible>(frame), sent + 1))
            });
            Ok(Response::new(Body::new(http_body_util::StreamBody::new(
                stream,
            ))))
        }
    }

    #[tokio::test]
    async fn a_late_head_is_a_timeout() {
        let app = Trickle {
            head_delay: Duration::from_secs(30),
            frames: 1,
            frame_delay: None,
        };
        let started = tokio::time::Instant::now();
        let deadline = AnswerDeadline::after(Duration::from_millis(100));
        let error = serve_bounded(&app, Request::new(Body::empty()), Some(deadline))
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert!(error.message().contains("did not answer within 100 ms"));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_body_slower_than_the_deadline_ends_with_a_timeout() {
        // Head at once; the body would take 30 s.
        let app = Trickle::body(3, Some(Duration::from_secs(10)));
        let started = tokio::time::Instant::now();
        let deadline = AnswerDeadline::after(Duration::from_millis(150));
        let response = serve_bounded(&app, Request::new(Body::empty()), Some(deadline))
            .await
            .expect("the head comes in time");
        let error = collect_limited(response.into_body(), usize::MAX)
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert_eq!(error.error_type(), "App.Timeout");
        assert!(
            error
                .message()
                .contains("response body was not complete within 150 ms"),
            "{}",
            error.message()
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_body_that_never_waits_is_given_up_on_after_the_deadline() {
        let app = Trickle::body(usize::MAX, None);
        let deadline = AnswerDeadline::after(Duration::from_millis(50));
        let response = serve_bounded(&app, Request::new(Body::empty()), Some(deadline))
            .await
            .unwrap();
        let mut body = response.into_body();
        let error = loop {
            match body.frame().await.expect("the body ends with an error") {
                Ok(_) => {}
                Err(error) => break crate::handler::app_error(error),
            }
        };
        assert!(error.is_timeout(), "{error:?}");
        assert!(
            body.frame().await.is_none(),
            "the body ends after the timeout"
        );
    }

    #[tokio::test]
    async fn bodies_within_the_deadline_or_without_one_are_untouched() {
        let app = Trickle::body(3, Some(Duration::from_millis(20)));
        let deadline = AnswerDeadline::after(Duration::from_secs(20));
        let response = serve_bounded(&app, Request::new(Body::empty()), Some(deadline))
            .await
            .unwrap();
        let body = collect_limited(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"row\nrow\nrow\n");

        // No deadline (unknown): a slow body is not cut short.
        let app = Trickle::body(2, Some(Duration::from_millis(300)));
        let response = serve_guarded(&app, Request::new(Body::empty()))
            .await
            .unwrap();
        let body = collect_limited(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"row\nrow\n");

        // The last frame, ready after the deadline, still completes the body.
        let deadline = AnswerDeadline::after(Duration::from_millis(100));
        let response = serve_bounded(&Echo, Request::new(Body::from("late")), Some(deadline))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let body = collect_limited(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"late");
    }

    #[tokio::test]
    async fn a_request_whose_deadline_has_passed_is_not_served() {
        struct MustNotRun;
        impl Framework for MustNotRun {
            async fn serve(&self, _: Request<Body>) -> Result<Response<Body>, BoxError> {
                panic!("the app was called after the deadline");
            }
        }
        let deadline = AnswerDeadline::after(Duration::ZERO);
        let error = serve_bounded(&MustNotRun, Request::new(Body::empty()), Some(deadline))
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert!(
            error.message().contains("not called"),
            "{}",
            error.message()
        );
    }

    #[tokio::test]
    async fn a_body_panic_is_still_a_panic_under_a_deadline() {
        let deadline = AnswerDeadline::after(Duration::from_secs(20));
        let response = serve_bounded(
            &PanickyBodyService,
            Request::new(Body::empty()),
            Some(deadline),
        )
        .await
        .unwrap();
        let error = collect_limited(response.into_body(), usize::MAX)
            .await
            .unwrap_err();
        assert!(error.is_panic(), "{error:?}");
    }
}
