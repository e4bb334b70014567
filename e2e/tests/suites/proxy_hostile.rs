//! Hostile events end to end through the proxy: `lambda-adapter` supervising
//! `reference-server`, both real processes under the emulator. Bad events are clear errors,
//! smuggling attempts never reach the app as a second request, the proxied host never
//! changes, client-sent context headers are overwritten, and the function keeps serving.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{echoed, failed_with, invoke, ready, shutdown};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::{builds, events};
use serverless_adapter_emulator::{Emulator, EmulatorError};

/// `lambda-adapter -- reference-server`, buffered, under the emulator.
async fn emulator(request_limit: usize) -> Emulator {
    let mut command = builds::supervisor(free_port());
    command
        .env("AWS_LWA_INVOKE_MODE", "buffered")
        .env("RUST_LOG", "error");
    ready(
        Emulator::builder()
            .command(command)
            .request_limit(request_limit),
    )
    .await
}

fn url_event(method: &str, path: &str, headers: Value, body: &str) -> Vec<u8> {
    events::url(method, path)
        .headers(headers)
        .body(body)
        .to_vec()
}

async fn still_serving(emulator: &Emulator) {
    let ok = invoke(emulator, url_event("GET", "/", json!({}), "")).await;
    assert_eq!(ok.http().expect("an HTTP answer").text(), "ok");
    assert_eq!(emulator.init_count(), 1, "the function was never restarted");
}

#[tokio::test]
async fn malformed_events_are_clear_errors_and_the_proxy_goes_on() {
    let emulator = emulator(6 * 1024 * 1024).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not JSON", b"\x00\x01 not json".to_vec(), "not a JSON object"),
        ("deep nesting", "[".repeat(100_000).into_bytes(), "not a JSON object"),
        (
            "wrong shape",
            br#"{"version":"2.0","rawPath":"/","headers":["x"],"requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"GET"}}}"#.to_vec(),
            "",
        ),
        (
            "invalid base64",
            br#"{"version":"2.0","rawPath":"/","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"POST"}},"body":"!!","isBase64Encoded":true}"#.to_vec(),
            "base64",
        ),
        (
            "CR LF in a header value",
            url_event("GET", "/echo/x", json!({"x-a": "1\r\nx-injected: 1"}), ""),
            "header",
        ),
        (
            "NUL in a REST header value",
            events::rest("/echo/x", json!({}), json!({"x-a": ["ok", "a\u{0}b"]}), ""),
            "header",
        ),
        (
            "LF in a header name",
            url_event("GET", "/echo/x", json!({"x\ny": "1"}), ""),
            "header",
        ),
    ];
    for (what, event, needle) in cases {
        let message = failed_with(&invoke(&emulator, event).await, "Event.Malformed");
        assert!(message.contains(needle), "{what}: {message}");
        still_serving(&emulator).await;
    }
    shutdown(emulator).await;
}

#[tokio::test]
async fn smuggled_requests_never_reach_the_app() {
    let emulator = emulator(6 * 1024 * 1024).await;
    // If the app read the body as 5 bytes, or as chunked, the rest would be a second request
    // on the kept-alive connection, and its 418 would answer the next invocation.
    let smuggled = "hello\r\n\r\nGET /status/418 HTTP/1.1\r\nhost: x\r\n\r\n";
    let chunked = "0\r\n\r\nGET /status/418 HTTP/1.1\r\nhost: x\r\n\r\n";
    let events = [
        url_event(
            "POST",
            "/echo/a",
            json!({"content-length": "5", "transfer-encoding": "chunked"}),
            smuggled,
        ),
        url_event(
            "POST",
            "/echo/a",
            json!({"transfer-encoding": "chunked", "connection": "keep-alive, content-length"}),
            chunked,
        ),
        events::rest(
            "/echo/a",
            json!({"content-length": "0"}),
            json!({"content-length": ["0", "5"], "transfer-encoding": ["identity", "chunked"]}),
            smuggled,
        ),
    ];
    for event in events {
        let invocation = invoke(&emulator, event).await;
        let echo = echoed(&invocation);
        assert_eq!(echo.path, "/echo/a");
        let sent = std::str::from_utf8(&echo.body).unwrap();
        assert!(
            sent == smuggled || sent == chunked,
            "the whole body: {sent:?}"
        );
        assert_eq!(
            echo.header_all("content-length"),
            [echo.body.len().to_string().as_str()]
        );
        assert!(echo.header_all("transfer-encoding").is_empty());
        for round in 0..3 {
            let next = format!("/echo/next-{round}");
            let echo = echoed(&invoke(&emulator, url_event("GET", &next, json!({}), "")).await);
            assert_eq!(
                echo.path, next,
                "no answer to a smuggled request is left on the connection"
            );
        }
    }
    shutdown(emulator).await;
}

