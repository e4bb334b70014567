//! Application Load Balancer targets (Lambda as an ALB target group).
//!
//! The request: the method; the path as ALB sends it; the query rebuilt from the parameters
//! exactly as ALB passes them (ALB does not decode them, so nothing is encoded again); the
//! headers (names lowercased); the body decoded from base64 when the event says so; the request
//! context (`{"elb":{"targetGroupArn":..}}`) as a
//! [`RequestContext`](serverless_adapter_core::RequestContext) extension and as the
//! `x-amzn-request-context` header, overwriting any value a client sent.
//!
//! A target group either has multi-value headers enabled or not, and the event shows which:
//! with `multiValueHeaders` in the event, headers and query parameters are read from the
//! multi-value fields (every value kept) and the answer carries `multiValueHeaders` (every
//! value, each cookie); without, the single-value fields are read and the answer carries
//! `headers`, repeated values joined with `, ` (a single `set-cookie` only: the last; enable
//! multi-value headers to send several cookies).
//!
//! The answer has `statusCode`, `statusDescription` (`200 OK`), the headers, and the body as
//! text or base64 by content type. ALB never streams.

mod answer;
mod event;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, HttpExchange, LambdaContext};

use crate::common::{payload_version, PayloadVersion};

/// The name this adapter goes by.
pub const NAME: &str = "alb";

/// The adapter for Application Load Balancer events.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlbAdapter;

impl Adapter for AlbAdapter {
    fn name(&self) -> &str {
        NAME
    }

    /// Payload version 1.0 or none, `httpMethod`, and `requestContext.elb`. A `null` field
    /// counts as absent.
    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        payload_version(event) == PayloadVersion::V1
            && event.str("httpMethod").is_some()
            && event
                .object("requestContext")
                .is_some_and(|context| context.has("elb"))
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        let (request, multi_value) = event::to_request(&event)?;
        Ok(Decoded::Http(HttpExchange {
            request,
            encoder: Box::new(move |head: &http::response::Parts, body: Bytes| {
                answer::encode(head, body, multi_value)
            }),
            can_stream: false,
        }))
    }
}

#[cfg(test)]
mod tests;
