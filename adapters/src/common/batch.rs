//! Settling batches: `batchItemFailures` answers, the app's own batch answers (validated), and
//! failures that fail the whole invocation.

use std::collections::HashSet;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serverless_adapter_core::{Error, ItemOutcome, ItemResult};

/// The `errorType` of an invocation failed because the app answered with an error status.
pub const ERROR_STATUS_TYPE: &str = "App.ErrorStatus";

/// The `errorType` of an invocation failed because the app's `batchItemFailures` answer is
/// invalid.
pub const INVALID_BATCH_ANSWER_TYPE: &str = "App.InvalidBatchAnswer";

/// How much of an app's body an error message quotes.
pub const EXCERPT_LIMIT: usize = 512;

/// The start of a body, as text, for error messages (at most `limit` bytes, cut at a
/// character boundary, `…` when cut).
pub fn body_excerpt(body: &[u8], limit: usize) -> String {
    let cut = body.len() > limit;
    let mut text = String::from_utf8_lossy(&body[..body.len().min(limit)]).into_owned();
    if cut {
        // a multi-byte character cut in two reads as U+FFFD: drop it
        if text.ends_with('\u{fffd}') {
            text.pop();
        }
        text.push('…');
    }
    text
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailuresOut<'a> {
    batch_item_failures: Vec<FailureOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailureOut<'a> {
    item_identifier: &'a str,
}

/// `{"batchItemFailures":[{"itemIdentifier":..},..]}` for these identifiers.
pub fn batch_item_failures<'a>(ids: impl IntoIterator<Item = &'a str>) -> Bytes {
    let answer = FailuresOut {
        batch_item_failures: ids
            .into_iter()
            .map(|item_identifier| FailureOut { item_identifier })
            .collect(),
    };
    // serializing strings into a Vec cannot fail
    Bytes::from(serde_json::to_vec(&answer).unwrap_or_default())
}

/// Why an item did not succeed, for the log; `None` when it did.
pub fn failure_reason(result: &ItemResult) -> Option<String> {
    match result {
        ItemResult::Answered { head, body } if !head.status.is_success() => Some(format!(
            "the app answered {}: {}",
            head.status,
            body_excerpt(body, EXCERPT_LIMIT)
        )),
        ItemResult::Answered { .. } => None,
        ItemResult::Failed(error) => Some(error.to_string()),
        ItemResult::Skipped => Some("not attempted: an earlier item it depends on failed".into()),
    }
}

/// Logs an item that is reported as failed.
pub fn log_item_failure(source: &str, id: &str, reason: &str) {
    tracing::warn!(
        source,
        item = id,
        reason,
        "batch item failed; reported in batchItemFailures"
    );
}

/// The error that fails the invocation for an item that did not succeed, or `None` when it did.
/// `what` names the item in the message (`the SNS message 1234`).
pub fn item_error(what: &str, result: ItemResult) -> Option<Error> {
    match result {
        ItemResult::Answered { head, body } if !head.status.is_success() => Some(Error::custom(
            ERROR_STATUS_TYPE,
            format!(
                "the app answered {} to {what}: {}",
                head.status,
                body_excerpt(&body, EXCERPT_LIMIT)
            ),
        )),
        ItemResult::Answered { .. } => None,
        ItemResult::Failed(error) => Some(error),
        ItemResult::Skipped => Some(Error::adapter(format!(
            "{what} was not served because an earlier record failed"
        ))),
    }
}

