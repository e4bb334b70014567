//! Batch settlement through the public API: decode an event, then settle chosen outcomes the
//! way the core's batch runner would hand them over.

use bytes::Bytes;
use http::Response;
use serverless_adapter_adapters::*;
use serverless_adapter_core::{
    Adapter, Batch, BatchOrder, Decoded, Error, EventProbe, ItemOutcome, ItemResult, LambdaContext,
};

fn decode(adapter: &dyn Adapter, event: &str) -> Batch {
    assert!(adapter.can_handle(&EventProbe::new(event.as_bytes()).unwrap()));
    match adapter
        .decode(
            Bytes::from(event.to_owned()),
            &LambdaContext::for_request_id("r"),
        )
        .unwrap()
    {
        Decoded::Batch(batch) => batch,
        other => panic!("expected a batch, got {other:?}"),
    }
}

fn answered(id: &str, status: u16, body: &str) -> ItemOutcome {
    ItemOutcome {
        id: id.to_owned(),
        result: ItemResult::Answered {
            head: Response::builder()
                .status(status)
                .body(())
                .unwrap()
                .into_parts()
                .0,
            body: Bytes::from(body.to_owned()),
        },
    }
}

fn outcome(id: &str, result: ItemResult) -> ItemOutcome {
    ItemOutcome {
        id: id.to_owned(),
        result,
    }
}

fn failure_ids(answer: &[u8]) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(answer).unwrap();
    json["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

fn sqs_event(queue: &str, records: &[(&str, Option<&str>)]) -> String {
    let records: Vec<String> = records
        .iter()
        .map(|(id, group)| {
            let group = group
                .map(|g| format!(r#","MessageGroupId":"{g}""#))
                .unwrap_or_default();
            format!(
                r#"{{"messageId":"{id}","body":"job {id}","eventSource":"aws:sqs",
                "eventSourceARN":"arn:aws:sqs:us-east-1:1:{queue}","attributes":{{"ApproximateReceiveCount":"1"{group}}}}}"#
            )
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

#[test]
fn sqs_batch_of_ten_with_records_3_and_7_failing() {
    let ids: Vec<String> = (1..=10).map(|i| format!("msg-{i}")).collect();
    let records: Vec<(&str, Option<&str>)> = ids.iter().map(|id| (id.as_str(), None)).collect();
    let batch = decode(&SqsAdapter, &sqs_event("queue", &records));
    assert_eq!(batch.items.len(), 10);
    assert_eq!(batch.order, BatchOrder::Concurrent { limit: 10 });
    let outcomes = ids
        .iter()
        .enumerate()
        .map(|(i, id)| match i + 1 {
            3 => answered(id, 500, "fail"),
            7 => outcome(id, ItemResult::Failed(Error::timeout("too slow"))),
            _ => answered(id, 200, r#"{"ok":true}"#),
        })
        .collect();
    let answer = batch.settle.settle(outcomes).unwrap();
    assert_eq!(failure_ids(&answer), ["msg-3", "msg-7"]);
}

#[test]
fn fifo_failure_reports_the_id_and_every_later_id_of_its_group() {
    let event = sqs_event(
        "orders.fifo",
        &[
            ("a1", Some("A")),
            ("b1", Some("B")),
            ("a2", Some("A")),
            ("b2", Some("B")),
            ("a3", Some("A")),
        ],
    );
    let batch = decode(&SqsAdapter::per_record().concurrency(2), &event);
    assert_eq!(batch.order, BatchOrder::Grouped { limit: 2 });
    let answer = batch
        .settle
        .settle(vec![
            answered("a1", 200, ""),
            answered("b1", 200, ""),
            outcome("a2", ItemResult::Failed(Error::panic("boom"))),
            answered("b2", 200, ""),
            outcome("a3", ItemResult::Skipped),
        ])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["a2", "a3"]);
}

#[test]
fn kinesis_failure_reports_the_first_failed_sequence_number() {
    let event = r#"{"Records":[
        {"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"100","data":"YQ=="}},
        {"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"200","data":"Yg=="}},
        {"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"300","data":"Yw=="}}]}"#;
    let batch = decode(&KinesisAdapter, event);
    assert_eq!(batch.order, BatchOrder::InOrder);
    let ids: Vec<&str> = batch.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["100", "200", "300"]);
    let answer = batch
        .settle
        .settle(vec![
            answered("100", 200, ""),
            answered("200", 422, "bad record"),
            outcome("300", ItemResult::Skipped),
        ])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["200"]);
}

#[test]
fn sns_failure_fails_the_invocation() {
    let event =
        r#"{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"n1","Message":"fail"}}]}"#;
    let batch = decode(&SnsAdapter, event);
    let err = batch
        .settle
        .settle(vec![answered("n1", 500, "fail")])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    let batch = decode(&SnsAdapter, event);
    assert_eq!(
        &batch.settle.settle(vec![answered("n1", 200, "")]).unwrap()[..],
        b"null"
    );
}

/// A status and body the app answers, and the failed ids or the error type expected.
type Case = (
    u16,
    &'static str,
    Result<&'static [&'static str], &'static str>,
);

#[test]
fn batch_mode_answers_are_validated() {
    let event = sqs_event("queue", &[("m1", None), ("m2", None)]);
    let cases: &[Case] = &[
        (200, "", Ok(&[])),
        (200, "{}", Ok(&[])),
        (200, r#"{"batchItemFailures":[]}"#, Ok(&[])),
        (
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"m1"}]}"#,
            Ok(&["m1"]),
        ),
        (500, r#"{"batchItemFailures":[]}"#, Err("App.ErrorStatus")),
        (200, "<html>", Err("App.InvalidBatchAnswer")),
        (
            200,
            r#"{"batchItemFailures":"m1"}"#,
            Err("App.InvalidBatchAnswer"),
        ),
        (
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"nope"}]}"#,
            Err("App.InvalidBatchAnswer"),
        ),
    ];
    for adapter in [
        Box::new(SqsAdapter::batch()) as Box<dyn Adapter>,
        Box::new(SqsAdapter::batch().path("/all")),
    ] {
        for (status, body, expected) in cases {
            let batch = decode(adapter.as_ref(), &event);
            assert_eq!(batch.items.len(), 1);
            let id = batch.items[0].id.clone();
            let result = batch.settle.settle(vec![answered(&id, *status, body)]);
            match expected {
                Ok(ids) => assert_eq!(failure_ids(&result.unwrap()), *ids, "{body}"),
                Err(error_type) => {
                    assert_eq!(
                        result.unwrap_err().error_type(),
                        *error_type,
                        "{status} {body}"
                    )
                }
            }
        }
    }
    let batch = decode(&SqsAdapter::batch(), &event);
    let id = batch.items[0].id.clone();
    assert!(batch
        .settle
        .settle(vec![outcome(&id, ItemResult::Failed(Error::panic("p")))])
        .unwrap_err()
        .is_panic());
}
