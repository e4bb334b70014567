use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{
    answered, body_of, decode_batch, failed, failure_ids, logged, serve, skipped,
};
use serverless_adapter_core::{Batch, BatchOrder, RequestContext};

/// Every DynamoDB Streams event fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-dynamodb-event-record-with-optional-fields.json` (a single stream record, not an
/// event).
pub(crate) const FIXTURES: &[&str] = &[
    "example-dynamodb-event.json",
    "example-dynamodb-event-null-items",
];

#[tokio::test]
async fn every_dynamodb_fixture_maps_each_record_to_a_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 2);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let records = json["Records"].as_array().unwrap();
        let batch = decode_batch(&DynamoDbAdapter, &bytes);
        assert_eq!(batch.order, BatchOrder::InOrder);
        assert_eq!(batch.items.len(), records.len(), "{name}");
        for (item, record) in batch.items.into_iter().zip(records) {
            let sequence = record["dynamodb"]["SequenceNumber"].as_str().unwrap();
            assert_eq!(item.id, sequence, "{name}");
            let request = item.request;
            assert_eq!(request.method(), "POST");
            assert_eq!(request.uri(), "/dynamodb");
            let headers = request.headers();
            assert_eq!(headers["host"], "dynamodb.amazonaws.com");
            assert_eq!(headers["content-type"], "application/json");
            assert_eq!(headers["x-dynamodb-sequence-number"], sequence);
            assert_eq!(
                headers["x-dynamodb-event-id"],
                record["eventID"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-dynamodb-event-name"],
                record["eventName"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-dynamodb-event-source-arn"],
                record["eventSourceARN"].as_str().unwrap()
            );
            assert_eq!(headers["x-dynamodb-aws-region"], "us-east-1");
            let context = request.extensions().get::<RequestContext>().unwrap();
            assert_eq!(context.source(), "dynamodb");
            assert_eq!(&context.parse::<serde_json::Value>().unwrap(), record);
            let body: serde_json::Value = serde_json::from_slice(&body_of(request).await).unwrap();
            assert_eq!(&body, record, "{name}");
        }
    }
}

fn event(sequences: &[&str]) -> Vec<u8> {
    let records: Vec<String> = sequences
        .iter()
        .map(|seq| {
            format!(
                r#"{{"eventID":"e{seq}","eventName":"INSERT","eventSource":"aws:dynamodb",
                "dynamodb":{{"SequenceNumber":"{seq}","Keys":{{"id":{{"S":"{seq}"}}}}}}}}"#
            )
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
}

#[test]
fn the_first_failure_is_the_checkpoint() {
    let bytes = event(&["100", "200", "300"]);
    let batch = decode_batch(&DynamoDbAdapter::per_record().path("/changes"), &bytes);
    assert_eq!(batch.items[0].request.uri(), "/changes");
    let answer = batch
        .settle
        .settle(vec![
            answered("100", 200, ""),
            failed("200", Error::panic("p")),
            skipped("300"),
        ])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["200"]);
    let adapter = DynamoDbAdapter::per_record().report_batch_item_failures(false);
    let batch = decode_batch(&adapter, &bytes);
    assert!(batch
        .settle
        .settle(vec![
            answered("100", 500, ""),
            skipped("200"),
            skipped("300")
        ])
        .is_err());
}

#[tokio::test]
async fn batch_mode_posts_the_event_and_checks_sequence_numbers() {
    let bytes = event(&["100", "200"]);
    let Batch {
        mut items, settle, ..
    } = decode_batch(&DynamoDbAdapter::batch().path("/all"), &bytes);
    let item = items.remove(0);
    assert_eq!(item.request.uri(), "/all");
    assert_eq!(item.request.headers()["x-dynamodb-batch-size"], "2");
    let id = item.id.clone();
    assert_eq!(body_of(item.request).await, bytes);
    let answer = settle
        .settle(vec![answered(
            &id,
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"200"}]}"#,
        )])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["200"]);
    let batch = decode_batch(&DynamoDbAdapter::batch(), &bytes);
    assert_eq!(
        batch
            .settle
            .settle(vec![answered(&id, 502, "")])
            .unwrap_err()
            .error_type(),
        "App.ErrorStatus"
    );
}

#[test]
fn malformed_events_are_errors_not_panics() {
    for case in [
        r#"{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{}}]}"#,
        r#"{"Records":[{"eventSource":"aws:dynamodb","eventName":5,"dynamodb":{"SequenceNumber":null}}]}"#,
        r#"{"Records":[{"eventSource":"aws:dynamodb","dynamodb":"x"}]}"#,
        r#"{"Records":null}"#,
    ] {
        let err = DynamoDbAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert_eq!(err.error_type(), "Event.Malformed", "{case}: {err}");
    }
}

/// `event`, with the records at `bad` given a field of the wrong type.
fn event_with_bad_records(sequences: &[&str], bad: &[&str]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(&event(sequences)).unwrap();
    for record in json["Records"].as_array_mut().unwrap() {
        if bad.contains(&record["dynamodb"]["SequenceNumber"].as_str().unwrap()) {
            record["eventName"] = 5.into();
        }
    }
    serde_json::to_vec(&json).unwrap()
}

#[test]
fn an_undecodable_record_fails_only_itself_and_is_the_checkpoint() {
    let sequences = ["100", "200", "300", "400"];
    let bytes = event_with_bad_records(&sequences, &["300"]);
    let (batch, logs) = logged(|| decode_batch(&DynamoDbAdapter, &bytes));
    assert!(
        logs.contains("WARN") && logs.contains("item=300") && logs.contains("invalid type"),
        "{logs}"
    );
    let served = serve(batch, |_| 200);
    assert_eq!(
        served.reached_the_app,
        ["100", "200"],
        "nothing after it is served"
    );
    assert_eq!(failure_ids(&served.answer.unwrap()), ["300"]);

    let batch = decode_batch(&DynamoDbAdapter, &bytes);
    let served = serve(batch, |id| if id == "100" { 500 } else { 200 });
    assert_eq!(served.reached_the_app, ["100"]);
    assert_eq!(failure_ids(&served.answer.unwrap()), ["100"]);

    let adapter = DynamoDbAdapter::per_record().report_batch_item_failures(false);
    let served = serve(decode_batch(&adapter, &bytes), |_| 200);
    assert_eq!(served.reached_the_app, ["100", "200"]);
    let err = served.answer.unwrap_err();
    assert!(
        err.message()
            .contains("the DynamoDB stream record 300 cannot be decoded"),
        "{err}"
    );
}

#[tokio::test]
async fn batch_mode_posts_undecodable_records_too() {
    let bytes = event_with_bad_records(&["100", "200"], &["200"]);
    let Batch { mut items, .. } = decode_batch(&DynamoDbAdapter::batch(), &bytes);
    assert_eq!(body_of(items.remove(0).request).await, bytes);
}
