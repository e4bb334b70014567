//! API Gateway REST APIs (Lambda proxy integration, payload format 1.0; also HTTP APIs set to
//! payload 1.0).
//!
//! The request:
//! - the method, and the path from the event's `path` field: the resource path as API Gateway
//!   gives it, without the stage (`/prod`) that `requestContext.path` carries. Behind a custom
//!   domain with a base path mapping, `path` starts with that base path; strip it with
//!   [`base_path`](ApiGatewayV1Configured::base_path) (at a segment boundary: `/api` strips
//!   `/api/users` to `/users` and `/api` to `/`, never `/apix`);
//! - the query string rebuilt from `multiValueQueryStringParameters` (falling back to
//!   `queryStringParameters`), every value kept, names and values percent-encoded (API Gateway
//!   sends them decoded);
//! - the headers from `multiValueHeaders` and `headers` merged, every value kept;
//! - the body decoded from base64 when the event says so;
//! - `requestContext.identity.sourceIp` as `x-forwarded-for` when the event has none;
//! - the request context as a [`RequestContext`](serverless_adapter_core::RequestContext)
//!   extension and as the `x-amzn-request-context` header, overwriting any value a client sent.
//!
//! The answer: `statusCode`, `multiValueHeaders` (every value of every header, cookies
//! included), `headers` (each header's last value: API Gateway merges the two and drops pairs
//! both hold), the body as text or base64 by content type.
//!
//! REST APIs stream only when the integration is configured for it (response transfer mode
//! `STREAM`): say so with [`streaming(true)`](ApiGatewayV1Configured::streaming); by default
//! answers are buffered.

mod answer;
mod event;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, HttpExchange, LambdaContext};

use crate::common::{payload_version, PayloadVersion};

/// The name this adapter goes by.
pub const NAME: &str = "api-gateway-v1";

/// The adapter for API Gateway REST API events (payload format 1.0), with the defaults: no base
/// path, buffered answers. See [`ApiGatewayV1Adapter::configure`] for the options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayV1Adapter;

impl ApiGatewayV1Adapter {
    /// An adapter with options: `ApiGatewayV1Adapter::configure().base_path("/api").streaming(true)`.
    pub fn configure() -> ApiGatewayV1Configured {
        ApiGatewayV1Configured::default()
    }
}

/// [`ApiGatewayV1Adapter`] with options.
#[derive(Debug, Clone, Default)]
pub struct ApiGatewayV1Configured {
    base_path: Option<String>,
    streaming: bool,
}

impl ApiGatewayV1Configured {
    /// Strips this prefix from request paths, at a segment boundary (a custom domain's base
    /// path mapping). `""` and `"/"` strip nothing.
    pub fn base_path(mut self, base_path: impl AsRef<str>) -> Self {
        let trimmed = base_path.as_ref().trim().trim_end_matches('/');
        self.base_path = if trimmed.is_empty() {
            None
        } else if trimmed.starts_with('/') {
            Some(trimmed.to_owned())
        } else {
            Some(format!("/{trimmed}"))
        };
        self
    }

    /// Whether the integration streams answers (REST API response transfer mode `STREAM`).
    /// Default `false`.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }
}

/// Whether an event is an API Gateway REST (payload 1.0) request: payload version 1.0 (or none:
/// a `"2.0"` event is payload 2.0 even when it also carries `httpMethod`, as cargo-lambda's
/// Function URL events do), `httpMethod`, a `requestContext` that is neither an ALB's (`elb`)
/// nor a WebSocket API's (`connectionId`, `eventType`), and not an authorizer request
/// (`methodArn`). A `null` field counts as absent.
fn is_rest_request(event: &EventProbe<'_>) -> bool {
    payload_version(event) == PayloadVersion::V1
        && event.str("httpMethod").is_some()
        && !event.has("methodArn")
        && event.object("requestContext").is_some_and(|context| {
            !context.has("elb") && !context.has("connectionId") && !context.has("eventType")
        })
}

fn decode(options: &ApiGatewayV1Configured, event: &[u8]) -> Result<Decoded, Error> {
    let request = event::to_request(event, options.base_path.as_deref())?;
    Ok(Decoded::Http(HttpExchange {
        request,
        encoder: Box::new(answer::encode),
        can_stream: options.streaming,
    }))
}

impl Adapter for ApiGatewayV1Adapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_rest_request(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        decode(&ApiGatewayV1Configured::default(), &event)
    }
}

impl Adapter for ApiGatewayV1Configured {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_rest_request(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        decode(self, &event)
    }
}

#[cfg(test)]
mod tests;
