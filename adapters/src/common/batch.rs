//! Decoding and settling batches: records decoded one by one (an undecodable record fails only
//! itself), `batchItemFailures` answers, the app's own batch answers (validated), and failures
//! that fail the whole invocation.

use std::collections::HashSet;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use serverless_adapter_core::{
    Batch, BatchItem, BatchOrder, Decoded, Error, EventProbe, ItemOutcome, ItemResult,
};

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

/// The records of a batch event (SQS, Kinesis, DynamoDB Streams), decoded one at a time into
/// the app's requests, so that one record that cannot be decoded fails only itself.
///
/// - [`push`](Self::push): a decoded record, served by the app;
/// - [`undecodable`](Self::undecodable): a record that cannot be decoded (a Kinesis record whose
///   data is not base64, an SQS message whose body is not a string...). It never reaches the
///   app; its decode error is logged and it is settled as failed, so it is reported in
///   `batchItemFailures` by its identifier. Only a record without an identifier (which cannot
///   be reported) fails the whole event;
/// - [`hold`](Self::hold): a record that must not run after an undecodable one (the rest of a
///   FIFO message group): settled as skipped, without reaching the app.
///
/// [`into_decoded`](Self::into_decoded) then hands the settle function every record's outcome
/// in event order, as if the core had served them all, so the settlement rules
/// ([`failed_items_answer`], [`first_failure_answer`]) apply to every record alike.
#[derive(Debug)]
pub struct RecordBatch {
    source: &'static str,
    what: &'static str,
    items: Vec<BatchItem>,
    /// Outcomes decided while decoding, each with its record's position in the event.
    decided: Vec<(usize, ItemOutcome)>,
}

impl RecordBatch {
    /// An empty batch for the adapter named `source`, whose records are called `what` in
    /// messages (`SQS message`), with room for `capacity` records.
    pub fn new(source: &'static str, what: &'static str, capacity: usize) -> Self {
        Self {
            source,
            what,
            items: Vec::with_capacity(capacity),
            decided: Vec::new(),
        }
    }

    fn next_position(&self) -> usize {
        self.items.len() + self.decided.len()
    }

    /// Adds a decoded record, to be served by the app.
    pub fn push(&mut self, item: BatchItem) {
        self.items.push(item);
    }

    /// Adds a record that cannot be decoded (`error` says why): it is logged and settled as
    /// failed without reaching the app. Its identifier is read leniently at `id_path`
    /// (`["messageId"]`, `["kinesis", "sequenceNumber"]`): a record without a non-empty string
    /// there cannot be reported, so the whole event fails (`Event.Malformed`).
    pub fn undecodable(
        &mut self,
        record: &RawValue,
        id_path: &[&str],
        error: Error,
    ) -> Result<(), Error> {
        let Some(id) = record_str(record, id_path) else {
            return Err(Error::malformed_event(format!(
                "a record of the {} event cannot be decoded and has no {} to report it by, so \
                 the whole event fails: {}",
                self.source,
                id_path.join("."),
                error.message()
            )));
        };
        tracing::warn!(
            source = self.source,
            item = %id,
            reason = error.message(),
            "record cannot be decoded; it fails without reaching the app"
        );
        let error = Error::malformed_event(format!(
            "the {} {id} cannot be decoded: {}",
            self.what,
            error.message()
        ));
        let position = self.next_position();
        self.decided.push((
            position,
            ItemOutcome {
                id,
                result: ItemResult::Failed(error),
            },
        ));
        Ok(())
    }

    /// Adds a record that is not served because an earlier record it depends on could not be
    /// decoded: it is settled as skipped.
    pub fn hold(&mut self, id: String) {
        let position = self.next_position();
        self.decided.push((
            position,
            ItemOutcome {
                id,
                result: ItemResult::Skipped,
            },
        ));
    }

