use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{
    answered, body_of, decode_batch, failed, failure_ids, logged, serve, skipped,
};
use serverless_adapter_core::{Batch, BatchOrder, RequestContext};

/// Every Kinesis Data Streams fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-kinesis-firehose-*` and `example-firehose-event.json` (Firehose data
/// transformation, a different contract with its own answer).
pub(crate) const FIXTURES: &[&str] = &["example-kinesis-event"];

#[tokio::test]
async fn every_kinesis_fixture_maps_each_record_to_a_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 2);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let records = json["Records"].as_array().unwrap();
        let batch = decode_batch(&KinesisAdapter, &bytes);
        assert_eq!(batch.order, BatchOrder::InOrder);
        assert_eq!(batch.items.len(), records.len(), "{name}");
        for (item, record) in batch.items.into_iter().zip(records) {
            let kinesis = &record["kinesis"];
            assert_eq!(item.id, kinesis["sequenceNumber"], "{name}");
            let request = item.request;
            assert_eq!(request.method(), "POST");
            assert_eq!(request.uri(), "/kinesis");
            let headers = request.headers();
            assert_eq!(headers["host"], "kinesis.amazonaws.com");
            assert_eq!(
                headers["x-kinesis-sequence-number"],
                kinesis["sequenceNumber"].as_str().unwrap()
            );
            assert_eq!(headers["x-kinesis-partition-key"], "s1");
            assert_eq!(
                headers["x-kinesis-event-id"],
                record["eventID"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-kinesis-event-source-arn"],
                record["eventSourceARN"].as_str().unwrap()
            );
            assert_eq!(headers["x-kinesis-aws-region"], "us-east-1");
            assert_eq!(
                headers["x-kinesis-approximate-arrival-timestamp"],
                kinesis["approximateArrivalTimestamp"].to_string().as_str()
            );
            assert_eq!(
                headers
                    .get("x-kinesis-encryption-type")
                    .map(|v| v.to_str().unwrap()),
                kinesis["encryptionType"].as_str(),
                "{name}"
            );
            assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
            let context = request.extensions().get::<RequestContext>().unwrap();
            assert_eq!(context.source(), "kinesis");
            assert_eq!(&context.parse::<serde_json::Value>().unwrap(), record);
            assert_eq!(
                body_of(request).await,
                "Hello World",
                "{name}: data decoded"
            );
        }
    }
}

fn event(records: &[(&str, &[u8])]) -> Vec<u8> {
    use base64::Engine as _;
    let records: Vec<String> = records
        .iter()
        .map(|(seq, data)| {
            format!(
                r#"{{"kinesis":{{"partitionKey":"p","sequenceNumber":"{seq}","data":"{}",
                "approximateArrivalTimestamp":1.5}},"eventSource":"aws:kinesis","eventID":"e{seq}"}}"#,
                base64::engine::general_purpose::STANDARD.encode(data)
            )
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
}

#[test]
fn binary_and_json_data_get_their_content_types() {
    let bytes = event(&[("1", br#"{"a":1}"#), ("2", &[0, 255])]);
    let batch = decode_batch(&KinesisAdapter::per_record().path("/clicks"), &bytes);
    assert_eq!(batch.items[0].request.uri(), "/clicks");
    assert_eq!(
        batch.items[0].request.headers()["content-type"],
        "application/json"
    );
    assert_eq!(
        batch.items[1].request.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(batch.items[1].request.headers()["content-length"], "2");
}

#[test]
fn the_first_failure_is_the_checkpoint() {
    let bytes = event(&[("1", b"a"), ("2", b"fail"), ("3", b"c"), ("4", b"d")]);
    let batch = decode_batch(&KinesisAdapter, &bytes);
    let answer = batch
        .settle
        .settle(vec![
            answered("1", 200, ""),
            answered("2", 500, "fail"),
            skipped("3"),
            skipped("4"),
        ])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["2"]);

    let batch = decode_batch(&KinesisAdapter, &bytes);
    let answer = batch
        .settle
        .settle(vec![
            answered("1", 200, ""),
            answered("2", 200, ""),
            failed("3", Error::timeout("late")),
            skipped("4"),
        ])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["3"]);

    let batch = decode_batch(&KinesisAdapter, &bytes);
    let all_ok = (1..=4).map(|i| answered(&i.to_string(), 200, "")).collect();
    assert_eq!(
        failure_ids(&batch.settle.settle(all_ok).unwrap()),
        Vec::<String>::new()
    );

    let adapter = KinesisAdapter::per_record().report_batch_item_failures(false);
    let batch = decode_batch(&adapter, &bytes);
    let err = batch
        .settle
        .settle(vec![
            answered("1", 200, ""),
            answered("2", 500, "x"),
            skipped("3"),
            skipped("4"),
        ])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
}

#[tokio::test]
async fn batch_mode_posts_the_event_and_checks_sequence_numbers() {
    let bytes = event(&[("11", b"a"), ("12", b"b")]);
    let batch = decode_batch(&KinesisAdapter::batch(), &bytes);
    let Batch {
        mut items, settle, ..
    } = batch;
    let item = items.remove(0);
    assert_eq!(item.request.uri(), "/kinesis");
    assert_eq!(item.request.headers()["x-kinesis-batch-size"], "2");
    let id = item.id.clone();
    assert_eq!(body_of(item.request).await, bytes);
    let answer = settle
        .settle(vec![answered(
            &id,
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"12"}]}"#,
        )])
        .unwrap();
    assert_eq!(failure_ids(&answer), ["12"]);
    let batch = decode_batch(&KinesisAdapter::batch(), &bytes);
    let err = batch
        .settle
        .settle(vec![answered(
            &id,
            200,
            r#"{"batchItemFailures":[{"itemIdentifier":"99"}]}"#,
        )])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.InvalidBatchAnswer");
}

