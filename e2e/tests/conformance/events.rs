//! The events the table sends: the emulator's event builders (`serverless_adapter_emulator::
//! events`, the one place that knows each source's shape), set up as the cases need them.

use serde_json::Value;
use serverless_adapter_emulator::events::{
    DynamoDbEvent, EventBridgeEvent, HttpRequest, KinesisEvent, S3Event, SnsEvent, SqsEvent,
    WebSocketEvent,
};

const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:jobs";
const FIFO_QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:jobs.fifo";
const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
const TABLE_STREAM: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026";

/// A Function URL event (payload 2.0) with a repeated header (`x-rep: one,two`, joined as
/// Function URLs join them), cookies and a base64 body.
pub(crate) fn http_api_v2(
    method: &str,
    path: &str,
    query: &str,
    cookies: &[&str],
    body: &[u8],
) -> Value {
    let mut request = HttpRequest::new(method, path)
        .query(query)
        .header("x-rep", "one,two")
        .header("content-type", "application/octet-stream")
        .binary_body(body);
    for cookie in cookies {
        request = request.cookie(*cookie);
    }
    request.function_url()
}

/// A Function URL event as `cargo lambda watch` sends it: payload 2.0 that also carries fields
/// of other shapes, some null.
pub(crate) fn cargo_lambda_url(method: &str, path: &str) -> Value {
    HttpRequest::new(method, path)
        .cookie("c=1")
        .cargo_lambda_url("_")
}

/// An API Gateway REST API event (payload 1.0) with repeated headers and query values.
pub(crate) fn rest_v1(method: &str, path: &str, body: &str) -> Value {
    HttpRequest::new(method, path)
        .query("a=1&a=2&b=x%20y")
        .header("X-Rep", "one")
        .header("X-Rep", "two")
        .cookie("c=1")
        .cookie("d=2")
        .body(body)
        .rest_api()
}

/// An ALB event, single-value or multi-value headers.
pub(crate) fn alb(path: &str, multi_value: bool) -> Value {
    if multi_value {
        HttpRequest::get(path)
            .query("a=1&a=2")
            .header("x-rep", "one")
            .header("x-rep", "two")
            .alb_multi_value()
    } else {
        HttpRequest::get(path)
            .query("a=1")
            .header("x-rep", "one")
            .alb()
    }
}

/// An API Gateway WebSocket event for `route` (`$connect`, `$disconnect`, a custom route).
pub(crate) fn websocket(route: &str, body: &str) -> Value {
    match route {
        "$connect" => WebSocketEvent::connect("conn-1"),
        "$disconnect" => WebSocketEvent::disconnect("conn-1"),
        route => WebSocketEvent::message("conn-1", body).route_key(route),
    }
    .build()
}

/// An SQS batch: `(messageId, message group for FIFO, body)`; a body that is not a JSON
/// string makes an undecodable record.
pub(crate) fn sqs(records: &[(&str, Option<&str>, Value)]) -> Value {
    let fifo = records.iter().any(|(_, group, _)| group.is_some());
    let mut event = SqsEvent::new(if fifo { FIFO_QUEUE } else { QUEUE });
    for (id, group, _) in records {
        event = event.record(*id, *group, "");
    }
    let mut event = event.build();
    for (record, (_, _, body)) in event["Records"]
        .as_array_mut()
        .expect("Records")
        .iter_mut()
        .zip(records)
    {
        record["body"] = body.clone();
    }
    event
}

/// An SNS notification with one message.
pub(crate) fn sns(message: &str) -> Value {
    SnsEvent::new("arn:aws:sns:us-east-1:123456789012:topic")
        .message("sns-1", message)
        .build()
}

/// An S3 notification for `key`.
pub(crate) fn s3(key: &str) -> Value {
    S3Event::new("bucket").object_created(key, 3).build()
}

/// An EventBridge event with `detail`.
pub(crate) fn eventbridge(detail: Value) -> Value {
    EventBridgeEvent::new("shop", "Order Placed", detail).build()
}

/// A Kinesis batch: `(sequenceNumber, data)`, the data field exactly as given (base64, or not
/// to make an undecodable record).
pub(crate) fn kinesis(records: &[(&str, &str)]) -> Value {
    records
        .iter()
        .fold(KinesisEvent::new(STREAM), |event, (sequence, data)| {
            event.raw_record(*sequence, *data)
        })
        .build()
}

/// Base64 of `text`, as Kinesis carries record data.
pub(crate) fn kinesis_data(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A DynamoDB Streams batch of inserts: `(SequenceNumber, NewImage)`; the image `"malformed"`
/// makes a record of the wrong shape.
pub(crate) fn dynamodb(records: &[(&str, Value)]) -> Value {
    records
        .iter()
        .fold(
            DynamoDbEvent::new(TABLE_STREAM),
            |event, (sequence, image)| {
                if *image == "malformed" {
                    event.malformed_record(*sequence)
                } else {
                    let keys = serde_json::json!({"id": {"S": sequence}});
                    event.insert(*sequence, keys, image.clone())
                }
            },
        )
        .build()
}
