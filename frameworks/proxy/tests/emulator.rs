//! `lambda-adapter` + `reference-server` as real processes under the local emulator: as a
//! supervisor (buffered) and as an external extension (streaming), the way Lambda runs them.

mod support;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use serverless_adapter_emulator::Emulator;
use support::{free_port, reference_server_bin};

const LIMIT: Duration = Duration::from_secs(60);

fn adapter_command(args: &[&str], app_port: u16, mode: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-adapter"));
    command
        .args(args)
        .env("AWS_LWA_PORT", app_port.to_string())
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn supervisor_mode_buffered_under_the_emulator() {
    let app_port = free_port();
    let server = reference_server_bin();
    let mut command = adapter_command(&["--", server.to_str().unwrap()], app_port, "buffered");
    command.env("PORT", app_port.to_string());
    let emulator = Emulator::builder()
        .command(command)
        .quiet(true)
        .start()
        .await
        .unwrap();
    emulator.wait_ready(Duration::from_secs(30)).await.unwrap();

    let root = tokio::time::timeout(LIMIT, emulator.get("/"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");

    let request = http::Request::get("/echo/x?a=1&a=2")
        .header("cookie", "c=1")
        .header("x-amzn-request-context", "spoofed")
        .body(Bytes::new())
        .unwrap();
    let echo = tokio::time::timeout(LIMIT, emulator.request(request))
        .await
        .unwrap()
        .unwrap()
        .collect()
        .await;
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"],
        "every cookie kept"
    );
    let json: Value = serde_json::from_slice(&echo.body()).unwrap();
    assert_eq!(json["query"], "a=1&a=2");
    let headers: Vec<(String, String)> = serde_json::from_value(json["headers"].clone()).unwrap();
    let context: Vec<&String> = headers
        .iter()
        .filter(|(n, _)| n == "x-amzn-request-context")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(context.len(), 1);
    assert!(
        context[0].starts_with('{'),
        "the client's value was replaced: {context:?}"
    );
    assert!(headers.iter().any(|(n, _)| n == "x-amzn-lambda-context"));

    // A non-HTTP event goes to the pass-through path and keeps the app's answer.
    let sqs = br#"{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"x"}]}"#;
    let answer = tokio::time::timeout(LIMIT, emulator.invoke(&sqs[..]))
        .await
        .unwrap()
        .unwrap();
    assert!(!answer.is_error(), "{:?}", answer.error());
    assert_eq!(
        answer.json::<Value>().unwrap(),
        serde_json::json!({"ok": true})
    );
    let failing =
        br#"{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"please fail"}]}"#;
    let failed = tokio::time::timeout(LIMIT, emulator.invoke(&failing[..]))
        .await
        .unwrap()
        .unwrap();
    assert!(
        failed.is_error(),
        "a 500 from the app fails the invocation, never a silent success"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn extension_mode_streams_under_the_emulator() {
    let app_port = free_port();
    let mut app = Command::new(reference_server_bin());
    app.env("PORT", app_port.to_string());
    let extension = adapter_command(&["--extension"], app_port, "response_stream");
    let emulator = Emulator::builder()
        .extension(extension)
        .command(app)
        .quiet(true)
        .start()
        .await
        .unwrap();
    emulator.wait_ready(Duration::from_secs(30)).await.unwrap();

    let request = http::Request::get("/stream?chunks=4&interval_ms=100&size=24")
        .body(Bytes::new())
        .unwrap();
    let mut response = tokio::time::timeout(LIMIT, emulator.request(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status, 200);
    let mut arrivals = Vec::new();
    while let Some((at, chunk)) = tokio::time::timeout(LIMIT, response.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        for _ in 0..chunk.windows(2).filter(|w| w == b"\n\n").count() {
            arrivals.push(at);
        }
    }
    assert_eq!(arrivals.len(), 4);
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(80),
            "events {:?} apart",
            pair[1] - pair[0]
        );
    }
    emulator.shutdown().await.unwrap();
}
