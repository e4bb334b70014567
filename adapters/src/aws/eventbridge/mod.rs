//! Amazon EventBridge (and CloudWatch Events) rules and schedules.
//!
//! The event becomes one `POST` to `/eventbridge` (configurable) with:
//! - the event's JSON as the request body (`content-type: application/json`);
//! - `host: events.amazonaws.com`, `x-eventbridge-id`, `x-eventbridge-source`,
//!   `x-eventbridge-detail-type`, `x-eventbridge-account`, `x-eventbridge-region`,
//!   `x-eventbridge-time`;
//! - the event as a [`RequestContext`](serverless_adapter_core::RequestContext) extension
//!   (source `eventbridge`): unlike headers, an HTTP client cannot forge it.
//!
//! Any event with EventBridge's envelope (`detail-type` and `source`) is taken: custom events,
//! schedules, and AWS service events (EC2, Auto Scaling, CodeBuild, CodePipeline, ECR,
//! CloudWatch alarm state changes...).
//!
//! EventBridge invokes Lambda asynchronously. When the app answers outside 2xx, fails, panics
//! or times out, the invocation fails so Lambda retries it; on success the answer is `null`.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "eventbridge";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/eventbridge";
/// The `host` header of the requests.
pub const HOST: &str = "events.amazonaws.com";

/// The EventBridge adapter with the defaults (`POST /eventbridge`). See
/// [`EventBridgeAdapter::configure`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBridgeAdapter;

impl EventBridgeAdapter {
    /// The adapter with options: `EventBridgeAdapter::configure().path("/cron")`.
    pub fn configure() -> EventBridgeConfigured {
        EventBridgeConfigured::default()
    }
}

/// The EventBridge adapter, with options.
#[derive(Debug, Clone)]
pub struct EventBridgeConfigured {
    path: Cow<'static, str>,
}

impl Default for EventBridgeConfigured {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl EventBridgeConfigured {
    /// The path events are posted to (default `/eventbridge`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event has EventBridge's envelope: string `detail-type` and `source` fields.
fn is_eventbridge(event: &EventProbe<'_>) -> bool {
    event.str("detail-type").is_some() && event.str("source").is_some()
}

impl Adapter for EventBridgeAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_eventbridge(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::to_batch(event, DEFAULT_PATH)
    }
}

impl Adapter for EventBridgeConfigured {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_eventbridge(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::to_batch(event, &self.path)
    }
}

#[cfg(test)]
mod tests;
