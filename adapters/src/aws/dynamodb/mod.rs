//! Amazon DynamoDB Streams.
//!
//! **Per record** (the default, [`DynamoDbAdapter`] or [`DynamoDbAdapter::per_record`]): each
//! stream record becomes its own `POST` to `/dynamodb` (configurable) with:
//! - the record's JSON as the request body (`content-type: application/json`), with its
//!   `dynamodb` keys and images in DynamoDB's attribute-value format;
//! - `host: dynamodb.amazonaws.com`, `x-dynamodb-sequence-number`, `x-dynamodb-event-id`,
//!   `x-dynamodb-event-name` (`INSERT`, `MODIFY`, `REMOVE`), `x-dynamodb-event-source-arn`,
//!   `x-dynamodb-aws-region`;
//! - the record as a [`RequestContext`](serverless_adapter_core::RequestContext) extension
//!   (source `dynamodb`): unlike headers, an HTTP client cannot forge it.
//!
//! Records run one after another in stream order; the first that the app answers outside 2xx,
//! fails, panics or times out stops the rest, and the answer is
//! `{"batchItemFailures":[{"itemIdentifier":"<its sequence number>"}]}`: Lambda checkpoints
//! before it and retries from it. This needs `ReportBatchItemFailures` on the event source
//! mapping; without it set
//! [`report_batch_item_failures(false)`](DynamoDbPerRecord::report_batch_item_failures) and any
//! failure fails the whole invocation.
//!
//! **A record that cannot be decoded** (a field of the wrong type, such as a numeric
//! `eventName`) fails only itself: it never reaches the app, its decode error is logged
//! (`warn`, with its sequence number) and it counts as a failed record: the records before it
//! are served, the ones after it are not, and unless an earlier record failed its sequence
//! number is the one reported. A record without a `dynamodb.SequenceNumber` cannot be
//! reported, so it fails the whole invocation (`Event.Malformed`), as does an event without a
//! `Records` array.
//!
//! **Batch** ([`DynamoDbAdapter::batch`]): the whole event in one `POST`; the app answers the
//! `batchItemFailures` JSON itself (sequence numbers), checked as for SQS batches. The event is
//! posted as it came, records the per-record mode could not decode included.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "dynamodb";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/dynamodb";
/// The `host` header of the requests.
pub const HOST: &str = "dynamodb.amazonaws.com";

/// The DynamoDB Streams adapter with the defaults: per record, in order, `POST /dynamodb`,
/// `batchItemFailures` reported. See [`DynamoDbAdapter::per_record`] and
/// [`DynamoDbAdapter::batch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbAdapter;

impl DynamoDbAdapter {
    /// One request per record, configurable: `DynamoDbAdapter::per_record().path("/changes")`.
    pub fn per_record() -> DynamoDbPerRecord {
        DynamoDbPerRecord::default()
    }

    /// One request for the whole batch; the app answers `batchItemFailures` itself.
    pub fn batch() -> DynamoDbBatch {
        DynamoDbBatch::default()
    }
}

/// The DynamoDB Streams adapter in per-record mode, with options.
#[derive(Debug, Clone)]
pub struct DynamoDbPerRecord {
    path: Cow<'static, str>,
    report_batch_item_failures: bool,
}

impl Default for DynamoDbPerRecord {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
            report_batch_item_failures: true,
        }
    }
}

impl DynamoDbPerRecord {
    /// The path records are posted to (default `/dynamodb`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }

    /// Whether the first failed record is reported in `batchItemFailures` (default `true`;
    /// needs `ReportBatchItemFailures` on the event source mapping). With `false`, any failure
    /// fails the whole invocation.
    pub fn report_batch_item_failures(mut self, report: bool) -> Self {
        self.report_batch_item_failures = report;
        self
    }
}

/// The DynamoDB Streams adapter in batch mode, with options.
#[derive(Debug, Clone)]
pub struct DynamoDbBatch {
    path: Cow<'static, str>,
}

impl Default for DynamoDbBatch {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl DynamoDbBatch {
    /// The path the batch is posted to (default `/dynamodb`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event is a DynamoDB Streams batch (`Records[0].eventSource` is `aws:dynamodb`).
fn is_dynamodb(event: &EventProbe<'_>) -> bool {
    event
        .first_of("Records")
        .is_some_and(|record| record.str("eventSource").as_deref() == Some("aws:dynamodb"))
}

impl Adapter for DynamoDbAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_dynamodb(event)
    }

    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        DynamoDbPerRecord::default().decode(event, context)
    }
}

impl Adapter for DynamoDbPerRecord {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_dynamodb(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, &self.path, self.report_batch_item_failures)
    }
}

impl Adapter for DynamoDbBatch {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_dynamodb(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::whole_batch(event, &self.path)
    }
}

#[cfg(test)]
mod tests;
