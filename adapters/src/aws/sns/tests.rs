use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{answered, body_of, decode_batch, failed, skipped};
use serverless_adapter_core::{BatchOrder, RequestContext};

/// Every SNS event fixture shipped with `aws_lambda_events`, CloudWatch alarm notifications
/// delivered through SNS included. Left out on purpose: `example-sns-subscription-confirmation`
/// and `example-sns-unsubscribe-confirmation` (what SNS posts to HTTP endpoints, never a Lambda
/// event).
pub(crate) const FIXTURES: &[&str] =
    &["example-sns-event", "example-cloudwatch-alarm-sns-payload-"];

#[tokio::test]
async fn every_sns_fixture_maps_each_record_to_a_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 5);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let records = json["Records"].as_array().unwrap();
        let batch = decode_batch(&SnsAdapter, &bytes);
        assert_eq!(batch.order, BatchOrder::InOrder);
        assert_eq!(batch.items.len(), records.len(), "{name}");
        for (item, record) in batch.items.into_iter().zip(records) {
            let sns = &record["Sns"];
            assert_eq!(item.id, sns["MessageId"], "{name}");
            let request = item.request;
            assert_eq!(request.method(), "POST");
            assert_eq!(request.uri(), "/sns");
            let headers = request.headers();
            assert_eq!(headers["host"], "sns.amazonaws.com");
            assert_eq!(
                headers["x-sns-message-id"],
                sns["MessageId"].as_str().unwrap()
            );
            assert_eq!(
                headers["x-sns-topic-arn"],
                sns["TopicArn"].as_str().unwrap()
            );
            assert_eq!(headers["x-sns-subject"], sns["Subject"].as_str().unwrap());
            assert_eq!(headers["x-sns-type"], "Notification");
            assert_eq!(
                headers["x-sns-timestamp"],
                sns["Timestamp"].as_str().unwrap()
            );
            assert_eq!(headers["x-sns-subscription-arn"], "arn:aws:sns:EXAMPLE");
            let message = sns["Message"].as_str().unwrap();
            let is_json = serde_json::from_str::<serde_json::Value>(message).is_ok();
            assert_eq!(
                headers["content-type"],
                if is_json {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                },
                "{name}"
            );
            let context = request.extensions().get::<RequestContext>().unwrap();
            assert_eq!(context.source(), "sns");
            assert_eq!(&context.parse::<serde_json::Value>().unwrap(), record);
            assert_eq!(body_of(request).await, message.as_bytes(), "{name}");
        }
    }
}

const EVENT: &str = r#"{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0",
    "EventSubscriptionArn":"arn:sub","Sns":{"Type":"Notification","MessageId":"n1",
    "TopicArn":"arn:topic","Subject":null,"Message":"fail please","Timestamp":"t",
    "MessageAttributes":{"Kind":{"Type":"String","Value":"order"},"Empty":null}}}]}"#;

#[test]
fn attributes_and_options() {
    let batch = decode_batch(&SnsAdapter::per_record().path("/notify"), EVENT.as_bytes());
    let request = &batch.items[0].request;
    assert_eq!(request.uri(), "/notify");
    assert_eq!(request.headers()["x-sns-message-attribute-kind"], "order");
    assert!(!request.headers().contains_key("x-sns-subject"));
    assert!(!request
        .headers()
        .contains_key("x-sns-message-attribute-empty"));
    assert_eq!(SnsAdapter::per_record().name(), "sns");
}

#[test]
fn success_is_null_and_any_failure_fails_the_invocation() {
    let settle = |outcomes| {
        decode_batch(&SnsAdapter, EVENT.as_bytes())
            .settle
            .settle(outcomes)
    };
    assert_eq!(&settle(vec![answered("n1", 202, "")]).unwrap()[..], b"null");
    let err = settle(vec![answered("n1", 500, "fail please")]).unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    assert!(err.message().contains("500 Internal Server Error"), "{err}");
    assert!(err.message().contains("fail please"), "{err}");
    assert!(err.message().contains("n1"), "{err}");
    let err = settle(vec![failed("n1", Error::panic("boom"))]).unwrap_err();
    assert!(err.is_panic());
    assert!(
        settle(vec![answered("n1", 302, "")]).is_err(),
        "3xx is not success"
    );
    assert!(settle(vec![skipped("n1")]).is_err());
}

#[test]
fn malformed_events_are_errors_not_panics() {
    for case in [
        r#"{"Records":[{"EventSource":"aws:sns"}]}"#,
        r#"{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"no id"}}]}"#,
    ] {
        let err = SnsAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
    }
}
