use super::*;
use crate::common::OMITTED_HEADERS;
use crate::fixtures::aws_fixtures;
use crate::test_support::{
    answered, body_of, decode_batch, failed, failure_ids, logged, serve, skipped,
};
use serverless_adapter_core::{Batch, BatchOrder, RequestContext};

/// Every SQS event fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-sqs-api-event-obj.json` (the SQS `ReceiveMessage` API's response, not a Lambda
/// event) and `example-sqs-batch-response.json` (an answer).
pub(crate) const FIXTURES: &[&str] = &["example-sqs-event"];

#[tokio::test]
async fn every_sqs_fixture_maps_each_record_to_a_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 2);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let records = json["Records"].as_array().unwrap();
        let batch = decode_batch(&SqsAdapter, &bytes);
        assert_eq!(batch.order, BatchOrder::Concurrent { limit: 10 }, "{name}");
        assert_eq!(batch.items.len(), records.len(), "{name}");
        for (item, record) in batch.items.into_iter().zip(records) {
            assert_eq!(item.id, record["messageId"], "{name}");
            assert_eq!(item.group, None, "{name}: a standard queue has no groups");
            let request = item.request;
            assert_eq!(request.method(), "POST");
            assert_eq!(request.uri(), "/sqs");
            let headers = request.headers();
            assert_eq!(headers["host"], "sqs.amazonaws.com");
            assert_eq!(
                headers["x-sqs-message-id"],
                record["messageId"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-sqs-receipt-handle"],
                record["receiptHandle"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-sqs-event-source-arn"],
                record["eventSourceARN"].as_str().unwrap()
            );
            assert_eq!(headers["x-sqs-aws-region"], "us-west-2");
            assert_eq!(headers["x-sqs-approximate-receive-count"], "2");
            assert_eq!(headers["x-sqs-sent-timestamp"], "1520621625029");
            assert_eq!(headers["x-sqs-sender-id"], "AROAIWPX5BD2BHG722MW4:sender");
            assert_eq!(
                headers["x-sqs-approximate-first-receive-timestamp"],
                "1520621634884"
            );
            assert_eq!(
                headers["x-sqs-message-attribute-attribute1"],
                "AttributeValue1"
            );
            assert_eq!(headers["x-sqs-message-attribute-attribute2"], "123");
            assert_eq!(headers["x-sqs-message-attribute-attribute3"], "MTEwMA==");
            assert!(!headers.contains_key(OMITTED_HEADERS));
            let body = record["body"].as_str().unwrap();
            let json_body = serde_json::from_str::<serde_json::Value>(body).is_ok();
            assert_eq!(
                headers["content-type"],
                if json_body {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                },
                "{name}"
            );
            assert_eq!(headers["content-length"], body.len().to_string().as_str());
            let context = request.extensions().get::<RequestContext>().unwrap();
            assert_eq!(context.source(), "sqs");
            assert_eq!(&context.parse::<serde_json::Value>().unwrap(), record);
            assert_eq!(body_of(request).await, body.as_bytes(), "{name}");
        }
    }
}

fn record(id: &str, group: Option<&str>, queue: &str, body: &str) -> String {
    let group = group
        .map(|g| {
            format!(
                r#","MessageGroupId":"{g}","MessageDeduplicationId":"d-{id}","SequenceNumber":"1""#
            )
        })
        .unwrap_or_default();
    format!(
        r#"{{"messageId":"{id}","receiptHandle":"rh-{id}","body":{body},"eventSource":"aws:sqs",
        "eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:{queue}","awsRegion":"us-east-1",
        "attributes":{{"ApproximateReceiveCount":"1","AWSTraceHeader":"Root=1-abc"{group}}},
        "messageAttributes":{{}},"md5OfBody":"x"}}"#,
        body = serde_json::to_string(body).unwrap()
    )
}

fn event(records: &[String]) -> Vec<u8> {
    format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
}

