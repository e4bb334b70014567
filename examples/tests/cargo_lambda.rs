//! `reference-axum` under cargo-lambda's emulator: a Runtime API nobody here wrote.
//! Needs `cargo-lambda` on the PATH (`pip install cargo-lambda`; `.ci/run` installs it).

mod support;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use support::{assert_events_spread, get, send, stream, ChildGuard};

fn function(port: u16, mode: &str) -> ChildGuard {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reference-axum"));
    command
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("RUST_LOG", "warn");
    ChildGuard::spawn(command)
}

fn require_cargo_lambda() {
    assert!(
        Command::new("cargo-lambda")
            .args(["lambda", "--version"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "cargo-lambda is not installed: `pip install cargo-lambda` (the CI script does)"
    );
}

#[tokio::test]
async fn function_url_requests_through_cargo_lambda() {
    require_cargo_lambda();
    let (_emulator, port) = support::cargo_lambda_watch();
    let _function = function(port, "buffered");
    let base = format!("http://127.0.0.1:{port}/lambda-url/_");

    let root = get(&format!("{base}/")).await;
    assert_eq!((root.status, &root.body[..]), (200, &b"ok"[..]));

    let request = http::Request::post(format!("{base}/echo/x?a=1&a=2"))
        .header("cookie", "c=1; d=2")
        .header("content-type", "application/octet-stream")
        .body(Full::new(Bytes::from_static(&[0, 1, 2, 255])))
        .unwrap();
    let echo = send(request).await;
    assert_eq!(echo.status, 200);
    let json = echo.json();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["path"], "/echo/x");
    assert_eq!(json["query"], "a=1&a=2");
    assert_eq!(json["body_base64"], "AAEC/w==");
    let headers = json["headers"].as_array().unwrap();
    assert!(
        headers
            .iter()
            .any(|h| h[0] == "cookie" && h[1] == "c=1; d=2"),
        "{headers:?}"
    );
    assert_eq!(echo.all("set-cookie"), ["a=1; Path=/", "b=2; Path=/"]);
    assert_eq!(echo.all("x-multi").join(","), "one, two");

    let missing = get(&format!("{base}/status/404")).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn streamed_events_arrive_as_produced_through_cargo_lambda() {
    require_cargo_lambda();
    let (_emulator, port) = support::cargo_lambda_watch();
    let _function = function(port, "response_stream");
    let base = format!("http://127.0.0.1:{port}/lambda-url/_");

    let streamed = stream(
        http::Request::get(format!("{base}/stream?chunks=5&interval_ms=150&size=32"))
            .body(Full::default())
            .unwrap(),
    )
    .await;
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.headers["content-type"], "text/event-stream");
    assert!(streamed.error.is_none(), "{:?}", streamed.error);
    assert_events_spread(&streamed, 5, Duration::from_millis(100));

    // The same function still answers plain requests, streamed.
    let root = get(&format!("{base}/")).await;
    assert_eq!((root.status, &root.body[..]), (200, &b"ok"[..]));
    let binary = get(&format!("{base}/bytes?size=300000")).await;
    assert_eq!(binary.status, 200);
    assert_eq!(binary.body.len(), 300_000);
    assert!(
        binary
            .body
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8),
        "byte-exact, no base64"
    );
}
