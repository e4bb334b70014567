use super::*;

use http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};

fn document(message_type: &str) -> Value {
    json!({
        "messageType": message_type,
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders",
        "logStream": "2026/11/23/[$LATEST]abc",
        "subscriptionFilters": ["errors"],
        "logEvents": [
            {"id": "event-1", "timestamp": 1763899200000u64, "message": "ERROR first"},
            {"id": "event-2", "timestamp": 1763899200001u64, "message": "ERROR second"}
        ]
    })
}

fn probe_accepts(event: &[u8]) -> bool {
    CloudWatchLogsAdapter::default().can_handle(&EventProbe::new(event).unwrap())
}

fn decode(adapter: &CloudWatchLogsAdapter, event: &[u8]) -> Result<Batch, Error> {
    match adapter.decode(
        Bytes::copy_from_slice(event),
        &LambdaContext::for_request_id("r-1"),
    )? {
        Decoded::Batch(batch) => Ok(batch),
        other => panic!("expected a batch, got {other:?}"),
    }
}

fn answered(status: u16, body: &'static str) -> ItemOutcome {
    let (head, ()) = http::Response::builder()
        .status(status)
        .body(())
        .unwrap()
        .into_parts();
    ItemOutcome {
        id: "event-1".into(),
        result: ItemResult::Answered {
            head,
            body: Bytes::from_static(body.as_bytes()),
        },
    }
}

#[test]
fn accepts_only_cloudwatch_logs_events() {
    assert!(probe_accepts(&encode_event(&document("DATA_MESSAGE"))));
    assert!(!probe_accepts(
        br#"{"Records": [{"eventSource": "aws:sqs"}]}"#
    ));
    assert!(!probe_accepts(br#"{"version": "2.0", "rawPath": "/"}"#));
    assert!(!probe_accepts(br#"{"awslogs": "data"}"#));
    assert!(!probe_accepts(br#"{"awslogs": {}}"#));
}

#[tokio::test]
async fn a_data_message_is_one_post_with_the_whole_document() {
    let mut batch = decode(
        &CloudWatchLogsAdapter::default(),
        &encode_event(&document("DATA_MESSAGE")),
    )
    .unwrap();
    assert_eq!(batch.order, BatchOrder::InOrder);
    assert_eq!(batch.items.len(), 1);
    let item = batch.items.remove(0);
    assert_eq!(item.id, "event-1");
    let request = item.request;
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "/logs");
    let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-cloudwatch-log-group"), "/aws/lambda/orders");
    assert_eq!(header("x-cloudwatch-log-stream"), "2026/11/23/[$LATEST]abc");
    assert_eq!(header("x-cloudwatch-owner"), "123456789012");
    let context = request.extensions().get::<RequestContext>().unwrap();
    assert_eq!(context.source(), "cloudwatch-logs");
    let context: Value = context.parse().unwrap();
    assert_eq!(context["subscriptionFilters"], json!(["errors"]));
    let length: usize = header("content-length").parse().unwrap();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), length);
    let sent: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sent, document("DATA_MESSAGE"));
}

#[test]
fn the_path_comes_from_the_settings() {
    let settings = Settings::from_map([(PATH_SETTING, "/ingest/logs")]);
    let adapter = CloudWatchLogsAdapter::from_settings(&settings).unwrap();
    let batch = decode(&adapter, &encode_event(&document("DATA_MESSAGE"))).unwrap();
    assert_eq!(batch.items[0].request.uri(), "/ingest/logs");

    let default = CloudWatchLogsAdapter::from_settings(&Settings::from_map::<&str, &str>([]));
    let batch = decode(&default.unwrap(), &encode_event(&document("DATA_MESSAGE"))).unwrap();
    assert_eq!(batch.items[0].request.uri(), "/logs");

    let error = CloudWatchLogsAdapter::from_settings(&Settings::from_map([(PATH_SETTING, "logs")]))
        .unwrap_err();
    assert!(error.is_config());
    assert!(error.message().contains(PATH_SETTING), "{error}");
}

#[test]
fn a_control_message_is_answered_without_the_app() {
    let batch = decode(
        &CloudWatchLogsAdapter::default(),
        &encode_event(&document("CONTROL_MESSAGE")),
    )
    .unwrap();
    assert!(batch.items.is_empty());
    assert_eq!(&batch.settle.settle(Vec::new()).unwrap()[..], b"null");
}

#[test]
fn malformed_events_are_clear_errors() {
    let adapter = CloudWatchLogsAdapter::default();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (br#"{"awslogs": {"data": "%%%"}}"#.to_vec(), "not base64"),
        (
            // Valid base64, but not gzip.
            br#"{"awslogs": {"data": "aGVsbG8="}}"#.to_vec(),
            "not gzip",
        ),
        (encode_event(&json!("just a string")), "not a log document"),
        (
            encode_event(&json!({"messageType": "DATA_MESSAGE"})),
            "not a log document",
        ),
        (
            encode_event(&document("OTHER")),
            "unknown CloudWatch Logs messageType",
        ),
        (
            br#"{"awslogs": {"data": 7}}"#.to_vec(),
            "not a CloudWatch Logs event",
        ),
    ];
    for (event, expected) in cases {
        let error = decode(&adapter, &event).unwrap_err();
        assert!(error.is_malformed_event(), "{error}");
        assert!(error.message().contains(expected), "{expected}: {error}");
    }
}

#[test]
fn a_field_that_cannot_be_a_header_is_an_error() {
    let mut bad = document("DATA_MESSAGE");
    bad["logGroup"] = json!("line\nbreak");
    let error = decode(&CloudWatchLogsAdapter::default(), &encode_event(&bad)).unwrap_err();
    assert!(error.is_malformed_event(), "{error}");
}

#[test]
fn settling_passes_2xx_bodies_and_fails_otherwise() {
    assert_eq!(
        &settle(vec![answered(200, r#"{"ok":true}"#)]).unwrap()[..],
        br#"{"ok":true}"#
    );
    let error = settle(vec![answered(500, r#"{"ok":false}"#)]).unwrap_err();
    assert_eq!(error.error_type(), "App.ErrorStatus");
    assert!(error
        .message()
        .contains(&StatusCode::INTERNAL_SERVER_ERROR.to_string()));
    assert!(error.message().contains(r#"{"ok":false}"#), "{error}");

    let failed = ItemOutcome {
        id: "event-1".into(),
        result: ItemResult::Failed(Error::panic("boom")),
    };
    assert!(settle(vec![failed]).unwrap_err().is_panic());
    assert!(settle(Vec::new()).is_err());
}
