//! The fixed events the bench hands out: Function URL requests (payload 2.0) and an SQS batch.

use bytes::Bytes;

/// A Function URL event (payload 2.0) for `method path?query`, with an optional text body.
pub(crate) fn function_url_event(
    method: &str,
    path: &str,
    query: &str,
    body: Option<&str>,
) -> Bytes {
    let mut params = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.into(), serde_json::Value::String(v.into()));
    }
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "x.lambda-url.us-east-1.on.aws",
            "user-agent": "serverless-adapter-bench",
            "accept": "*/*",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443"
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "x",
            "domainName": "x.lambda-url.us-east-1.on.aws",
            "domainPrefix": "x",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "serverless-adapter-bench"
            },
            "requestId": "bench-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1_767_225_600_000u64
        },
        "isBase64Encoded": false
    });
    if !params.is_empty() {
        event["queryStringParameters"] = serde_json::Value::Object(params);
    }
    if let Some(body) = body {
        event["body"] = serde_json::Value::String(body.to_owned());
        event["headers"]["content-type"] = "text/plain".into();
        event["headers"]["content-length"] = body.len().to_string().into();
    }
    Bytes::from(serde_json::to_vec(&event).expect("serialisable event"))
}

/// An SQS event with `records` messages.
pub(crate) fn sqs_event(records: usize) -> Bytes {
    let records: Vec<_> = (0..records)
        .map(|i| {
            serde_json::json!({
                "messageId": format!("00000000-0000-0000-0000-{i:012}"),
                "receiptHandle": format!("receipt-{i}"),
                "body": format!("{{\"job\":{i},\"payload\":\"hello\"}}"),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767225600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1767225600001"
                },
                "messageAttributes": {},
                "md5OfBody": "0123456789abcdef0123456789abcdef",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    Bytes::from(serde_json::to_vec(&serde_json::json!({ "Records": records })).expect("json"))
}

/// A text request body of exactly `len` bytes (printable ASCII, lines of 64).
pub(crate) fn text_body(len: usize) -> String {
    const LINE: &[u8; 64] = b"the quick brown fox jumps over the lazy dog 0123456789 abcdefgh\n";
    (0..len).map(|i| LINE[i % LINE.len()] as char).collect()
}
