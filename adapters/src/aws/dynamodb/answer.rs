//! The answer: `{"batchItemFailures":[{"itemIdentifier":"<sequence number>"}]}`.

use bytes::Bytes;
use serverless_adapter_core::{Error, ItemOutcome};

use super::NAME;
use crate::common::{first_failure_answer, validate_batch_answer};

/// Per-record mode: the first record that did not succeed, if any.
pub(super) fn settle_records(outcomes: Vec<ItemOutcome>, report: bool) -> Result<Bytes, Error> {
    first_failure_answer(NAME, "the DynamoDB stream record", outcomes, report)
}

/// Batch mode: the app's own answer, checked against the batch's sequence numbers.
pub(super) fn settle_batch(outcomes: Vec<ItemOutcome>, ids: &[String]) -> Result<Bytes, Error> {
    let mut outcomes = outcomes.into_iter();
    match (outcomes.next(), outcomes.next()) {
        (Some(outcome), None) => validate_batch_answer(NAME, outcome, ids),
        _ => Err(Error::adapter(
            "a DynamoDB Streams batch request has exactly one outcome",
        )),
    }
}
