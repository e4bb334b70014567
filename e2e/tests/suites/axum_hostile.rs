//! Hostile events end to end: `reference-axum` as a real process under the emulator, fed raw
//! events. Each one gets a clear error (`errorType`, `errorMessage`) or a safe request, and
//! the same process serves the next invocation (no restart).

use std::process::Command;

use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{echoed, failed_with, invoke, ready, shutdown};
use serverless_adapter_e2e::{binary, events};
use serverless_adapter_emulator::{Emulator, EmulatorError};

async fn emulator(request_limit: Option<usize>) -> Emulator {
    let mut command = Command::new(binary("reference-axum"));
    command.env("RUST_LOG", "error");
    let mut builder = Emulator::builder().command(command);
    if let Some(limit) = request_limit {
        builder = builder.request_limit(limit);
    }
    ready(builder).await
}

/// A Function URL event for `method path` with these headers and body.
fn url_event(method: &str, path: &str, headers: Value, body: &str) -> Vec<u8> {
    events::url(method, path)
        .headers(headers)
        .body(body)
        .to_vec()
}

/// The process still serves: `GET /` answers `ok`, without a restart.
async fn still_serving(emulator: &Emulator) {
    let ok = invoke(emulator, url_event("GET", "/", json!({}), "")).await;
    assert_eq!(ok.http().expect("an HTTP answer").text(), "ok");
    assert_eq!(emulator.init_count(), 1, "the process was never restarted");
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
    shutdown(emulator).await;
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
    let echo = echoed(&invoke(&emulator, event).await);
    assert_eq!(echo.path, "/echo/first");
    assert_eq!(echo.body, smuggled.as_bytes());
    assert_eq!(
        echo.header_all("content-length"),
        [smuggled.len().to_string().as_str()]
    );
    assert!(echo.header_all("transfer-encoding").is_empty());
    let next = echoed(&invoke(&emulator, url_event("GET", "/echo/next", json!({}), "")).await);
    assert_eq!(next.path, "/echo/next", "the next request is the next one");

    // Dot segments and absolute URLs stay paths.
    for raw in ["/echo/../../etc/passwd", "/echo/http://evil/x"] {
        let echo = echoed(
            &invoke(
                &emulator,
                url_event("GET", raw, json!({"host": events::DOMAIN}), ""),
            )
            .await,
        );
        assert_eq!(echo.path, raw);
        assert_eq!(echo.header_all("host"), [events::DOMAIN]);
    }
    for raw in ["http://evil/echo/x", "//evil/echo/x"] {
        let invocation = invoke(&emulator, url_event("GET", raw, json!({}), "")).await;
        let answer = invocation.http().expect("an HTTP answer");
        assert_eq!(answer.status, 404, "{raw} is a path the app does not have");
    }

    // Client-sent context headers are overwritten with the event's real request context.
    let spoof = json!({"x-amzn-request-context": "{\"spoofed\":1}"});
    let echo = echoed(&invoke(&emulator, url_event("GET", "/echo/c", spoof, "")).await);
    let context = echo.header_all("x-amzn-request-context");
    assert_eq!(context.len(), 1, "{context:?}");
    let context: Value = serde_json::from_str(context[0]).unwrap();
    assert_eq!(context["domainName"], "abc.lambda-url.us-east-1.on.aws");
    assert!(context.get("spoofed").is_none());
    still_serving(&emulator).await;
    shutdown(emulator).await;
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
    shutdown(emulator).await;

    // Handed to the function anyway (a raised limit), it is served like any other.
    let emulator = emulator_with_limit(8 * 1024 * 1024).await;
    let invocation = invoke(&emulator, event).await;
    let answer = invocation.http().expect("an HTTP answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), r#"{"ok":true}"#);
    // And an answer over Lambda's 6 MB is a clear error, never a truncated answer.
    let big = invoke(&emulator, events::get("/bytes", "size=6500000")).await;
    failed_with(&big, "Function.ResponseSizeTooLarge");
    still_serving(&emulator).await;
    shutdown(emulator).await;
}

async fn emulator_with_limit(limit: usize) -> Emulator {
    emulator(Some(limit)).await
}
