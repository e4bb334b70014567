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
use tower_service::Service;

use crate::body::{Body, BoxError};
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
pub async fn serve_guarded<F: Framework + ?Sized>(
    framework: &F,
    request: Request<Body>,
) -> Result<Response<Body>, Error> {
    match AssertUnwindSafe(framework.serve(request))
        .catch_unwind()
        .await
    {
        Ok(Ok(response)) => Ok(response.map(|body| Body::new(PanicGuardBody { inner: body }))),
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

/// A body whose panics become error frames.
struct PanicGuardBody {
    inner: Body,
}

impl http_body::Body for PanicGuardBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                // The body cannot be polled again after a panic: end it with the error.
                self.inner = Body::empty();
                Poll::Ready(Some(Err(Box::new(panic_error(payload)))))
            }
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
    use http_body_util::BodyExt;
    use std::convert::Infallible;

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
}
