//! The answer: `null` when every record succeeded; otherwise the invocation fails.

use bytes::Bytes;
use serverless_adapter_core::{Error, ItemOutcome};

use super::NAME;
use crate::common::all_or_error;

/// `null`, or the first failure as the invocation's error (so Lambda retries the event).
pub(super) fn settle(outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error> {
    all_or_error(NAME, "the S3 record", outcomes)
}
