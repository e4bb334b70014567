//! `AwsStreamHandler`: Lambda response streaming for HTTP answers.

mod body;
mod prelude;

use std::time::Duration;

use http::Response;
use serverless_adapter_core::runtime::HTTP_INTEGRATION_CONTENT_TYPE;
use serverless_adapter_core::{Answer, Body, Error, Handler};
use tokio::time::Instant;

pub use body::{HttpIntegrationBody, PRELUDE_SEPARATOR, STREAM_ERROR_TYPE};
pub use prelude::encode_prelude;

/// Time kept before the Lambda deadline by [`AwsStreamHandler`]: a body still streaming then is
/// ended with an `App.Timeout` error trailer, so the answer is complete before Lambda stops the
/// function. It matches the builder's default `deadline_margin`, which bounds every answer of
/// the function — head and body, streamed or buffered — already; a larger margin here ends a
/// stream earlier than that.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// Streams HTTP answers to callers that can receive a stream; answers the others buffered.
///
/// When the event's caller can receive a stream ([`Answer::can_stream`]: a Lambda Function URL
/// in `RESPONSE_STREAM` mode), the answer is posted with
/// `Lambda-Runtime-Function-Response-Mode: streaming` as an [`HttpIntegrationBody`]: the JSON
/// prelude, eight NUL bytes, then each body frame as the app produces it, at the pace the Runtime
/// API reads it. An error after the prelude ends the stream with real HTTP trailers
/// (`Lambda-Runtime-Function-Error-Type`, `Lambda-Runtime-Function-Error-Body`), and a body still
/// running at the function's deadline (the Lambda deadline minus the builder's `deadline_margin`,
/// or minus this handler's margin, [`DEFAULT_DEADLINE_MARGIN`], when that is larger) is ended
/// with an `App.Timeout` trailer instead of being cut off by Lambda mid-write.
///
/// Other events (API Gateway HTTP APIs, ALB, ...) are answered buffered, exactly as
/// [`DefaultHandler`](serverless_adapter_core::DefaultHandler) answers them, so one function can
/// stream its Function URL and still answer everything else: their whole answer, body
/// included, ends by the function's deadline, or is settled as `App.Timeout` (a `504` with the
/// default resolver). (Batch events such as SQS never reach a handler: the core settles them
/// buffered, a record still running at the deadline reported as failed.)
///
/// For another deadline margin use [`AwsStreamHandler::with_deadline_margin`].
///
/// ```no_run
/// # async fn run(app: axum::Router) -> Result<(), serverless_adapter_core::Error> {
/// use serverless_adapter_adapters::ApiGatewayV2Adapter;
/// use serverless_adapter_core::ServerlessAdapter;
/// use serverless_adapter_handlers::AwsStreamHandler;
///
/// ServerlessAdapter::new(app)
///     .handler(AwsStreamHandler)
///     .adapter(ApiGatewayV2Adapter)
///     .build()
///     .await
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsStreamHandler;

impl AwsStreamHandler {
    /// The stream handler with another deadline margin (the default is
    /// [`DEFAULT_DEADLINE_MARGIN`]). The function's own margin (the builder's `deadline_margin`)
    /// always applies too: the stream ends at whichever of the two comes first, so a zero margin
    /// here adds no cut-off of its own.
    pub const fn with_deadline_margin(margin: Duration) -> StreamHandler {
        StreamHandler::new().deadline_margin(margin)
    }
}

impl Handler for AwsStreamHandler {
    async fn answer(&self, response: Response<Body>, answer: Answer<'_>) -> Result<(), Error> {
        StreamHandler::new().answer(response, answer).await
    }
}

/// [`AwsStreamHandler`], configured.
///
/// ```
/// use std::time::Duration;
/// use serverless_adapter_handlers::{AwsStreamHandler, StreamHandler};
///
/// let handler = AwsStreamHandler::with_deadline_margin(Duration::from_millis(500));
/// assert_eq!(handler.margin(), Duration::from_millis(500));
/// assert_eq!(StreamHandler::from(AwsStreamHandler).margin(), Duration::from_millis(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHandler {
    deadline_margin: Duration,
}

impl StreamHandler {
    /// The stream handler with the default settings (the same as [`AwsStreamHandler`]).
    pub const fn new() -> Self {
        Self {
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }

    /// Sets how long before the Lambda deadline a body still streaming is ended with an
    /// `App.Timeout` error trailer (at the latest at the function's deadline, the builder's
    /// `deadline_margin` before it).
    pub const fn deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = margin;
        self
    }

    /// The deadline margin.
    pub const fn margin(&self) -> Duration {
        self.deadline_margin
    }
}

impl Default for StreamHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl From<AwsStreamHandler> for StreamHandler {
    fn from(_: AwsStreamHandler) -> Self {
        Self::new()
    }
}

impl Handler for StreamHandler {
    async fn answer(&self, response: Response<Body>, answer: Answer<'_>) -> Result<(), Error> {
        if !answer.can_stream() {
            return answer.send_buffered(response).await;
        }
        let context = answer.context();
        let mut body = HttpIntegrationBody::new(response).request_id(context.request_id.as_str());
        if let Some(left) = context.remaining() {
            if !self.deadline_margin.is_zero() {
                body = body.deadline(Instant::now() + left.saturating_sub(self.deadline_margin));
            }
        }
        answer
            .send_streaming(HTTP_INTEGRATION_CONTENT_TYPE, Body::new(body))
            .await
    }
}

#[cfg(test)]
mod tests;
