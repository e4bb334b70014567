//! The `Resolver` trait: how the outcome of serving a request is settled.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{header, Response, StatusCode};

use crate::body::Body;
use crate::context::LambdaContext;
use crate::error::Error;

/// How an HTTP invocation is settled.
#[derive(Debug)]
pub enum Resolution {
    /// Answer with this response (through the handler: buffered or streamed).
    Respond(Response<Body>),
    /// Fail the invocation: Lambda is told through the Runtime API's `/error`.
    Fail(Error),
}

/// Decides what Lambda is told about the outcome of serving an HTTP request: the app's
/// response, its error, its panic, or a timeout.
///
/// Events that cannot be read (no adapter, malformed) always fail the invocation; a stream
/// that fails after its first bytes were sent is ended with error trailers by the handler.
pub trait Resolver: Send + Sync + 'static {
    /// Settles one outcome.
    fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        context: &LambdaContext,
    ) -> impl Future<Output = Resolution> + Send;
}

impl<R: Resolver> Resolver for Arc<R> {
    fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        context: &LambdaContext,
    ) -> impl Future<Output = Resolution> + Send {
        (**self).resolve(outcome, context)
    }
}

/// The default resolver: the app's responses are answered as they are; an app error, a
/// panic or a timeout becomes a short JSON error response (`502`, `500`, `504`) that leaks
/// no internals (the details are logged); anything else fails the invocation.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResolver;

impl Resolver for DefaultResolver {
    async fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        context: &LambdaContext,
    ) -> Resolution {
        match outcome {
            Ok(response) => Resolution::Respond(response),
            Err(error) => match error_response(&error) {
                Some(response) => {
                    tracing::error!(
                        request_id = %context.request_id,
                        error_type = error.error_type(),
                        error = error.message(),
                        "the application failed; answering {}",
                        response.status()
                    );
                    Resolution::Respond(response)
                }
                None => Resolution::Fail(error),
            },
        }
    }
}

/// The short JSON response the default resolver gives for an app failure, or `None` when the
/// error is not the app's.
pub fn error_response(error: &Error) -> Option<Response<Body>> {
    let status = if error.is_panic() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if error.is_app() {
        StatusCode::BAD_GATEWAY
    } else if error.is_timeout() {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        return None;
    };
    let body = format!(
        r#"{{"message":"{}","errorType":"{}"}}"#,
        status.canonical_reason().unwrap_or("Error"),
        error.error_type()
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .ok()
}

/// An object-safe view of a resolver, for code that holds one without its type.
pub(crate) trait ErasedResolver: Send + Sync {
    fn resolve_boxed<'a>(
        &'a self,
        outcome: Result<Response<Body>, Error>,
        context: &'a LambdaContext,
    ) -> Pin<Box<dyn Future<Output = Resolution> + Send + 'a>>;
}

impl<R: Resolver> ErasedResolver for R {
    fn resolve_boxed<'a>(
        &'a self,
        outcome: Result<Response<Body>, Error>,
        context: &'a LambdaContext,
    ) -> Pin<Box<dyn Future<Output = Resolution> + Send + 'a>> {
        Box::pin(self.resolve(outcome, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn app_failures_become_short_answers_and_event_failures_fail() {
        let ctx = LambdaContext::for_request_id("r");
        let Resolution::Respond(resp) = DefaultResolver
            .resolve(Err(Error::panic("secret detail")), &ctx)
            .await
        else {
            panic!("a panic is answered")
        };
        assert_eq!(resp.status(), 500);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            &body[..],
            br#"{"message":"Internal Server Error","errorType":"App.Panic"}"#
        );
        let Resolution::Respond(resp) = DefaultResolver.resolve(Err(Error::app("x")), &ctx).await
        else {
            panic!("an app error is answered")
        };
        assert_eq!(resp.status(), 502);
        let Resolution::Respond(resp) = DefaultResolver
            .resolve(Err(Error::timeout("x")), &ctx)
            .await
        else {
            panic!("a timeout is answered")
        };
        assert_eq!(resp.status(), 504);
        assert!(matches!(
            DefaultResolver.resolve(Err(Error::malformed_event("x")), &ctx).await,
            Resolution::Fail(e) if e.is_malformed_event()
        ));
        assert!(matches!(
            DefaultResolver.resolve(Ok(Response::new(Body::empty())), &ctx).await,
            Resolution::Respond(r) if r.status() == 200
        ));
    }
}
