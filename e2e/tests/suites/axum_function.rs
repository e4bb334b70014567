//! End to end: `reference-axum` as a real process under the emulator's real Runtime API and
//! Function URL, buffered and streamed, with every event source it registers.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_emulator::{Emulator, Invocation, Outcome};

const LIMIT: Duration = Duration::from_secs(60);

async fn emulator(mode: &str) -> Emulator {
    emulator_with(mode, Duration::from_secs(30)).await
}

async fn emulator_with(mode: &str, timeout: Duration) -> Emulator {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reference-axum"));
    command
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("RUST_LOG", "warn");
    let emulator = Emulator::builder()
        .command(command)
        .timeout(timeout)
        .quiet(true)
        .start()
        .await
        .expect("the emulator starts");
    emulator
        .wait_ready(Duration::from_secs(20))
        .await
        .expect("the function polls");
    emulator
}

async fn invoke(emulator: &Emulator, event: impl Into<Bytes>) -> Invocation {
    tokio::time::timeout(LIMIT, emulator.invoke(event.into()))
        .await
        .expect("answered in time")
        .expect("the invocation completes")
}

/// A Function URL event (payload 2.0) for a GET of `path_and_query`.
fn url_event(method: &str, path: &str, query: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "requestContext": {
            "accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc", "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"}
        },
        "isBase64Encoded": false
    }))
    .unwrap()
}

