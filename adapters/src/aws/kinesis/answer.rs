//! The answer: `{"batchItemFailures":[{"itemIdentifier":"<sequence number>"}]}`.

use bytes::Bytes;
use serverless_adapter_core::{Error, ItemOutcome};

use super::NAME;
use crate::common::first_failure_answer;

/// Per-record mode: the first record that did not succeed, if any.
pub(super) fn settle_records(outcomes: Vec<ItemOutcome>, report: bool) -> Result<Bytes, Error> {
    first_failure_answer(NAME, "the Kinesis record", outcomes, report)
}