#[test]
fn fifo_queues_run_groups_in_order() {
    let bytes = event(&[
        record("a1", Some("A"), "jobs.fifo", "x"),
        record("b1", Some("B"), "jobs.fifo", "x"),
        record("a2", Some("A"), "jobs.fifo", "x"),
    ]);
    let batch = decode_batch(&SqsAdapter::per_record().concurrency(3), &bytes);
    assert_eq!(batch.order, BatchOrder::Grouped { limit: 3 });
    let groups: Vec<_> = batch.items.iter().map(|i| i.group.as_deref()).collect();
    assert_eq!(groups, [Some("A"), Some("B"), Some("A")]);
    let headers = batch.items[0].request.headers();
    assert_eq!(headers["x-sqs-message-group-id"], "A");
    assert_eq!(headers["x-sqs-message-deduplication-id"], "d-a1");
    assert_eq!(headers["x-sqs-sequence-number"], "1");
    assert_eq!(headers["x-sqs-aws-trace-header"], "Root=1-abc");
}

#[test]
fn options_set_the_path_and_concurrency() {
    let bytes = event(&[record("m1", None, "q", "{}")]);
    let batch = decode_batch(
        &SqsAdapter::per_record().path("/jobs").concurrency(0),
        &bytes,
    );
    assert_eq!(batch.order, BatchOrder::Concurrent { limit: 1 });
    assert_eq!(batch.items[0].request.uri(), "/jobs");
    assert_eq!(
        batch.items[0].request.headers()["content-type"],
        "application/json"
    );
    assert_eq!(SqsAdapter::per_record().name(), "sqs");
    assert_eq!(SqsAdapter::batch().name(), "sqs");
}

#[test]
fn attribute_values_http_cannot_carry_are_named_not_dropped_silently() {
    let bytes = event(&[r#"{"messageId":"m1","body":"b","eventSource":"aws:sqs",
        "messageAttributes":{"Note":{"stringValue":"line\nbreak","dataType":"String"},
        "Ok":{"stringValue":"fine","dataType":"String"},"Gone":null}}"#
        .to_owned()]);
    let batch = decode_batch(&SqsAdapter, &bytes);
    let headers = batch.items[0].request.headers();
    assert_eq!(headers["x-sqs-message-attribute-ok"], "fine");
    assert!(!headers.contains_key("x-sqs-message-attribute-note"));
    assert_eq!(headers[OMITTED_HEADERS], "x-sqs-message-attribute-note");
    let context = batch.items[0]
        .request
        .extensions()
        .get::<RequestContext>()
        .unwrap();
    let record: serde_json::Value = context.parse().unwrap();
    assert_eq!(
        record["messageAttributes"]["Note"]["stringValue"],
        "line\nbreak"
    );
}