#[tokio::test]
async fn paths_never_change_the_proxied_host_and_context_headers_are_overwritten() {
    let emulator = emulator(6 * 1024 * 1024).await;
    // A host the proxy must never contact.
    let evil = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_addr = evil.local_addr().unwrap();
    let contacted = Arc::new(AtomicUsize::new(0));
    let count = contacted.clone();
    let watcher = tokio::spawn(async move {
        while evil.accept().await.is_ok() {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    for raw in [
        format!("http://{evil_addr}/echo/x"),
        format!("//{evil_addr}/echo/x"),
        "/echo/../../../etc/passwd".to_owned(),
        "/echo/%2e%2e/x".to_owned(),
    ] {
        let event = url_event("GET", &raw, json!({"host": evil_addr.to_string()}), "");
        let invocation = invoke(&emulator, event).await;
        let answer = invocation.http().expect("an HTTP answer from the app");
        if raw.starts_with("/echo/") {
            let echo = echoed(&invocation);
            assert_eq!(
                echo.path, raw,
                "the app got the path as sent, on its own host"
            );
        } else {
            assert_eq!(answer.status, 404, "{raw}: a path the app does not have");
        }
    }
    assert_eq!(
        contacted.load(Ordering::SeqCst),
        0,
        "never proxied elsewhere"
    );
    watcher.abort();

    // Client-sent x-amzn-* context headers are replaced by the real ones.
    let spoof = json!({
        "x-amzn-request-context": "{\"spoofed\":true}",
        "x-amzn-lambda-context": "{\"spoofed\":true}",
    });
    for event in [
        url_event("GET", "/echo/ctx", spoof.clone(), ""),
        events::rest(
            "/echo/ctx",
            spoof.clone(),
            json!({"x-amzn-lambda-context": ["{\"spoofed\":true}", "again"]}),
            "",
        ),
    ] {
        let invocation = invoke(&emulator, event).await;
        let echo = echoed(&invocation);
        for name in ["x-amzn-request-context", "x-amzn-lambda-context"] {
            let found = echo.header_all(name);
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert!(!found[0].contains("spoofed"), "{name}: {}", found[0]);
        }
        let lambda: Value =
            serde_json::from_str(echo.header_all("x-amzn-lambda-context")[0]).unwrap();
        assert_eq!(lambda["request_id"], invocation.request_id.as_str());
    }
    still_serving(&emulator).await;
    shutdown(emulator).await;
}

#[tokio::test]
async fn big_events_and_oversized_answers_are_clear() {
    let body = "a".repeat(7 * 1024 * 1024);
    let event = url_event("POST", "/events", json!({}), &body);
    let limited = emulator(6 * 1024 * 1024).await;
    assert!(
        matches!(
            limited.invoke(event.clone()).await,
            Err(EmulatorError::PayloadTooLarge { .. })
        ),
        "Lambda refuses an event over 6 MB"
    );
    still_serving(&limited).await;
    shutdown(limited).await;

    let emulator = emulator(8 * 1024 * 1024).await;
    let answer = invoke(&emulator, event).await;
    let answer = answer.http().expect("an HTTP answer");
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (200, r#"{"ok":true}"#)
    );
    let big = invoke(&emulator, events::get("/bytes", "size=6500000")).await;
    failed_with(&big, "Function.ResponseSizeTooLarge");
    still_serving(&emulator).await;
    shutdown(emulator).await;
}