#[test]
fn malformed_events_are_errors_not_panics() {
    for case in [
        r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"SGk="}}]}"#,
        r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":1,"data":"%%%"}}]}"#,
        r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":"x"}]}"#,
        r#"{"Records":{"eventSource":"aws:kinesis"}}"#,
    ] {
        let err = KinesisAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
    }
}

/// `event`, with the data of the records at `bad` replaced by text that is not base64.
fn event_with_bad_data(records: &[(&str, &[u8])], bad: &[&str]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(&event(records)).unwrap();
    for record in json["Records"].as_array_mut().unwrap() {
        if bad.contains(&record["kinesis"]["sequenceNumber"].as_str().unwrap()) {
            record["kinesis"]["data"] = "%%% not base64".into();
        }
    }
    serde_json::to_vec(&json).unwrap()
}

#[test]
fn an_undecodable_record_fails_only_itself_and_is_the_checkpoint() {
    let records: &[(&str, &[u8])] = &[("1", b"a"), ("2", b"b"), ("3", b"c"), ("4", b"d")];
    let bytes = event_with_bad_data(records, &["3"]);
    let (batch, logs) = logged(|| decode_batch(&KinesisAdapter, &bytes));
    assert!(
        logs.contains("WARN") && logs.contains("item=3") && logs.contains("not base64"),
        "{logs}"
    );
    let served = serve(batch, |_| 200);
    assert_eq!(
        served.reached_the_app,
        ["1", "2"],
        "nothing after it is served"
    );
    assert_eq!(failure_ids(&served.answer.unwrap()), ["3"]);

    // an earlier failure is the checkpoint
    let batch = decode_batch(&KinesisAdapter, &bytes);
    let served = serve(batch, |id| if id == "2" { 500 } else { 200 });
    assert_eq!(served.reached_the_app, ["1", "2"]);
    assert_eq!(failure_ids(&served.answer.unwrap()), ["2"]);

    // the first record undecodable: nothing is served
    let bytes = event_with_bad_data(records, &["1", "3"]);
    let served = serve(decode_batch(&KinesisAdapter, &bytes), |_| 200);
    assert!(served.reached_the_app.is_empty());
    assert_eq!(failure_ids(&served.answer.unwrap()), ["1"]);

    // without batchItemFailures, it fails the invocation
    let adapter = KinesisAdapter::per_record().report_batch_item_failures(false);
    let bytes = event_with_bad_data(records, &["3"]);
    let served = serve(decode_batch(&adapter, &bytes), |_| 200);
    assert_eq!(served.reached_the_app, ["1", "2"]);
    let err = served.answer.unwrap_err();
    assert!(err.is_malformed_event(), "{err}");
    assert!(
        err.message()
            .contains("the Kinesis record 3 cannot be decoded"),
        "{err}"
    );
}

#[tokio::test]
async fn batch_mode_posts_undecodable_records_too() {
    let bytes = event_with_bad_data(&[("11", b"a"), ("12", b"b")], &["12"]);
    let Batch { mut items, .. } = decode_batch(&KinesisAdapter::batch(), &bytes);
    assert_eq!(body_of(items.remove(0).request).await, bytes);
}
