use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{answered, body_of, decode_batch, failed};
use serverless_adapter_core::{BatchOrder, RequestContext};

/// Every S3 notification fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-s3-object-lambda-event-*` (S3 Object Lambda, a different contract: the function
/// answers through `WriteGetObjectResponse`).
pub(crate) const FIXTURES: &[&str] = &["example-s3-event"];

#[tokio::test]
async fn every_s3_fixture_maps_each_record_to_a_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 2);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let records = json["Records"].as_array().unwrap();
        let batch = decode_batch(&S3Adapter, &bytes);
        assert_eq!(batch.order, BatchOrder::InOrder);
        assert_eq!(batch.items.len(), records.len(), "{name}");
        for (item, record) in batch.items.into_iter().zip(records) {
            assert_eq!(item.id, "sourcebucket/Happy%20Face.jpg");
            let request = item.request;
            assert_eq!(request.method(), "POST");
            assert_eq!(request.uri(), "/s3");
            let headers = request.headers();
            assert_eq!(headers["host"], "s3.amazonaws.com");
            assert_eq!(headers["content-type"], "application/json");
            assert_eq!(headers["x-s3-event-name"], "ObjectCreated:Put");
            assert_eq!(headers["x-s3-event-time"], "1970-01-01T00:00:00.123Z");
            assert_eq!(headers["x-s3-aws-region"], "us-east-1");
            assert_eq!(headers["x-s3-bucket"], "sourcebucket");
            assert_eq!(headers["x-s3-key"], "Happy%20Face.jpg");
            let context = request.extensions().get::<RequestContext>().unwrap();
            assert_eq!(context.source(), "s3");
            assert_eq!(&context.parse::<serde_json::Value>().unwrap(), record);
            let body: serde_json::Value = serde_json::from_slice(&body_of(request).await).unwrap();
            assert_eq!(&body, record, "{name}");
        }
    }
}

#[test]
fn success_is_null_and_any_failure_fails_the_invocation() {
    let (_, bytes) = aws_fixtures(&["example-s3-event.json"]).remove(0);
    let adapter = S3Adapter::per_record().path("/uploads");
    let batch = decode_batch(&adapter, &bytes);
    assert_eq!(batch.items[0].request.uri(), "/uploads");
    let id = batch.items[0].id.clone();
    assert_eq!(
        &batch.settle.settle(vec![answered(&id, 200, "")]).unwrap()[..],
        b"null"
    );
    let batch = decode_batch(&adapter, &bytes);
    let err = batch
        .settle
        .settle(vec![answered(&id, 404, "missing")])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    assert!(err.message().contains("missing"));
    let batch = decode_batch(&adapter, &bytes);
    assert!(batch
        .settle
        .settle(vec![failed(&id, Error::timeout("late"))])
        .unwrap_err()
        .is_timeout());
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let err = S3Adapter
        .decode(
            Bytes::from(r#"{"Records":[{"eventSource":"aws:s3","s3":{}}]}"#),
            &LambdaContext::for_request_id("r"),
        )
        .unwrap_err();
    assert!(err.is_malformed_event(), "{err}");
}
