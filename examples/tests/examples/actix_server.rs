//! `reference-actix-server`: the actix reference app behind actix-web's own `HttpServer`,
//! called over real HTTP on a free port.

use std::process::{Command, Stdio};
use std::time::Duration;

use serverless_adapter_e2e::http_client::get;
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::process::{wait_for_port, ChildGuard};
use serverless_adapter_examples::app::stream_event;

/// Starts `reference-actix-server` on a free port: the guard and the port.
fn server() -> (ChildGuard, u16) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_reference-actix-server"));
    command
        .env("PORT", port.to_string())
        .env("WORKERS", "1")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let guard = ChildGuard::spawn(command);
    wait_for_port(port, Duration::from_secs(20));
    (guard, port)
}

#[tokio::test]
async fn serves_the_actix_app_over_http() {
    let (_server, port) = server();
    let base = format!("http://127.0.0.1:{port}");

    let root = get(&format!("{base}/")).await;
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");

    let echo = get(&format!("{base}/echo/x?a=1")).await;
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    assert_eq!(echo.header_all("x-multi"), ["one", "two"]);
    let json = echo.json();
    assert_eq!(json["method"], "GET");
    assert_eq!(json["path"], "/echo/x");
    assert_eq!(json["query"], "a=1");

    let streamed = get(&format!("{base}/stream?chunks=3&interval_ms=50&size=16")).await;
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.error, None);
    assert_eq!(streamed.headers["content-type"], "text/event-stream");
    let expected: String = (0..3).map(|i| stream_event(i, 16)).collect();
    assert_eq!(streamed.body(), expected.as_bytes());
    // Each event leaves when it is made, not buffered to the end.
    streamed.assert_events_spread(3, Duration::from_millis(30));
}
