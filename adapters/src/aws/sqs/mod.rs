//! Amazon SQS queues, standard and FIFO.
//!
//! **Per record** (the default, [`SqsAdapter`] or [`SqsAdapter::per_record`]): each message
//! becomes its own `POST` to `/sqs` (configurable) with:
//! - the message body as the request body, `content-type` `application/json` when it is JSON,
//!   `text/plain; charset=utf-8` otherwise;
//! - `host: sqs.amazonaws.com`, `x-sqs-message-id`, `x-sqs-receipt-handle`,
//!   `x-sqs-event-source-arn`, `x-sqs-aws-region`;
//! - each system attribute as `x-sqs-<attribute in kebab case>`:
//!   `x-sqs-approximate-receive-count`, `x-sqs-sent-timestamp`, `x-sqs-sender-id`,
//!   `x-sqs-approximate-first-receive-timestamp`, `x-sqs-message-group-id`,
//!   `x-sqs-message-deduplication-id`, `x-sqs-sequence-number`, `x-sqs-aws-trace-header`...;
//! - each message attribute as `x-sqs-message-attribute-<name, lowercased>`: its
//!   `stringValue` (String and Number types) or its `binaryValue` (base64, Binary types);
//! - the whole record as a [`RequestContext`](serverless_adapter_core::RequestContext)
//!   extension (source `sqs`). Headers can be forged by an HTTP client when the same app also
//!   serves HTTP; the extension cannot, so check it to know a request really came from SQS.
//!
//! Messages run concurrently (10 at once by default, [`concurrency`](SqsPerRecord::concurrency)).
//! A message fails when the app answers outside 2xx, fails, panics or times out; the answer is
//! `{"batchItemFailures":[{"itemIdentifier":"<messageId>"},..]}` with exactly the failed
//! messages, so SQS deletes the others. This needs `ReportBatchItemFailures` on the event
//! source mapping: without it Lambda ignores the list and deletes every message of a batch that
//! "succeeded"; in that case set [`report_batch_item_failures(false)`](SqsPerRecord::report_batch_item_failures)
//! and any failure fails the whole invocation (the whole batch is retried).
//!
//! **FIFO queues** (`.fifo` at the end of `eventSourceARN`): messages of one message group run
//! in order, one at a time (groups run concurrently); after the first failure in a group every
//! later message of that group is reported failed without being served, so the group's order
//! is kept.
//!
//! **A message that cannot be decoded** (a `body` that is not a string, attributes of the wrong
//! shape...) fails only itself: it never reaches the app, its decode error is logged (`warn`,
//! with its `messageId`) and it is reported in `batchItemFailures` like a message the app
//! failed (FIFO: with the later messages of its group, which are not served); the other
//! messages are served as usual. A message without a `messageId` cannot be reported, so it
//! fails the whole invocation (`Event.Malformed`), as does an event without a `Records` array.
//!
//! **Batch** ([`SqsAdapter::batch`]): the whole event in one `POST` (the event's JSON as the
//! body); the app answers the `batchItemFailures` JSON itself. Its answer is checked: a 2xx
//! with an empty body, `null` or `{}` means every message succeeded; an error status, an app
//! failure, a malformed answer or an `itemIdentifier` that is not a message of the batch fails
//! the whole invocation, so no message is ever deleted by mistake. The event is posted as it
//! came, messages the per-record mode could not decode included; every message needs its
//! `messageId` (to check the answer), or the invocation fails.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "sqs";
/// Where requests are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/sqs";
/// The `host` header of the requests.
pub const HOST: &str = "sqs.amazonaws.com";
/// How many messages are served at once by default (message groups, for FIFO queues).
pub const DEFAULT_CONCURRENCY: usize = 10;

/// The SQS adapter with the defaults: per record, `POST /sqs`, 10 messages at once,
/// `batchItemFailures` reported. See [`SqsAdapter::per_record`] and [`SqsAdapter::batch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SqsAdapter;

impl SqsAdapter {
    /// One request per message, configurable:
    /// `SqsAdapter::per_record().path("/jobs").concurrency(4)`.
    pub fn per_record() -> SqsPerRecord {
        SqsPerRecord::default()
    }

    /// One request for the whole batch; the app answers `batchItemFailures` itself.
    pub fn batch() -> SqsBatch {
        SqsBatch::default()
    }
}

/// The SQS adapter in per-record mode, with options.
#[derive(Debug, Clone)]
pub struct SqsPerRecord {
    path: Cow<'static, str>,
    concurrency: usize,
    report_batch_item_failures: bool,
}

impl Default for SqsPerRecord {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
            concurrency: DEFAULT_CONCURRENCY,
            report_batch_item_failures: true,
        }
    }
}

impl SqsPerRecord {
    /// The path messages are posted to (default `/sqs`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }

    /// How many messages are served at once (message groups, for FIFO queues); at least 1.
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// Whether failed messages are reported in `batchItemFailures` (default `true`; needs
    /// `ReportBatchItemFailures` on the event source mapping). With `false`, any failure fails
    /// the whole invocation.
    pub fn report_batch_item_failures(mut self, report: bool) -> Self {
        self.report_batch_item_failures = report;
        self
    }
}

/// The SQS adapter in batch mode, with options.
#[derive(Debug, Clone)]
pub struct SqsBatch {
    path: Cow<'static, str>,
}

impl Default for SqsBatch {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl SqsBatch {
    /// The path the batch is posted to (default `/sqs`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }
}

/// Whether the event is an SQS batch (`Records[0].eventSource` is `aws:sqs`).
fn is_sqs(event: &EventProbe<'_>) -> bool {
    event
        .first_of("Records")
        .is_some_and(|record| record.str("eventSource").as_deref() == Some("aws:sqs"))
}

impl Adapter for SqsAdapter {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_sqs(event)
    }

    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        SqsPerRecord::default().decode(event, context)
    }
}

impl Adapter for SqsPerRecord {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_sqs(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::per_record(&event, self)
    }
}

impl Adapter for SqsBatch {
    fn name(&self) -> &str {
        NAME
    }

    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        is_sqs(event)
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::whole_batch(event, &self.path)
    }
}

#[cfg(test)]
mod tests;
