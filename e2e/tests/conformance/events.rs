//! The events the table sends, shaped as AWS services and local emulators send them.

use base64::Engine as _;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An HTTP API / Function URL event (payload 2.0).
pub(crate) fn http_api_v2(
    method: &str,
    path: &str,
    query: &str,
    cookies: &[&str],
    body: &[u8],
) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "cookies": cookies,
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "x-rep": "one,two",
                    "content-type": "application/octet-stream"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc", "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "04/Dec/2026:12:00:00 +0000", "timeEpoch": 1_796_385_600_000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": "e2e"}
        },
        "body": b64(body), "isBase64Encoded": true
    })
}

/// A Function URL event as `cargo lambda watch` sends it: payload 2.0 that also carries fields
/// of other shapes, some null.
pub(crate) fn cargo_lambda_url(method: &str, path: &str) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": null,
        "httpMethod": method, "methodArn": null, "resource": null, "type": null,
        "path": path, "pathParameters": {}, "stageVariables": {}, "queryStringParameters": {},
        "multiValueQueryStringParameters": null, "multiValueHeaders": null,
        "cookies": ["c=1"],
        "headers": {"host": "127.0.0.1:9000", "user-agent": "curl/8", "accept": "*/*"},
        "requestContext": {
            "accountId": null, "apiId": null, "domainName": "localhost", "domainPrefix": "_",
            "http": {"method": method, "path": path, "protocol": "http", "sourceIp": "127.0.0.1",
                     "userAgent": "cargo-lambda"},
            "requestId": "9c1f5b1e-0000-4000-8000-000000000000", "routeKey": "$default",
            "stage": "$default", "time": "04/Dec/2026:12:00:00 +0000", "timeEpoch": 1_796_385_600u64
        },
        "body": null, "isBase64Encoded": false
    })
}

/// An API Gateway REST API event (payload 1.0) with repeated headers and query values.
pub(crate) fn rest_v1(method: &str, path: &str, body: &str) -> Value {
    json!({
        "version": "1.0", "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com", "X-Rep": "two",
                    "Cookie": "c=1; d=2"},
        "multiValueHeaders": {"Host": ["abc.execute-api.us-east-1.amazonaws.com"],
                              "X-Rep": ["one", "two"], "Cookie": ["c=1; d=2"]},
        "queryStringParameters": {"a": "2", "b": "x y"},
        "multiValueQueryStringParameters": {"a": ["1", "2"], "b": ["x y"]},
        "pathParameters": {"proxy": path.trim_start_matches('/')}, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "resourceId": "r1", "stage": "prod",
            "requestId": "req-1", "httpMethod": method, "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1", "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "e2e"},
            "requestTimeEpoch": 1_796_385_600_000u64
        },
        "body": body, "isBase64Encoded": false
    })
}

/// An ALB event, single-value or multi-value headers.
pub(crate) fn alb(path: &str, multi_value: bool) -> Value {
    let mut event = json!({
        "requestContext": {"elb": {"targetGroupArn":
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef"}},
        "httpMethod": "GET", "path": path, "body": "", "isBase64Encoded": false
    });
    if multi_value {
        event["multiValueHeaders"] = json!({"host": ["alb.example.com"], "x-rep": ["one", "two"]});
        event["multiValueQueryStringParameters"] = json!({"a": ["1", "2"]});
    } else {
        event["headers"] = json!({"host": "alb.example.com", "x-rep": "one"});
        event["queryStringParameters"] = json!({"a": "1"});
    }
    event
}

/// An API Gateway WebSocket event for `route` (`$connect`, `$default`, a custom route).
pub(crate) fn websocket(route: &str, event_type: &str, body: &str) -> Value {
    json!({
        "requestContext": {
            "routeKey": route, "eventType": event_type, "messageId": "m-1",
            "extendedRequestId": "x-1", "requestTime": "04/Dec/2026:12:00:00 +0000",
            "messageDirection": "IN", "stage": "prod", "connectedAt": 1_796_385_600_000u64,
            "requestTimeEpoch": 1_796_385_600_000u64, "requestId": "req-1",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com", "connectionId": "conn-1",
            "apiId": "abc"
        },
        "body": body, "isBase64Encoded": false
    })
}

/// An SQS batch: `(messageId, message group for FIFO, body)`.
pub(crate) fn sqs(records: &[(&str, Option<&str>, Value)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, group, body)| {
            let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1796385600000",
                "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1796385600001"});
            let arn = if let Some(group) = group {
                attributes["MessageGroupId"] = json!(group);
                attributes["MessageDeduplicationId"] = json!(id);
                "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"
            } else {
                "arn:aws:sqs:us-east-1:123456789012:jobs"
            };
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": attributes, "messageAttributes": {}, "md5OfBody": "0",
                "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// An SNS notification with one message.
pub(crate) fn sns(message: &str) -> Value {
    json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:topic:sub",
        "Sns": {"Type": "Notification", "MessageId": "sns-1",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic", "Subject": null,
                "Message": message, "Timestamp": "2026-12-04T12:00:00.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://x",
                "UnsubscribeUrl": "https://x", "MessageAttributes": {}}
    }]})
}

/// An S3 notification for `key`.
pub(crate) fn s3(key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-04T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "203.0.113.9"},
        "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "bucket", "ownerIdentity": {"principalId": "X"},
                          "arn": "arn:aws:s3:::bucket"},
               "object": {"key": key, "size": 3, "eTag": "e", "sequencer": "0A"}}
    }]})
}

/// An EventBridge event with `detail`.
pub(crate) fn eventbridge(detail: Value) -> Value {
    json!({"version": "0", "id": "ev-1", "detail-type": "Order Placed", "source": "shop",
           "account": "123456789012", "time": "2026-12-04T12:00:00Z", "region": "us-east-1",
           "resources": [], "detail": detail})
}

/// A Kinesis batch: `(sequenceNumber, data)`, the data already base64 (or not, to break it).
pub(crate) fn kinesis(records: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(sequence, data)| {
            json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p",
                "sequenceNumber": sequence, "data": data, "approximateArrivalTimestamp": 1_796_385_600.5},
                "eventSource": "aws:kinesis", "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{sequence}"), "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/r", "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"})
        })
        .collect();
    json!({ "Records": records })
}

/// Base64 of `text`, as Kinesis carries record data.
pub(crate) fn kinesis_data(text: &str) -> String {
    b64(text.as_bytes())
}

/// A DynamoDB Streams batch: `(SequenceNumber, NewImage)`; the image `"malformed"` makes a
/// record of the wrong shape (`eventName` a number).
pub(crate) fn dynamodb(records: &[(&str, Value)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(sequence, image)| {
            let name = if *image == "malformed" { json!(5) } else { json!("INSERT") };
            json!({"eventID": format!("e-{sequence}"), "eventName": name, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {"ApproximateCreationDateTime": 1_796_385_600.0, "Keys": {"id": {"S": sequence}},
                             "NewImage": image, "SequenceNumber": sequence, "SizeBytes": 26,
                             "StreamViewType": "NEW_AND_OLD_IMAGES"},
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"})
        })
        .collect();
    json!({ "Records": records })
}