    /// The batch for the core: the decoded records' requests, run in `order`; `settle` gets
    /// every record's outcome in event order.
    pub fn into_decoded<S>(self, order: BatchOrder, settle: S) -> Decoded
    where
        S: FnOnce(Vec<ItemOutcome>) -> Result<Bytes, Error> + Send + 'static,
    {
        let Self {
            source,
            items,
            decided,
            ..
        } = self;
        let served_count = items.len();
        Decoded::Batch(Batch {
            items,
            order,
            settle: Box::new(move |served: Vec<ItemOutcome>| {
                if served.len() != served_count {
                    return Err(Error::adapter(format!(
                        "the {source} batch has {served_count} items but {} outcomes",
                        served.len()
                    )));
                }
                if decided.is_empty() {
                    return settle(served);
                }
                let mut served = served.into_iter();
                let mut decided = decided.into_iter().peekable();
                let total = served_count + decided.len();
                let outcomes = (0..total)
                    .filter_map(|position| match decided.peek() {
                        Some((at, _)) if *at == position => decided.next().map(|(_, o)| o),
                        _ => served.next(),
                    })
                    .collect();
                settle(outcomes)
            }),
        })
    }
}

/// A string field of a batch record (its identifier, say), read leniently at `path` whatever
/// else the record holds: a non-empty string, or `None`.
pub fn record_str(record: &RawValue, path: &[&str]) -> Option<String> {
    EventProbe::new(record.get().as_bytes())
        .ok()?
        .str_at(path)
        .filter(|id| !id.is_empty())
        .map(|id| id.into_owned())
}

/// The identifier of the single item of a whole-batch request.
pub const WHOLE_BATCH_ITEM_ID: &str = "batch";

/// A batch served as one request (the whole event): the app answers `batchItemFailures` itself,
/// and its answer is validated against the batch's record `ids` by [`validate_batch_answer`].
pub fn whole_batch(
    source: &'static str,
    request: http::Request<serverless_adapter_core::Body>,
    ids: Vec<String>,
) -> Decoded {
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

    fn item(id: &str) -> BatchItem {
        BatchItem {
            id: id.to_owned(),
            group: None,
            request: http::Request::new(serverless_adapter_core::Body::empty()),
        }
    }

    #[test]
    fn records_settled_while_decoding_keep_their_place() {
        let raw = |json: &str| RawValue::from_string(json.to_owned()).unwrap();
        let mut batch = RecordBatch::new("sqs", "SQS message", 5);
        batch.push(item("a"));
        batch
            .undecodable(
                &raw(r#"{"messageId":"b","body":5}"#),
                &["messageId"],
                Error::malformed_event("bad"),
            )
            .unwrap();
        batch.push(item("c"));
        batch.hold("d".to_owned());
        batch.push(item("e"));
        let err = batch
            .undecodable(
                &raw(r#"{"body":5}"#),
                &["messageId"],
                Error::malformed_event("why"),
            )
            .unwrap_err();
        assert!(err.is_malformed_event());
        assert!(
            err.message().contains("no messageId") && err.message().contains("why"),
            "{err}"
        );
        let Decoded::Batch(batch) = batch.into_decoded(BatchOrder::InOrder, |outcomes| {
            let seen: Vec<String> = outcomes
                .iter()
                .map(|o| format!("{}:{}", o.id, failure_reason(&o.result).is_some()))
                .collect();
            assert_eq!(seen, ["a:false", "b:true", "c:false", "d:true", "e:false"]);
            Ok(Bytes::new())
        }) else {
            unreachable!()
        };
        let ids: Vec<&str> = batch.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "c", "e"], "only decoded records reach the app");
        let ok = |id: &str| ItemOutcome {
            id: id.to_owned(),
            ..answered(200, "")
        };
        batch
            .settle
            .settle(vec![ok("a"), ok("c"), ok("e")])
            .unwrap();

        let mut batch = RecordBatch::new("kinesis", "Kinesis record", 1);
        batch.push(item("a"));
        let Decoded::Batch(batch) = batch.into_decoded(BatchOrder::InOrder, |_| Ok(Bytes::new()))
        else {
            unreachable!()
        };
        let err = batch.settle.settle(Vec::new()).unwrap_err();
        assert!(err.is_adapter(), "{err}");
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
