//! `reference-axum` as a real process under the emulator's real Runtime API and Function URL,
//! buffered and streamed: what the conformance table does not check — the exact bytes of a
//! streamed answer, the exact error of a failed stream and of an oversized answer, empty
//! bodies, the headers the Function URL adds, and the default WebSocket configuration.

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{get, invoke, ready, shutdown};
use serverless_adapter_e2e::{binary, bounded, events, Echo};
use serverless_adapter_emulator::Emulator;

async fn emulator(mode: &str) -> Emulator {
    let mut command = Command::new(binary("reference-axum"));
    command
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("RUST_LOG", "warn");
    ready(
        Emulator::builder()
            .command(command)
            .timeout(Duration::from_secs(30)),
    )
    .await
}

/// A Function URL event for `method path?query`, with the `host` header Lambda sets.
fn url_event(method: &str, path: &str, query: &str) -> events::UrlEvent {
    events::url(method, path)
        .query(query)
        .header("host", events::DOMAIN)
}

#[tokio::test]
async fn buffered_http_through_the_function_url() {
    let emulator = emulator("buffered").await;
    let root = get(&emulator, "/").await;
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
    let echo = bounded(async { emulator.request(request).await.unwrap().collect().await }).await;
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    let echoed = Echo::parse(&echo.body());
    assert_eq!(echoed.method, "POST");
    assert_eq!(echoed.path, "/echo/a%20b");
    assert_eq!(echoed.query, "x=1&x=2&y=");
    assert_eq!(echoed.body, [0, 1, 2, 254, 255]);
    assert_eq!(echoed.header_all("cookie"), ["c1=1; c2=2"]);
    assert_eq!(
        echoed.header_all("x-rep"),
        ["one,two"],
        "the Function URL joins repeated headers"
    );
    assert_eq!(echoed.header_all("content-length"), ["5"]);
    assert_eq!(echoed.header_all("x-forwarded-for"), ["127.0.0.1"]);

    assert_eq!(get(&emulator, "/status/404").await.status, 404);

    let panic = get(&emulator, "/panic").await;
    assert_eq!(panic.status, 500);
    assert_eq!(
        panic.text(),
        r#"{"message":"Internal Server Error","errorType":"App.Panic"}"#
    );
    assert_eq!(
        get(&emulator, "/").await.status,
        200,
        "the process keeps serving"
    );
    assert_eq!(emulator.init_count(), 1, "no restart was needed");
    shutdown(emulator).await;
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
    shutdown(emulator).await;
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
    assert_eq!(Echo::parse(body).path, "/echo/x");

    let root = invoke(&emulator, url_event("GET", "/", "")).await;
    let separator = root.raw.windows(8).position(|w| w == [0u8; 8]).unwrap();
    assert_eq!(&root.raw[separator..], b"\0\0\0\0\0\0\0\0ok");
    assert!(root
        .raw
        .starts_with(br#"{"statusCode":200,"headers":{"content-type":"text/plain"#));
    shutdown(emulator).await;
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
    let client = get(&emulator, "/fail-mid-stream").await;
    assert!(!client.complete(), "the response must end abnormally");

    let next = invoke(&emulator, url_event("GET", "/", "")).await;
    assert_eq!(next.http().unwrap().text(), "ok");
    shutdown(emulator).await;
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
    shutdown(emulator).await;
}

/// With the default configuration (no `SERVERLESS_ADAPTER_*` variable, unlike the table), the
/// WebSocket routes are served.
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
        let invocation = invoke(&emulator, events::to_vec(&event)).await;
        assert!(
            !invocation.is_error(),
            "{event_type}: {:?}",
            invocation.error()
        );
        let answer: Value = invocation.json().unwrap();
        assert_eq!(answer["statusCode"], 200, "{event_type}: {answer}");
    }
    shutdown(emulator).await;
}