#[test]
fn ten_records_with_two_failures_report_exactly_those() {
    let records: Vec<String> = (1..=10)
        .map(|i| record(&format!("m{i}"), None, "q", "x"))
        .collect();
    let batch = decode_batch(&SqsAdapter, &event(&records));
    let outcomes = (1..=10)
        .map(|i| {
            let id = format!("m{i}");
            match i {
                3 => answered(&id, 500, "fail"),
                7 => failed(&id, serverless_adapter_core::Error::panic("boom")),
                _ => answered(&id, 200, r#"{"ok":true}"#),
            }
        })
        .collect();
    let answer = batch.settle.settle(outcomes).unwrap();
    assert_eq!(failure_ids(&answer), ["m3", "m7"]);
}

#[test]
fn fifo_failures_fail_the_rest_of_their_group() {
    let records = [
        record("a1", Some("A"), "q.fifo", "x"),
        record("b1", Some("B"), "q.fifo", "x"),
        record("a2", Some("A"), "q.fifo", "x"),
        record("b2", Some("B"), "q.fifo", "x"),
        record("a3", Some("A"), "q.fifo", "x"),
        record("a4", Some("A"), "q.fifo", "x"),
    ];
    let batch = decode_batch(&SqsAdapter, &event(&records));
    let outcomes = vec![
        answered("a1", 200, ""),
        answered("b1", 204, ""),
        answered("a2", 503, "busy"),
        answered("b2", 200, ""),
        answered(
            "a3",
            200,
            "served anyway: still reported, the group's order comes first",
        ),
        skipped("a4"),
    ];
    let answer = batch.settle.settle(outcomes).unwrap();
    assert_eq!(failure_ids(&answer), ["a2", "a3", "a4"]);
}

#[test]
fn without_batch_item_failures_any_failure_fails_the_invocation() {
    let records = [record("m1", None, "q", "x"), record("m2", None, "q", "x")];
    let adapter = SqsAdapter::per_record().report_batch_item_failures(false);
    let batch = decode_batch(&adapter, &event(&records));
    let err = batch
        .settle
        .settle(vec![answered("m1", 200, ""), answered("m2", 500, "nope")])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    assert!(
        err.message().contains("m2") && err.message().contains("nope"),
        "{err}"
    );
    let batch = decode_batch(&adapter, &event(&records));
    let answer = batch
        .settle
        .settle(vec![answered("m1", 200, ""), answered("m2", 201, "")])
        .unwrap();
    assert_eq!(failure_ids(&answer), Vec::<String>::new());
}

#[tokio::test]
async fn batch_mode_posts_the_event_and_checks_the_answer() {
    let bytes = event(&[record("m1", None, "q", "x"), record("m2", None, "q", "y")]);
    let batch = decode_batch(&SqsAdapter::batch().path("/batch"), &bytes);
    assert_eq!(batch.items.len(), 1);
    let item = &batch.items[0];
    assert_eq!(item.request.uri(), "/batch");
    assert_eq!(item.request.headers()["host"], "sqs.amazonaws.com");
    assert_eq!(item.request.headers()["content-type"], "application/json");
    assert_eq!(item.request.headers()["x-sqs-batch-size"], "2");
    let id = item.id.clone();
    let Batch {
        mut items, settle, ..
    } = batch;
    assert_eq!(body_of(items.remove(0).request).await, bytes);
    let answer = settle
        .settle(vec![answered(
            &id,
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#,
        )])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["m2"]);

    let cases: [(u16, &str, Option<&str>); 6] = [
        (200, "", None),
        (200, "{}", None),
        (500, "", Some("App.ErrorStatus")),
        (200, "oops", Some("App.InvalidBatchAnswer")),
        (
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"m9"}]}"#,
            Some("App.InvalidBatchAnswer"),
        ),
        (
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            Some("App.InvalidBatchAnswer"),
        ),
    ];
    for (status, body, error) in cases {
        let batch = decode_batch(&SqsAdapter::batch(), &bytes);
        let result = batch.settle.settle(vec![answered(&id, status, body)]);
        match error {
            None => assert_eq!(
                failure_ids(&result.unwrap()),
                Vec::<String>::new(),
                "{body}"
            ),
            Some(error_type) => {
                assert_eq!(
                    result.unwrap_err().error_type(),
                    error_type,
                    "{status} {body}"
                )
            }
        }
    }
    let batch = decode_batch(&SqsAdapter::batch(), &bytes);
    let err = batch
        .settle
        .settle(vec![failed(
            &id,
            serverless_adapter_core::Error::timeout("late"),
        )])
        .unwrap_err();
    assert!(err.is_timeout());
}

#[test]
fn malformed_events_are_errors_not_panics() {
    for case in [
        r#"{"Records":[{"eventSource":"aws:sqs","body":"no id"}]}"#,
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":7}]}"#,
        r#"{"Records":{"eventSource":"aws:sqs"}}"#,
    ] {
        let err = SqsAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
        let err = SqsAdapter::batch()
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
    }
}

/// `record` with one field replaced, making it a message the adapter cannot decode.
fn undecodable(record: String, field: &str, value: serde_json::Value) -> String {
    let mut json: serde_json::Value = serde_json::from_str(&record).unwrap();
    json[field] = value;
    json.to_string()
}