/// Settles a batch that succeeds only when every item does (SNS, S3, EventBridge): `null` when
/// all succeeded, otherwise the first failure's error (every failure is logged) so Lambda
/// retries the event. `what` names an item for messages (`the SNS message`).
pub fn all_or_error(source: &str, what: &str, outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error> {
    let total = outcomes.len();
    let mut first = None;
    let mut failed = 0usize;
    for outcome in outcomes {
        let id = outcome.id;
        if let Some(error) = item_error(&format!("{what} {id}"), outcome.result) {
            failed += 1;
            tracing::warn!(
                source,
                item = %id,
                error_type = error.error_type(),
                error = error.message(),
                "record failed; the invocation fails so Lambda retries the event"
            );
            first.get_or_insert(error);
        }
    }
    match first {
        None => Ok(Bytes::from_static(b"null")),
        Some(error) if total > 1 => {
            tracing::warn!(source, failed, total, "records failed");
            Err(error)
        }
        Some(error) => Err(error),
    }
}

/// Settles per-record outcomes into `batchItemFailures` listing every item that did not
/// succeed (SQS). Items of one group (`groups[i]`, an SQS FIFO message group) are ordered: after
/// the first failure in a group every later item of that group is reported failed too, whatever
/// its outcome, so a FIFO queue never delivers a group out of order.
///
/// With `report` false (the event source mapping lacks `ReportBatchItemFailures`, so Lambda
/// would ignore the list and delete every message), any failure fails the whole invocation
/// instead.
pub fn failed_items_answer(
    source: &str,
    what: &str,
    outcomes: Vec<ItemOutcome>,
    groups: &[Option<String>],
    report: bool,
) -> Result<Bytes, Error> {
    if outcomes.len() != groups.len() {
        return Err(Error::adapter(format!(
            "the {source} batch has {} items but {} outcomes",
            groups.len(),
            outcomes.len()
        )));
    }
    if !report {
        return all_or_error(source, what, outcomes).map(|_| batch_item_failures([]));
    }
    let mut failed_groups: HashSet<&str> = HashSet::new();
    let mut failed: Vec<&str> = Vec::new();
    for (outcome, group) in outcomes.iter().zip(groups) {
        let group = group.as_deref();
        let reason = match failure_reason(&outcome.result) {
            Some(reason) => Some(reason),
            None if group.is_some_and(|g| failed_groups.contains(g)) => Some(
                "reported failed unprocessed: an earlier message of its group failed".to_owned(),
            ),
            None => None,
        };
        if let Some(reason) = reason {
            log_item_failure(source, &outcome.id, &reason);
            failed.push(&outcome.id);
            if let Some(group) = group {
                failed_groups.insert(group);
            }
        }
    }
    Ok(batch_item_failures(failed))
}

/// Settles the outcomes of a stream's records served in order (Kinesis, DynamoDB Streams) into
/// `batchItemFailures` holding the first record that did not succeed, so Lambda checkpoints
/// before it and retries from there; later records are not reported (they are retried anyway).
///
/// With `report` false, any failure fails the whole invocation instead.
pub fn first_failure_answer(
    source: &str,
    what: &str,
    outcomes: Vec<ItemOutcome>,
    report: bool,
) -> Result<Bytes, Error> {
    if !report {
        return all_or_error(source, what, outcomes).map(|_| batch_item_failures([]));
    }
    let total = outcomes.len();
    for (index, outcome) in outcomes.iter().enumerate() {
        if let Some(reason) = failure_reason(&outcome.result) {
            log_item_failure(source, &outcome.id, &reason);
            if index + 1 < total {
                tracing::warn!(
                    source,
                    retried = total - index - 1,
                    "later records are retried from the failed one"
                );
            }
            return Ok(batch_item_failures([outcome.id.as_str()]));
        }
    }
    Ok(batch_item_failures([]))
}

fn invalid(message: String) -> Error {
    Error::custom(INVALID_BATCH_ANSWER_TYPE, message)
}

/// Checks the app's own answer to a whole batch (batch mode) and returns the answer for Lambda.
///
/// The app must answer 2xx with an empty body, `null`, `{}` (all succeeded) or
/// `{"batchItemFailures":[{"itemIdentifier":"<id>"},..]}` naming items of this batch (`ids`).
/// Anything else — an error status, an app failure, JSON that is not that shape, an empty or
/// unknown identifier — fails the invocation, so the batch is retried and never deleted by
/// mistake.
pub fn validate_batch_answer(
    source: &str,
    outcome: ItemOutcome,
    ids: &[String],
) -> Result<Bytes, Error> {
    let body = match outcome.result {
        ItemResult::Answered { head, body } if head.status.is_success() => body,
        other => {
            return Err(item_error(&format!("the {source} batch"), other)
                .unwrap_or_else(|| Error::adapter(format!("the {source} batch was not served"))))
        }
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| {
            invalid(format!(
                "the app's answer to the {source} batch is not UTF-8"
            ))
        })?
        .trim();
    if text.is_empty() {
        return Ok(batch_item_failures([]));
    }
    let not_the_shape = |detail: &str| {
        invalid(format!(
            "the app's answer to the {source} batch is not {{\"batchItemFailures\":[..]}} \
             ({detail}): {}",
            body_excerpt(text.as_bytes(), EXCERPT_LIMIT)
        ))
    };
    let parsed: Value =
        serde_json::from_str(text).map_err(|err| not_the_shape(&err.to_string()))?;
    let entries = match &parsed {
        Value::Null => &[][..],
        Value::Object(fields) => match fields.get("batchItemFailures") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(entries)) => entries.as_slice(),
            Some(_) => return Err(not_the_shape("batchItemFailures is not an array")),
        },
        _ => return Err(not_the_shape("not a JSON object")),
    };
    let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut failed: Vec<&str> = Vec::with_capacity(entries.len());
    for entry in entries {
        let id = entry
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                invalid(format!(
                    "the app's answer to the {source} batch has an entry without a non-empty \
                     string itemIdentifier: {entry}"
                ))
            })?;
        if !known.contains(id) {
            return Err(invalid(format!(
                "the app's answer to the {source} batch names {id:?}, which is not in the batch"
            )));
        }
        if !failed.contains(&id) {
            log_item_failure(source, id, "reported failed by the app");
            failed.push(id);
        }
    }
    Ok(batch_item_failures(failed))
}

