//! The answer: `{"batchItemFailures":[{"itemIdentifier":"<messageId>"},..]}`.

use bytes::Bytes;
use serverless_adapter_core::{Error, ItemOutcome};

use super::NAME;
use crate::common::failed_items_answer;

/// Per-record mode: every message that did not succeed (and, in a FIFO message group, every
/// message after the group's first failure).
pub(super) fn settle_records(
    outcomes: Vec<ItemOutcome>,
    groups: &[Option<String>],
    report: bool,
) -> Result<Bytes, Error> {
    failed_items_answer(NAME, "the SQS message", outcomes, groups, report)
}