fn sqs_event(arn: &str, records: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, group, body)| {
            let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1"});
            if let Some(group) = group {
                attributes["MessageGroupId"] = json!(group);
            }
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": attributes, "messageAttributes": {}, "md5OfBody": "x",
                "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"})
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn failure_ids(invocation: &Invocation) -> Vec<String> {
    assert!(!invocation.is_error(), "{:?}", invocation.error());
    let answer: Value = invocation.json().expect("a JSON answer");
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn buffered_http_through_the_function_url() {
    let emulator = emulator("buffered").await;
    let root = emulator.get("/").await.unwrap();
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");

    let request = http::Request::post("/echo/a%20b?x=1&x=2&y=")
        .header("cookie", "c1=1")
        .header("cookie", "c2=2")
        .header("x-rep", "one")
        .header("x-rep", "two")
        .header("content-type", "application/octet-stream")
        .body(Bytes::from_static(&[0, 1, 2, 254, 255]))
        .unwrap();
    let echo = emulator.request(request).await.unwrap().collect().await;
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    let echoed: Value = serde_json::from_slice(&echo.body()).unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/echo/a%20b");
    assert_eq!(echoed["query"], "x=1&x=2&y=");
    assert_eq!(echoed["body_base64"], "AAEC/v8=");
    let headers: Vec<(String, String)> = serde_json::from_value(echoed["headers"].clone()).unwrap();
    let find = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(find("cookie"), ["c1=1; c2=2"]);
    assert_eq!(
        find("x-rep"),
        ["one,two"],
        "the Function URL joins repeated headers"
    );
    assert_eq!(find("content-length"), ["5"]);
    assert_eq!(find("x-forwarded-for"), ["127.0.0.1"]);

    assert_eq!(emulator.get("/status/404").await.unwrap().status, 404);

    let panic = emulator.get("/panic").await.unwrap();
    assert_eq!(panic.status, 500);
    assert_eq!(
        panic.text(),
        r#"{"message":"Internal Server Error","errorType":"App.Panic"}"#
    );
    assert_eq!(
        emulator.get("/").await.unwrap().status,
        200,
        "the process keeps serving"
    );
    assert_eq!(emulator.init_count(), 1, "no restart was needed");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_events_and_oversized_answers_are_clear_errors() {
    let emulator = emulator("buffered").await;
    for bad in [&b"not json"[..], b"[1,2,3]", b"\"a string\""] {
        let invocation = invoke(&emulator, Bytes::copy_from_slice(bad)).await;
        let error = invocation.error().expect("an error");
        assert_eq!(error.error_type, "Event.Malformed", "{bad:?}");
    }
    let bad_base64 = br#"{"version":"2.0","rawPath":"/","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"POST"}},"body":"%%%","isBase64Encoded":true}"#;
    assert_eq!(
        invoke(&emulator, &bad_base64[..])
            .await
            .error()
            .unwrap()
            .error_type,
        "Event.Malformed"
    );

    let big = invoke(&emulator, url_event("GET", "/bytes", "size=7000000")).await;
    let error = big.error().expect("the 7 MB answer is refused");
    assert_eq!(error.error_type, "Function.ResponseSizeTooLarge");
    assert!(
        error.error_message.contains("stream it"),
        "{}",
        error.error_message
    );

    let fine = invoke(&emulator, url_event("GET", "/", "")).await;
    assert_eq!(
        fine.http().unwrap().text(),
        "ok",
        "a good event is still answered"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn streamed_answers_have_the_exact_prelude_and_separator() {
    let emulator = emulator("response_stream").await;
    let invocation = invoke(&emulator, url_event("GET", "/echo/x", "")).await;
    assert_eq!(
        invocation.headers["content-type"],
        "application/vnd.awslambda.http-integration-response"
    );
    assert_eq!(
        invocation.headers["lambda-runtime-function-response-mode"],
        "streaming"
    );
    let raw = &invocation.raw[..];
    let separator = raw
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("eight NULs");
    let prelude: Value = serde_json::from_slice(&raw[..separator]).unwrap();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["cookies"], json!(["a=1; Path=/", "b=2; Path=/"]));
    assert_eq!(
        prelude["headers"]["x-multi"],
        json!(["one", "two"]),
        "every value kept"
    );
    assert_eq!(prelude["headers"]["content-type"], "application/json");
    assert!(prelude["headers"].get("set-cookie").is_none());
    let body = &raw[separator + 8..];
    assert_eq!(body, &invocation.body()[..]);
    assert_eq!(
        serde_json::from_slice::<Value>(body).unwrap()["path"],
        "/echo/x"
    );

    let root = invoke(&emulator, url_event("GET", "/", "")).await;
    let separator = root.raw.windows(8).position(|w| w == [0u8; 8]).unwrap();
    assert_eq!(&root.raw[separator..], b"\0\0\0\0\0\0\0\0ok");
    assert!(root
        .raw
        .starts_with(br#"{"statusCode":200,"headers":{"content-type":"text/plain"#));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn streamed_events_arrive_spread_out_at_the_http_client() {
    let emulator = emulator("response_stream").await;
    let request = http::Request::get("/stream?chunks=5&interval_ms=100&size=24")
        .body(Bytes::new())
        .unwrap();
    let mut response = emulator.request(request).await.unwrap();
    assert_eq!(response.status, 200);
    let mut arrivals = Vec::new();
    let mut text = Vec::new();
    while let Some((at, chunk)) = tokio::time::timeout(LIMIT, response.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        for _ in 0..chunk.windows(2).filter(|w| w == b"\n\n").count() {
            arrivals.push(at);
        }
        text.extend_from_slice(&chunk);
    }
    assert_eq!(arrivals.len(), 5, "{}", String::from_utf8_lossy(&text));
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(80), "events {gap:?} apart");
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failing_stream_ends_with_real_trailers_and_the_function_goes_on() {
    let emulator = emulator("response_stream").await;
    let invocation = invoke(&emulator, url_event("GET", "/fail-mid-stream", "")).await;
    let streamed = invocation.streamed().expect("streamed");
    assert_eq!(
        &streamed.body()[..],
        b"partial",
        "the error is not written as body text"
    );
    let trailers = streamed.trailers.as_ref().expect("HTTP trailers");
    assert_eq!(
        trailers["lambda-runtime-function-error-type"],
        "Runtime.StreamError"
    );
    assert!(trailers.contains_key("lambda-runtime-function-error-body"));
    assert!(invocation.is_error());

    // The client of the Function URL sees an abnormal end, not a clean body.
    let client = emulator.get("/fail-mid-stream").await.unwrap();
    assert!(!client.complete(), "the response must end abnormally");

    let next = invoke(&emulator, url_event("GET", "/", "")).await;
    assert_eq!(next.http().unwrap().text(), "ok");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_bodies_end_promptly_and_binary_is_byte_exact() {
    let emulator = emulator("response_stream").await;
    for status in ["204", "304", "302"] {
        let started = Instant::now();
        let invocation = invoke(
            &emulator,
            url_event("GET", &format!("/status/{status}"), ""),
        )
        .await;
        // Far below the 30 s function timeout: an empty body must not hang.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{status} took {:?}",
            started.elapsed()
        );
        let answer = invocation.http().unwrap();
        assert_eq!(answer.status.to_string(), status);
        assert!(answer.body.is_empty());
    }
    let head = invoke(&emulator, url_event("HEAD", "/", "")).await;
    assert!(head.http().unwrap().body.is_empty());

    let binary = invoke(&emulator, url_event("GET", "/bytes", "size=100000")).await;
    assert!(binary.streamed().is_some());
    let body = binary.body();
    assert_eq!(body.len(), 100_000);
    assert!(
        body.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8),
        "raw bytes, no base64"
    );
    emulator.shutdown().await.unwrap();
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the function runs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn twenty_megabytes_stream_with_flat_memory() {
    let emulator = emulator("response_stream").await;
    // Warm up so the baseline includes the runtime's steady state.
    emulator.get("/bytes?size=1000000").await.unwrap();
    let pid = emulator.function_pid().expect("a function process");
    let before = peak_rss_kib(pid);
    let request = http::Request::get("/bytes?size=20000000")
        .body(Bytes::new())
        .unwrap();
    let mut response = emulator.request(request).await.unwrap();
    let mut total = 0usize;
    while let Some((_, chunk)) = tokio::time::timeout(LIMIT, response.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        total += chunk.len();
    }
    assert_eq!(total, 20_000_000);
    let growth = peak_rss_kib(pid).saturating_sub(before);
    assert!(
        growth < 8 * 1024,
        "peak RSS grew by {growth} KiB streaming 20 MB"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sqs_partial_batch_failures_even_under_the_stream_handler() {
    for mode in ["buffered", "response_stream"] {
        let emulator = emulator(mode).await;
        let ids: Vec<String> = (1..=10).map(|i| format!("m{i}")).collect();
        let records: Vec<(&str, Option<&str>, &str)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    id.as_str(),
                    None,
                    if i + 1 == 3 || i + 1 == 7 {
                        "please fail"
                    } else {
                        "fine"
                    },
                )
            })
            .collect();
        let invocation = invoke(
            &emulator,
            sqs_event("arn:aws:sqs:us-east-1:1:jobs", &records),
        )
        .await;
        assert!(
            matches!(invocation.outcome, Outcome::Buffered(_)),
            "{mode}: SQS is answered buffered"
        );
        let mut failed = failure_ids(&invocation);
        failed.sort();
        assert_eq!(failed, ["m3", "m7"], "{mode}");

        let all_good = invoke(
            &emulator,
            sqs_event("arn:aws:sqs:us-east-1:1:jobs", &[("a", None, "ok")]),
        )
        .await;
        assert!(failure_ids(&all_good).is_empty());
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn fifo_groups_stop_at_their_first_failure() {
    let emulator = emulator("buffered").await;
    let records = [
        ("g1-a", Some("g1"), "ok"),
        ("g2-a", Some("g2"), "ok"),
        ("g1-b", Some("g1"), "fail"),
        ("g2-b", Some("g2"), "ok"),
        ("g1-c", Some("g1"), "ok"),
    ];
    let invocation = invoke(
        &emulator,
        sqs_event("arn:aws:sqs:us-east-1:1:jobs.fifo", &records),
    )
    .await;
    let mut failed = failure_ids(&invocation);
    failed.sort();
    assert_eq!(failed, ["g1-b", "g1-c"]);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn kinesis_reports_the_first_failed_sequence_number() {
    use base64::Engine as _;
    let emulator = emulator("buffered").await;
    let record = |seq: &str, data: &str| {
        json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq,
            "data": base64::engine::general_purpose::STANDARD.encode(data), "approximateArrivalTimestamp": 1.0},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": format!("shard:{seq}"),
            "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:1:stream/s"})
    };
    let event =
        json!({"Records": [record("100", "ok"), record("101", "fail"), record("102", "ok")]});
    let invocation = invoke(&emulator, serde_json::to_vec(&event).unwrap()).await;
    assert_eq!(failure_ids(&invocation), ["101"]);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sns_failure_fails_the_invocation() {
    let emulator = emulator("buffered").await;
    let event = |message: &str| {
        serde_json::to_vec(&json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:sub",
            "Sns": {"Type": "Notification", "MessageId": "id-1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                "Subject": null, "Message": message, "Timestamp": "2026-11-23T12:00:00.000Z",
                "SignatureVersion": "1", "Signature": "s", "SigningCertUrl": "u", "UnsubscribeUrl": "u",
                "MessageAttributes": {}}}]}))
        .unwrap()
    };
    let failed = invoke(&emulator, event("this will fail")).await;
    assert!(
        failed.is_error(),
        "a 500 from the app fails the invocation so Lambda retries"
    );
    let ok = invoke(&emulator, event("hello")).await;
    assert!(!ok.is_error(), "{:?}", ok.error());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn websocket_connect_message_disconnect() {
    let emulator = emulator("buffered").await;
    for (event_type, route, body) in [
        ("CONNECT", "$connect", None),
        ("MESSAGE", "sendmessage", Some("hi")),
        ("DISCONNECT", "$disconnect", None),
    ] {
        let event = json!({"requestContext": {"routeKey": route, "eventType": event_type, "connectionId": "c-1",
            "messageId": "m", "extendedRequestId": "e", "requestTime": "t", "messageDirection": "IN",
            "stage": "prod", "connectedAt": 1, "requestTimeEpoch": 1, "requestId": "r",
            "domainName": "ws.example.com", "apiId": "api"},
            "body": body, "isBase64Encoded": false});
        let invocation = invoke(&emulator, serde_json::to_vec(&event).unwrap()).await;
        assert!(
            !invocation.is_error(),
            "{event_type}: {:?}",
            invocation.error()
        );
        let answer: Value = invocation.json().unwrap();
        assert_eq!(answer["statusCode"], 200, "{event_type}: {answer}");
    }
    emulator.shutdown().await.unwrap();
}