/// The identifier of the single item of a whole-batch request.
pub const WHOLE_BATCH_ITEM_ID: &str = "batch";

/// A batch served as one request (the whole event): the app answers `batchItemFailures` itself,
/// and its answer is validated against the batch's record `ids` by [`validate_batch_answer`].
pub fn whole_batch(
    source: &'static str,
    request: http::Request<serverless_adapter_core::Body>,
    ids: Vec<String>,
) -> serverless_adapter_core::Decoded {
    use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded};
    Decoded::Batch(Batch {
        items: vec![BatchItem {
            id: WHOLE_BATCH_ITEM_ID.to_owned(),
            group: None,
            request,
        }],
        order: BatchOrder::InOrder,
        settle: Box::new(move |outcomes: Vec<ItemOutcome>| {
            let mut outcomes = outcomes.into_iter();
            match (outcomes.next(), outcomes.next()) {
                (Some(outcome), None) => validate_batch_answer(source, outcome, &ids),
                _ => Err(Error::adapter(format!(
                    "a {source} whole-batch request has exactly one outcome"
                ))),
            }
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Response, StatusCode};

    fn answered(status: u16, body: &'static str) -> ItemOutcome {
        let (head, ()) = Response::builder()
            .status(status)
            .body(())
            .unwrap()
            .into_parts();
        ItemOutcome {
            id: "batch".into(),
            result: ItemResult::Answered {
                head,
                body: Bytes::from_static(body.as_bytes()),
            },
        }
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(body_excerpt(b"short", 10), "short");
        assert_eq!(body_excerpt(b"0123456789abc", 10), "0123456789…");
        assert_eq!(body_excerpt("aé".as_bytes(), 2), "a…");
    }

    #[test]
    fn failure_lists() {
        assert_eq!(&batch_item_failures([])[..], br#"{"batchItemFailures":[]}"#);
        assert_eq!(
            &batch_item_failures(["a", "b\"c"])[..],
            br#"{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b\"c"}]}"#
        );
    }

    #[test]
    fn batch_answers_are_validated() {
        let ids = vec!["m1".to_owned(), "m2".to_owned()];
        let ok = |status, body| validate_batch_answer("sqs", answered(status, body), &ids);
        for success in [
            "",
            "  ",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
            r#"{"ok":true}"#,
        ] {
            assert_eq!(
                &ok(200, success).unwrap()[..],
                br#"{"batchItemFailures":[]}"#,
                "{success:?}"
            );
        }
        assert_eq!(
            &ok(
                207,
                r#"{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m2"}]}"#
            )
            .unwrap()[..],
            br#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#
        );
        for malformed in [
            "not json",
            "[]",
            "\"m1\"",
            r#"{"batchItemFailures":{}}"#,
            r#"{"batchItemFailures":["m1"]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"id":"m1"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"other"}]}"#,
        ] {
            let err = ok(200, malformed).unwrap_err();
            assert_eq!(err.error_type(), INVALID_BATCH_ANSWER_TYPE, "{malformed}");
        }
        let err = ok(500, "boom").unwrap_err();
        assert_eq!(err.error_type(), ERROR_STATUS_TYPE);
        assert!(err.message().contains("500 Internal Server Error"), "{err}");
        assert!(err.message().contains("boom"), "{err}");
        let err = validate_batch_answer(
            "sqs",
            ItemOutcome {
                id: "batch".into(),
                result: ItemResult::Failed(Error::panic("p")),
            },
            &ids,
        )
        .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(StatusCode::OK, 200);
    }
}
