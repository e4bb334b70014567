//! Extractors for what Lambda tells about a request.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::error::ErrorInternalServerError;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serverless_adapter_core::{LambdaContext, RequestContext};

/// Extracts the invocation's [`LambdaContext`] (request id, deadline, trace id...).
/// Rejects with 500 when the request did not come through Lambda.
///
/// `web::ReqData<LambdaContext>` works too: the context is a request extension.
#[derive(Debug, Clone)]
pub struct Lambda(pub LambdaContext);

/// Extracts the event's [`RequestContext`] (API Gateway, Function URL or ALB request context).
/// Rejects with 500 when the request did not come from such an event.
#[derive(Debug, Clone)]
pub struct EventContext(pub RequestContext);

/// The request's headers as an `http` 1.x [`HeaderMap`], in the order they were received:
/// names in order of first appearance, each name's values in order.
///
/// actix-web's own header map does not keep the order of names; [`ActixFramework`] keeps the
/// original map as a request extension. Outside it (under actix's `HttpServer`), the extractor
/// converts actix's map, in its order.
///
/// [`ActixFramework`]: crate::ActixFramework
#[derive(Debug, Clone, Default)]
pub struct OriginalHeaders(pub HeaderMap);

impl FromRequest for Lambda {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<LambdaContext>()
                .cloned()
                .map(Lambda)
                .ok_or_else(|| {
                    ErrorInternalServerError("this request did not come through Lambda")
                }),
        )
    }
}

impl FromRequest for EventContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<RequestContext>()
                .cloned()
                .map(EventContext)
                .ok_or_else(|| {
                    ErrorInternalServerError("this request did not come from an HTTP event")
                }),
        )
    }
}

impl FromRequest for OriginalHeaders {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(headers) = request.extensions().get::<OriginalHeaders>() {
            return ready(Ok(headers.clone()));
        }
        let mut headers = HeaderMap::with_capacity(request.headers().len());
        for (name, value) in request.headers() {
            // actix's names and values are valid `http` 1.x ones.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(name, value);
            }
        }
        ready(Ok(OriginalHeaders(headers)))
    }
}
