//! Hostile events end to end: `reference-axum` as a real process under the emulator, fed raw
//! events. Each one gets a clear error (`errorType`, `errorMessage`) or a safe request, and
//! the same process serves the next invocation (no restart).

mod support;

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_emulator::{Emulator, EmulatorError, Invocation};

const LIMIT: Duration = Duration::from_secs(60);

async fn emulator(request_limit: Option<usize>) -> Emulator {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reference-axum"));
    command.env("RUST_LOG", "error");
    let mut builder = Emulator::builder().command(command).quiet(true);
    if let Some(limit) = request_limit {
        builder = builder.request_limit(limit);
    }
    let emulator = builder.start().await.expect("the emulator starts");
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

/// A Function URL event for `method path` with these headers and body.
fn url_event(method: &str, path: &str, headers: Value, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "domainName": "abc.lambda-url.us-east-1.on.aws", "requestId": "r",
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}
        },
        "body": body, "isBase64Encoded": false
    }))
    .unwrap()
}

/// The invocation failed with `error_type`; returns the message.
fn failed_with(invocation: &Invocation, error_type: &str) -> String {
    let error = invocation
        .error()
        .unwrap_or_else(|| panic!("expected {error_type}, got {:?}", invocation.outcome));
    assert_eq!(error.error_type, error_type, "{}", error.error_message);
    assert!(!error.error_message.is_empty());
    error.error_message.clone()
}

/// The process still serves: `GET /` answers `ok`, without a restart.
async fn still_serving(emulator: &Emulator) {
    let ok = invoke(emulator, url_event("GET", "/", json!({}), "")).await;
    assert_eq!(ok.http().expect("an HTTP answer").text(), "ok");
    assert_eq!(emulator.init_count(), 1, "the process was never restarted");
}

/// The echo of the app: (path, headers, body).
fn echoed(invocation: &Invocation) -> (String, Vec<(String, String)>, Vec<u8>) {
    let answer = invocation
        .http()
        .unwrap_or_else(|e| panic!("{e}: {:?}", invocation.outcome));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: Value = serde_json::from_slice(&answer.body).unwrap();
    let headers = serde_json::from_value(json["headers"].clone()).unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(json["body_base64"].as_str().unwrap())
        .unwrap();
    (json["path"].as_str().unwrap().to_owned(), headers, body)
}

fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[tokio::test]
async fn malformed_events_are_clear_errors_and_the_function_goes_on() {
    let emulator = emulator(None).await;
    let nested = "[".repeat(100_000);
    let mut nested_body = String::from(
        r#"{"version":"2.0","rawPath":"/","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"GET"}},"body":"#,
    );
    nested_body.push_str(&"[".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not JSON", b"not json at all".to_vec(), "not a JSON object"),
        ("an array", b"[1,2,3]".to_vec(), "not a JSON object"),
        ("deep nesting", nested.into_bytes(), "not a JSON object"),
        ("deep nesting in a field", nested_body.into_bytes(), ""),
        (
            "wrong shape",
            br#"{"version":"2.0","rawPath":5,"requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"GET"}}}"#.to_vec(),
            "",
        ),
        (
            "huge number in a typed field",
            br#"{"Records":[{"eventSource":"aws:sqs","messageId":1e400,"body":"x"}]}"#.to_vec(),
            "",
        ),
        (
            "invalid base64",
            br#"{"version":"2.0","rawPath":"/","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"POST"}},"body":"%%%","isBase64Encoded":true}"#.to_vec(),
            "base64",
        ),
        (
            "CR LF in a header value",
            url_event("GET", "/echo/x", json!({"x-a": "1\r\nx-injected: 1"}), ""),
            "header",
        ),
        (
            "NUL in a header value",
            url_event("GET", "/echo/x", json!({"x-a": "1\u{0}2"}), ""),
            "header",
        ),
        (
            "CR LF in a header name",
            url_event("GET", "/echo/x", json!({"x-a\r\nx-b": "1"}), ""),
            "header",
        ),
    ];
    for (what, event, needle) in cases {
        let invocation = invoke(&emulator, event).await;
        let message = failed_with(&invocation, "Event.Malformed");
        assert!(message.contains(needle), "{what}: {message}");
        still_serving(&emulator).await;
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn smuggling_headers_host_changes_and_spoofed_context_are_neutralized() {
    let emulator = emulator(None).await;

    // A body that holds a second request, with a content-length that would cut it there and
    // a transfer-encoding that contradicts it: the app gets one request with the whole body.
    let smuggled = "hello\r\n\r\nGET /status/418 HTTP/1.1\r\nhost: x\r\n\r\n";
    let event = url_event(
        "POST",
        "/echo/first",
        json!({"content-length": "5", "transfer-encoding": "chunked"}),
        smuggled,
    );
    let (path, headers, body) = echoed(&invoke(&emulator, event).await);
    assert_eq!(path, "/echo/first");
    assert_eq!(body, smuggled.as_bytes());
    assert_eq!(
        values(&headers, "content-length"),
        [smuggled.len().to_string().as_str()]
    );
    assert!(values(&headers, "transfer-encoding").is_empty());
    let (path, ..) =
        echoed(&invoke(&emulator, url_event("GET", "/echo/next", json!({}), "")).await);
    assert_eq!(path, "/echo/next", "the next request is the next one");

    // Dot segments and absolute URLs stay paths.
    for raw in ["/echo/../../etc/passwd", "/echo/http://evil/x"] {
        let (path, headers, _) = echoed(
            &invoke(
                &emulator,
                url_event(
                    "GET",
                    raw,
                    json!({"host": "abc.lambda-url.us-east-1.on.aws"}),
                    "",
                ),
            )
            .await,
        );
        assert_eq!(path, raw);
        assert_eq!(
            values(&headers, "host"),
            ["abc.lambda-url.us-east-1.on.aws"]
        );
    }
    for raw in ["http://evil/echo/x", "//evil/echo/x"] {
        let invocation = invoke(&emulator, url_event("GET", raw, json!({}), "")).await;
        let answer = invocation.http().expect("an HTTP answer");
        assert_eq!(answer.status, 404, "{raw} is a path the app does not have");
    }

    // Client-sent context headers are overwritten with the event's real request context.
    let spoof = json!({"x-amzn-request-context": "{\"spoofed\":1}"});
    let (_, headers, _) = echoed(&invoke(&emulator, url_event("GET", "/echo/c", spoof, "")).await);
    let context = values(&headers, "x-amzn-request-context");
    assert_eq!(context.len(), 1, "{context:?}");
    let context: Value = serde_json::from_str(context[0]).unwrap();
    assert_eq!(context["domainName"], "abc.lambda-url.us-east-1.on.aws");
    assert!(context.get("spoofed").is_none());
    still_serving(&emulator).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_seven_megabyte_event_is_refused_by_lambda_and_handled_when_delivered() {
    let body = "a".repeat(7 * 1024 * 1024);
    let event = url_event("POST", "/events", json!({}), &body);
    let emulator = emulator(None).await;
    match emulator.invoke(event.clone()).await {
        Err(EmulatorError::PayloadTooLarge { size, limit }) => {
            assert_eq!(size, event.len());
            assert_eq!(limit, 6 * 1024 * 1024);
        }
        other => panic!("Lambda refuses events over 6 MB: {other:?}"),
    }
    still_serving(&emulator).await;
    emulator.shutdown().await.unwrap();

    // Handed to the function anyway (a raised limit), it is served like any other.
    let emulator = emulator_with_limit(8 * 1024 * 1024).await;
    let invocation = invoke(&emulator, event).await;
    let answer = invocation.http().expect("an HTTP answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), r#"{"ok":true}"#);
    // And an answer over Lambda's 6 MB is a clear error, never a truncated answer.
    let big = invoke(
        &emulator,
        serde_json::to_vec(&json!({
            "version": "2.0", "rawPath": "/bytes", "rawQueryString": "size=6500000",
            "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}
        }))
        .unwrap(),
    )
    .await;
    failed_with(&big, "Function.ResponseSizeTooLarge");
    still_serving(&emulator).await;
    emulator.shutdown().await.unwrap();
}

async fn emulator_with_limit(limit: usize) -> Emulator {
    emulator(Some(limit)).await
}
