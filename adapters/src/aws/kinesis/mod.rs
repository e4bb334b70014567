//! Amazon Kinesis Data Streams.
//!
//! **Per record** (the default, [`KinesisAdapter`] or [`KinesisAdapter::per_record`]): each
//! record becomes its own `POST` to `/kinesis` (configurable) with:
//! - the record's data, base64-decoded, as the request body, `content-type`
//!   `application/json` when it is JSON, `text/plain; charset=utf-8` when it is other text,
//!   `application/octet-stream` otherwise;
//! - `host: kinesis.amazonaws.com`, `x-kinesis-sequence-number`, `x-kinesis-partition-key`,
//!   `x-kinesis-event-id`, `x-kinesis-event-source-arn`, `x-kinesis-aws-region`,
//!   `x-kinesis-approximate-arrival-timestamp`, `x-kinesis-encryption-type` (when encrypted);
//! - the record as a [`RequestContext`](serverless_adapter_core::RequestContext) extension
//!   (source `kinesis`): unlike headers, an HTTP client cannot forge it.
//!
//! Records run one after another in stream order; the first that the app answers outside 2xx,
//! fails, panics or times out stops the rest, and the answer is
//! `{"batchItemFailures":[{"itemIdentifier":"<its sequence number>"}]}`: Lambda checkpoints
//! before it and retries from it, so records are never processed out of order. This needs
//! `ReportBatchItemFailures` on the event source mapping; without it set
//! [`report_batch_item_failures(false)`](KinesisPerRecord::report_batch_item_failures) and any
//! failure fails the whole invocation (the whole batch is retried).
//!
//! **A record that cannot be decoded** (data that is not base64, a field of the wrong type)
//! fails only itself: it never reaches the app, its decode error is logged (`warn`, with its
//! sequence number) and it counts as a failed record: the records before it are served, the
//! ones after it are not, and unless an earlier record failed its sequence number is the one
//! reported. A record without a `kinesis.sequenceNumber` cannot be reported, so it fails the
//! whole invocation (`Event.Malformed`), as does an event without a `Records` array.
//!
//! **Batch** ([`KinesisAdapter::batch`]): the whole event in one `POST`; the app answers the
//! `batchItemFailures` JSON itself (sequence numbers), checked as for SQS batches: an error
//! status, an app failure, a malformed answer or an unknown sequence number fails the whole
//! invocation. The event is posted as it came (the data still base64), records the per-record
//! mode could not decode included.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "kinesis";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/kinesis";
/// The `host` header of the requests.
pub const HOST: &str = "kinesis.amazonaws.com";

/// The Kinesis adapter with the defaults: per record, in order, `POST /kinesis`,
/// `batchItemFailures` reported. See [`KinesisAdapter::per_record`] and
/// [`KinesisAdapter::batch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KinesisAdapter;

impl KinesisAdapter {
    /// One request per record, configurable: `KinesisAdapter::per_record().path("/clicks")`.
    pub fn per_record() -> KinesisPerRecord {
        KinesisPerRecord::default()
    }

    /// One request for the whole batch; the app answers `batchItemFailures` itself.
    pub fn batch() -> KinesisBatch {
        KinesisBatch::default()
    }
}

/// The Kinesis adapter in per-record mode, with options.
#[derive(Debug, Clone)]
pub struct KinesisPerRecord {
    path: Cow<'static, str>,
    report_batch_item_failures: bool,
}

impl Default for KinesisPerRecord {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
            report_batch_item_failures: true,
        }
    }
}

impl KinesisPerRecord {
    /// The path records are posted to (default `/kinesis`).
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

/// The Kinesis adapter in batch mode, with options.
#[derive(Debug, Clone)]
pub struct KinesisBatch {
    path: Cow<'static, str>,
}

impl Default for KinesisBatch {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl KinesisBatch {
    /// The path the batch is posted to (default `/kinesis`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event is a Kinesis batch (`Records[0].eventSource` is `aws:kinesis`).
fn is_kinesis(event: &EventProbe<'_>) -> bool {
    event
        .first_of("Records")
        .is_some_and(|record| record.str("eventSource").as_deref() == Some("aws:kinesis"))
}

impl Adapter for KinesisAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_kinesis(event)
    }

    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        KinesisPerRecord::default().decode(event, context)
    }
}

impl Adapter for KinesisPerRecord {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_kinesis(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, &self.path, self.report_batch_item_failures)
    }
}

impl Adapter for KinesisBatch {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_kinesis(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::whole_batch(event, &self.path)
    }
}

#[cfg(test)]
mod tests;
