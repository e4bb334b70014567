//! Amazon SNS topics.
//!
//! Each notification becomes a `POST` to `/sns` (configurable) with:
//! - the message (`Sns.Message`) as the request body, `content-type` `application/json` when it
//!   is JSON, `text/plain; charset=utf-8` otherwise;
//! - `host: sns.amazonaws.com`, `x-sns-message-id`, `x-sns-topic-arn`, `x-sns-subject` (when
//!   there is one), `x-sns-type`, `x-sns-timestamp`, `x-sns-subscription-arn`;
//! - each message attribute as `x-sns-message-attribute-<name, lowercased>` (its `Value`);
//! - the whole record as a [`RequestContext`](serverless_adapter_core::RequestContext)
//!   extension (source `sns`): unlike headers, an HTTP client cannot forge it.
//!
//! Lambda invokes SNS subscriptions asynchronously. When the app answers outside 2xx, fails,
//! panics or times out, the invocation fails (`App.ErrorStatus` or the app's error) so Lambda
//! retries it and, after its retries, sends it to the function's on-failure destination or
//! dead-letter queue. On success the answer is `null`. Records are served in order and the
//! first failure stops the rest (SNS sends one record per invocation).

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "sns";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/sns";
/// The `host` header of the requests.
pub const HOST: &str = "sns.amazonaws.com";

/// The SNS adapter with the defaults (`POST /sns`). See [`SnsAdapter::per_record`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SnsAdapter;

impl SnsAdapter {
    /// The adapter with options: `SnsAdapter::per_record().path("/notifications")`.
    pub fn per_record() -> SnsPerRecord {
        SnsPerRecord::default()
    }
}

/// The SNS adapter, with options.
#[derive(Debug, Clone)]
pub struct SnsPerRecord {
    path: Cow<'static, str>,
}

impl Default for SnsPerRecord {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl SnsPerRecord {
    /// The path notifications are posted to (default `/sns`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event is an SNS notification (`Records[0].EventSource` is `aws:sns`).
fn is_sns(event: &EventProbe<'_>) -> bool {
    event
        .first_of("Records")
        .is_some_and(|record| record.str("EventSource").as_deref() == Some("aws:sns"))
}

impl Adapter for SnsAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_sns(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, DEFAULT_PATH)
    }
}

impl Adapter for SnsPerRecord {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_sns(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, &self.path)
    }
}

#[cfg(test)]
mod tests;