#[test]
fn an_undecodable_message_fails_only_itself() {
    let bytes = event(&[
        record("m1", None, "q", "ok"),
        undecodable(record("m2", None, "q", "x"), "body", 5.into()),
        record("m3", None, "q", "fail"),
        record("m4", None, "q", "ok"),
        undecodable(
            record("m5", None, "q", "x"),
            "messageAttributes",
            serde_json::json!({"a": {"stringValue": 7}}),
        ),
        record("m6", None, "q", "ok"),
    ]);
    let (batch, logs) = logged(|| decode_batch(&SqsAdapter, &bytes));
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("m2") && logs.contains("invalid type: integer `5`"),
        "{logs}"
    );
    assert!(logs.contains("m5"), "{logs}");
    let served = serve(batch, |id| if id == "m3" { 500 } else { 200 });
    assert_eq!(served.reached_the_app, ["m1", "m3", "m4", "m6"]);
    assert_eq!(failure_ids(&served.answer.unwrap()), ["m2", "m3", "m5"]);

    // every message undecodable: nothing reaches the app, each is reported
    let bytes = event(&[
        undecodable(record("m1", None, "q", "x"), "body", 5.into()),
        undecodable(record("m2", None, "q", "x"), "receiptHandle", true.into()),
    ]);
    let served = serve(decode_batch(&SqsAdapter, &bytes), |_| 200);
    assert!(served.reached_the_app.is_empty());
    assert_eq!(failure_ids(&served.answer.unwrap()), ["m1", "m2"]);

    // without batchItemFailures, the undecodable message fails the invocation
    let adapter = SqsAdapter::per_record().report_batch_item_failures(false);
    let bytes = event(&[
        record("m1", None, "q", "ok"),
        undecodable(record("m2", None, "q", "x"), "body", 5.into()),
    ]);
    let served = serve(decode_batch(&adapter, &bytes), |_| 200);
    assert_eq!(served.reached_the_app, ["m1"]);
    let err = served.answer.unwrap_err();
    assert!(err.is_malformed_event(), "{err}");
    assert!(
        err.message()
            .contains("the SQS message m2 cannot be decoded"),
        "{err}"
    );
}

#[test]
fn an_undecodable_fifo_message_fails_the_rest_of_its_group() {
    let fifo = "q.fifo";
    let bytes = event(&[
        record("a1", Some("g1"), fifo, "ok"),
        record("b1", Some("g2"), fifo, "ok"),
        undecodable(record("a2", Some("g1"), fifo, "x"), "body", 5.into()),
        record("b2", Some("g2"), fifo, "fail"),
        record("a3", Some("g1"), fifo, "ok"),
        record("b3", Some("g2"), fifo, "ok"),
        record("c1", Some("g3"), fifo, "ok"),
        undecodable(record("a4", Some("g1"), fifo, "x"), "body", 5.into()),
    ]);
    let batch = decode_batch(&SqsAdapter, &bytes);
    assert_eq!(batch.order, BatchOrder::Grouped { limit: 10 });
    let served = serve(batch, |id| if id == "b2" { 500 } else { 200 });
    assert_eq!(served.reached_the_app, ["a1", "b1", "b2", "c1"]);
    assert_eq!(
        failure_ids(&served.answer.unwrap()),
        ["a2", "b2", "a3", "b3", "a4"]
    );

    // the first message decides the queue type even when it is the undecodable one
    let bytes = event(&[
        undecodable(record("a1", Some("g1"), fifo, "x"), "body", 5.into()),
        record("a2", Some("g1"), fifo, "ok"),
        record("b1", Some("g2"), fifo, "ok"),
    ]);
    let served = serve(decode_batch(&SqsAdapter, &bytes), |_| 200);
    assert_eq!(served.reached_the_app, ["b1"]);
    assert_eq!(failure_ids(&served.answer.unwrap()), ["a1", "a2"]);
}

#[test]
fn a_message_without_an_id_or_an_event_without_records_fails_the_invocation() {
    for case in [
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"x"},{"eventSource":"aws:sqs","body":5}]}"#,
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":7,"body":"x"}]}"#,
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":"","body":5}]}"#,
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"x"},5]}"#,
        r#"{"Records":{"eventSource":"aws:sqs"}}"#,
        r#"{"records":[]}"#,
    ] {
        let err = SqsAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert_eq!(err.error_type(), "Event.Malformed", "{case}: {err}");
    }
}

#[tokio::test]
async fn batch_mode_posts_undecodable_messages_too() {
    let bytes = event(&[
        record("m1", None, "q", "ok"),
        undecodable(record("m2", None, "q", "x"), "body", 5.into()),
    ]);
    let Batch {
        mut items, settle, ..
    } = decode_batch(&SqsAdapter::batch(), &bytes);
    let item = items.remove(0);
    assert_eq!(
        body_of(item.request).await,
        bytes,
        "the whole event, as it came"
    );
    let answer = settle
        .settle(vec![answered(
            &item.id,
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#,
        )])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["m2"]);
}
