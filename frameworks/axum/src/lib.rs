//! axum, and any tower service, served in process by serverless-adapter.
//!
//! Every `tower::Service<http::Request<Body>>` that is `Clone` — an axum [`Router`](axum::Router)
//! included — already is a [`Framework`](serverless_adapter_core::Framework): the implementation
//! lives in `serverless-adapter-core` (Rust's orphan rule lets only the trait's crate implement it
//! for every tower service). Requests reach the router without a socket, and both bodies stream.
//!
//! This crate adds extractors for what Lambda tells about a request:
//!
//! ```
//! use axum::{routing::get, Router};
//! use serverless_adapter_axum::{Lambda, EventContext};
//!
//! async fn whoami(Lambda(context): Lambda, EventContext(event): EventContext) -> String {
//!     format!("{} via {}", context.request_id, event.source())
//! }
//!
//! let app: Router = Router::new().route("/whoami", get(whoami));
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serverless_adapter_core::{LambdaContext, RequestContext};

/// Extracts the invocation's [`LambdaContext`] (request id, deadline, trace id...).
/// Rejects with 500 when the request did not come through Lambda.
#[derive(Debug, Clone)]
pub struct Lambda(pub LambdaContext);

/// Extracts the event's [`RequestContext`] (API Gateway, Function URL or ALB request context).
/// Rejects with 500 when the request did not come from such an event.
#[derive(Debug, Clone)]
pub struct EventContext(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Lambda {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<LambdaContext>()
            .cloned()
            .map(Lambda)
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "this request did not come through Lambda",
            ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EventContext {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .map(EventContext)
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "this request did not come from an HTTP event",
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use http_body_util::BodyExt;
    use serverless_adapter_core::{serve_guarded, Body};

    async fn whoami(Lambda(context): Lambda, EventContext(event): EventContext) -> String {
        format!("{} via {}", context.request_id, event.source())
    }

    #[tokio::test]
    async fn routers_are_frameworks_and_extractors_see_lambda() {
        let app: Router = Router::new().route("/whoami", get(whoami));
        let mut request = http::Request::builder()
            .uri("/whoami")
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(LambdaContext::for_request_id("req-7"));
        request
            .extensions_mut()
            .insert(RequestContext::new("api-gateway-v2", "{}"));
        let response = serve_guarded(&app, request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"req-7 via api-gateway-v2");

        let request = http::Request::builder()
            .uri("/whoami")
            .body(Body::empty())
            .unwrap();
        let response = serve_guarded(&app, request).await.unwrap();
        assert_eq!(
            response.status(),
            500,
            "outside Lambda the extractor rejects"
        );
    }
}
