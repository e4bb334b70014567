//! API Gateway HTTP APIs (payload format 2.0) and Lambda Function URLs.
//!
//! The request: the method, `rawPath` and `rawQueryString` byte-exact, the headers as received
//! (API Gateway has already joined repeated values with commas), `cookies[]` joined into one
//! `cookie` header with `; `, the body decoded from base64 when the event says so, the source IP
//! as `x-forwarded-for` (when the event has none), and the request context both as a
//! [`RequestContext`](serverless_adapter_core::RequestContext) extension and as the
//! `x-amzn-request-context` header, overwriting any value a client sent.
//!
//! The answer: `statusCode`, `headers` (repeated values joined with `, `), every `set-cookie` in
//! `cookies[]`, and the body as text or base64 by content type. Function URL events can be
//! answered streamed; API Gateway HTTP API events cannot.

mod answer;
mod event;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, HttpExchange, LambdaContext};

use crate::common::{payload_version, PayloadVersion};

/// The adapter for API Gateway HTTP API (payload 2.0) and Lambda Function URL events.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayV2Adapter;

/// The name this adapter goes by.
pub const NAME: &str = "api-gateway-v2";

impl Adapter for ApiGatewayV2Adapter {
    fn name(&self) -> &str {
        NAME
    }

    /// Payload version `"2.0"` (decisive: fields of other shapes, such as the `httpMethod`
    /// cargo-lambda adds, do not matter), `rawPath`, `requestContext.http.method`, and not an
    /// authorizer request (`routeArn`). A `null` field counts as absent.
    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        payload_version(event) == PayloadVersion::V2
            && event.has("rawPath")
            && event
                .str_at(&["requestContext", "http", "method"])
                .is_some()
            && !event.has("routeArn")
    }

    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        let (request, can_stream) = event::to_request(&event, context)?;
        Ok(Decoded::Http(HttpExchange {
            request,
            encoder: Box::new(answer::encode),
            can_stream,
        }))
    }
}

#[cfg(test)]
mod tests;
