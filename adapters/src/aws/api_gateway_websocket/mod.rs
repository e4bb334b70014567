//! API Gateway WebSocket APIs (Lambda proxy integration).
//!
//! Every route invocation — `$connect`, `$disconnect`, `$default` and custom routes — becomes a
//! `POST` to `/ws/<route key without $>` (`/ws/connect`, `/ws/disconnect`, `/ws/default`,
//! `/ws/sendmessage`; the prefix is configurable with
//! [`path_prefix`](ApiGatewayWebSocketConfigured::path_prefix), the route key is one
//! percent-encoded path segment) with:
//! - the message as the body (decoded from base64 for binary frames);
//! - on `$connect`, the handshake's headers (every value) and query string (percent-encoded);
//! - `x-websocket-connection-id`, `x-websocket-route-key`, `x-websocket-event-type`
//!   (`CONNECT`, `MESSAGE`, `DISCONNECT`), `x-websocket-message-id`, `x-websocket-domain-name`
//!   and `x-websocket-stage` (the two make the `@connections` endpoint to post back to
//!   clients), `x-websocket-disconnect-status-code` and `x-websocket-disconnect-reason` on
//!   `$disconnect`; these overwrite any value a client sent;
//! - `host` from `requestContext.domainName` when the event has none, the source IP as
//!   `x-forwarded-for` when the event has none;
//! - the request context as a [`RequestContext`](serverless_adapter_core::RequestContext)
//!   extension and as the `x-amzn-request-context` header, overwriting any value a client sent.
//!
//! The answer is the integration response `{"statusCode","headers","multiValueHeaders","body",
//! "isBase64Encoded"}`: on `$connect` a non-2xx status refuses the connection; on message routes
//! the body is sent back to the client when the route has a route response. WebSocket
//! invocations never stream.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, HttpExchange, LambdaContext};

use crate::common::{payload_version, PayloadVersion};

/// The name this adapter goes by.
pub const NAME: &str = "api-gateway-websocket";
/// The path prefix of the requests unless configured otherwise.
pub const DEFAULT_PATH_PREFIX: &str = "/ws";

/// The adapter for API Gateway WebSocket API events, with the default path prefix `/ws`. See
/// [`ApiGatewayWebSocketAdapter::configure`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayWebSocketAdapter;

impl ApiGatewayWebSocketAdapter {
    /// The adapter with options: `ApiGatewayWebSocketAdapter::configure().path_prefix("/socket")`.
    pub fn configure() -> ApiGatewayWebSocketConfigured {
        ApiGatewayWebSocketConfigured::default()
    }
}

/// [`ApiGatewayWebSocketAdapter`] with options.
#[derive(Debug, Clone)]
pub struct ApiGatewayWebSocketConfigured {
    path_prefix: Cow<'static, str>,
}

impl Default for ApiGatewayWebSocketConfigured {
    fn default() -> Self {
        Self {
            path_prefix: Cow::Borrowed(DEFAULT_PATH_PREFIX),
        }
    }
}

impl ApiGatewayWebSocketConfigured {
    /// The prefix of request paths (default `/ws`): routes are posted to `<prefix>/<route>`.
    /// `""` or `"/"` posts to `/<route>`.
    pub fn path_prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.path_prefix = prefix.into();
        self
    }
}

/// Whether the event is a WebSocket route invocation: payload version 1.0 or none, a
/// `requestContext` with `connectionId`, `eventType` and `routeKey`, and not an authorizer
/// request (`methodArn`). A `null` field counts as absent.
fn is_websocket(event: &EventProbe<'_>) -> bool {
    payload_version(event) == PayloadVersion::V1
        && !event.has("methodArn")
        && event.object("requestContext").is_some_and(|context| {
            context.str("connectionId").is_some()
                && context.str("eventType").is_some()
                && context.str("routeKey").is_some()
        })
}

fn decode(path_prefix: &str, event: &[u8]) -> Result<Decoded, Error> {
    let request = event::to_request(event, path_prefix)?;
    Ok(Decoded::Http(HttpExchange {
        request,
        encoder: Box::new(answer::encode),
        can_stream: false,
    }))
}

impl Adapter for ApiGatewayWebSocketAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_websocket(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        decode(DEFAULT_PATH_PREFIX, &event)
    }
}

impl Adapter for ApiGatewayWebSocketConfigured {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_websocket(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        decode(&self.path_prefix, &event)
    }
}

#[cfg(test)]
mod tests;
