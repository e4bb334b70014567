use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{answered, body_of, decode_batch, failed};
use serverless_adapter_core::{BatchOrder, RequestContext};

/// Every fixture shipped with `aws_lambda_events` that has EventBridge's envelope: custom and
/// scheduled events and AWS service events. Left out on purpose (they are not EventBridge
/// events): `example-cloudwatch-alarm-composite.json` and `-metric.json` (a CloudWatch alarm's
/// direct Lambda action), `example-codedeploy-lifecycle-event.json` (a deployment hook),
/// `example-codepipeline_job-event.json` (a pipeline job), `example-cloudwatch-cloudtrail-*`
/// and `example-controltower-*` (bare CloudTrail records, without the envelope).
pub(crate) const FIXTURES: &[&str] = &[
    "example-eventbridge-",
    "example-autoscaling-event-",
    "example-codebuild-",
    "example-codedeploy-deployment-event",
    "example-codedeploy-instance-event",
    "example-codepipeline-",
    "example-ecr-image-scan-event",
    "example-cloudwatch-alarm-composite-with-suppressor-alarm",
];

#[tokio::test]
async fn every_eventbridge_fixture_maps_to_one_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(
        fixtures.len(),
        18,
        "{:?}",
        fixtures.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut batch = decode_batch(&EventBridgeAdapter, &bytes);
        assert_eq!(batch.order, BatchOrder::InOrder);
        assert_eq!(batch.items.len(), 1, "{name}");
        let item = batch.items.remove(0);
        assert_eq!(item.id, json["id"], "{name}");
        let request = item.request;
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri(), "/eventbridge");
        let headers = request.headers();
        assert_eq!(headers["host"], "events.amazonaws.com");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-eventbridge-id"], json["id"].as_str().unwrap());
        assert_eq!(
            headers["x-eventbridge-source"],
            json["source"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            headers["x-eventbridge-detail-type"],
            json["detail-type"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-eventbridge-account"],
            json["account"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-eventbridge-region"],
            json["region"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-eventbridge-time"],
            json["time"].as_str().unwrap()
        );
        let context = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(context.source(), "eventbridge");
        assert_eq!(context.parse::<serde_json::Value>().unwrap(), json);
        assert_eq!(
            body_of(request).await,
            bytes,
            "{name}: the event as it came"
        );
    }
}

#[test]
fn success_is_null_and_any_failure_fails_the_invocation() {
    let event = br#"{"detail-type":"Tick","source":"my.app","detail":{}}"#;
    let adapter = EventBridgeAdapter::configure().path("/cron");
    let batch = decode_batch(&adapter, event);
    assert_eq!(batch.items[0].request.uri(), "/cron");
    assert_eq!(batch.items[0].id, "event");
    assert_eq!(
        &batch
            .settle
            .settle(vec![answered("event", 204, "")])
            .unwrap()[..],
        b"null"
    );
    let batch = decode_batch(&adapter, event);
    let err = batch
        .settle
        .settle(vec![answered("event", 500, "fail")])
        .unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    let batch = decode_batch(&adapter, event);
    assert!(batch
        .settle
        .settle(vec![failed("event", Error::panic("p"))])
        .unwrap_err()
        .is_panic());
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let err = EventBridgeAdapter
        .decode(
            Bytes::from(r#"{"detail-type":"x","source":7}"#),
            &LambdaContext::for_request_id("r"),
        )
        .unwrap_err();
    assert!(err.is_malformed_event(), "{err}");
}
