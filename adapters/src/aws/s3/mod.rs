//! Amazon S3 event notifications (delivered to Lambda directly; notifications routed through
//! SQS, SNS or EventBridge are handled by those adapters).
//!
//! Each record becomes a `POST` to `/s3` (configurable) with:
//! - the record's JSON as the request body (`content-type: application/json`);
//! - `host: s3.amazonaws.com`, `x-s3-event-name` (`ObjectCreated:Put`...), `x-s3-event-time`,
//!   `x-s3-aws-region`, `x-s3-bucket`, `x-s3-key` (URL-encoded, as S3 sends it);
//! - the record as a [`RequestContext`](serverless_adapter_core::RequestContext) extension
//!   (source `s3`): unlike headers, an HTTP client cannot forge it.
//!
//! S3 invokes Lambda asynchronously. When the app answers outside 2xx, fails, panics or times
//! out, the invocation fails so Lambda retries it (then its on-failure destination takes it);
//! on success the answer is `null`. Records are served in order and the first failure stops the
//! rest.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "s3";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/s3";
/// The `host` header of the requests.
pub const HOST: &str = "s3.amazonaws.com";

/// The S3 adapter with the defaults (`POST /s3`). See [`S3Adapter::per_record`].
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Adapter;

impl S3Adapter {
    /// The adapter with options: `S3Adapter::per_record().path("/uploads")`.
    pub fn per_record() -> S3PerRecord {
        S3PerRecord::default()
    }
}

/// The S3 adapter, with options.
#[derive(Debug, Clone)]
pub struct S3PerRecord {
    path: Cow<'static, str>,
}

impl Default for S3PerRecord {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl S3PerRecord {
    /// The path records are posted to (default `/s3`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event is an S3 notification (`Records[0].eventSource` is `aws:s3`).
fn is_s3(event: &EventProbe<'_>) -> bool {
    event
        .first_of("Records")
        .is_some_and(|record| record.str("eventSource").as_deref() == Some("aws:s3"))
}

impl Adapter for S3Adapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_s3(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, DEFAULT_PATH)
    }
}

impl Adapter for S3PerRecord {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_s3(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, &self.path)
    }
}

#[cfg(test)]
mod tests;
