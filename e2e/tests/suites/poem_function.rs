//! End to end: `poem-function` as a real process under the emulator — the poem framework
//! plugin through the Function URL (buffered and streamed), the CloudWatch Logs adapter plugin
//! through the invoke endpoint, and both chosen by name from the registry.

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{self, invalid_config, invoke, ready, shutdown, start};
use serverless_adapter_e2e::{binary, bounded, Echo};
use serverless_adapter_emulator::{Emulator, EmulatorBuilder};
use serverless_adapter_plugin_poem::cloudwatch_logs::encode_event;

/// `poem-function` with `envs`, under the emulator.
fn poem_function(envs: &[(&str, &str)]) -> EmulatorBuilder {
    let mut command = Command::new(binary("poem-function"));
    command.env("RUST_LOG", "error").envs(envs.iter().copied());
    Emulator::builder().command(command)
}

async fn get(emulator: &Emulator, path: &str) -> (u16, String) {
    let response = emulated::get(emulator, path).await;
    (response.status.as_u16(), response.text())
}

fn logs(message: &str) -> Vec<u8> {
    encode_event(&json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "/aws/lambda/orders", "logStream": "2026/11/23/[$LATEST]abc",
        "subscriptionFilters": ["errors"],
        "logEvents": [{"id": "event-1", "timestamp": 1763899200000u64, "message": message}]
    }))
}

/// Guards the linker caveat for this binary: every plugin crate it relies on is linked.
#[test]
fn the_binary_lists_the_plugins_it_links() {
    let output = Command::new(binary("poem-function"))
        .arg("--list-plugins")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let names = |kind: &str| -> Vec<String> {
        stdout
            .lines()
            .filter_map(|line| line.strip_prefix(kind)?.strip_prefix(' '))
            .map(|rest| rest.split(':').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("adapter"),
        [
            "alb",
            "api-gateway-v1",
            "api-gateway-v2",
            "api-gateway-websocket",
            "cloudwatch-logs",
            "dynamodb",
            "dynamodb-batch",
            "eventbridge",
            "kinesis",
            "kinesis-batch",
            "pass-through",
            "s3",
            "sns",
            "sqs",
            "sqs-batch",
        ],
        "{stdout}"
    );
    assert_eq!(names("framework"), ["poem-reference"], "{stdout}");
}

#[tokio::test]
async fn poem_serves_the_reference_routes_through_the_function_url() {
    let emulator = ready(poem_function(&[])).await;
    assert_eq!(get(&emulator, "/").await, (200, "ok".to_owned()));

    let request = http::Request::post("/echo/a%20b?x=1&x=2")
        .header("cookie", "c1=1")
        .header("x-rep", "one")
        .header("content-type", "application/octet-stream")
        .body(Bytes::from_static(&[0, 1, 2, 254, 255]))
        .unwrap();
    let echo = bounded(async { emulator.request(request).await.unwrap().collect().await }).await;
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    // A buffered payload 2.0 answer has one value per header: Lambda joins them.
    assert_eq!(echo.header_all("x-multi"), ["one, two"]);
    let echoed = Echo::parse(&echo.body());
    assert_eq!(echoed.method, "POST");
    assert_eq!(echoed.path, "/echo/a%20b");
    assert_eq!(echoed.query, "x=1&x=2");
    assert_eq!(echoed.body, [0, 1, 2, 254, 255]);
    assert!(echoed.header_all("x-rep").contains(&"one"), "{echoed:?}");
    assert!(echoed.header_all("cookie").contains(&"c1=1"), "{echoed:?}");

    assert_eq!(get(&emulator, "/status/418").await.0, 418);
    assert_eq!(get(&emulator, "/no-such-route").await.0, 404);
    let stream = get(&emulator, "/stream?chunks=3&interval_ms=1&size=12").await;
    assert_eq!(
        stream,
        (200, "data: 0 xx\n\ndata: 1 xx\n\ndata: 2 xx\n\n".to_owned())
    );

    let panic = get(&emulator, "/panic").await;
    assert_eq!(
        panic,
        (
            500,
            r#"{"message":"Internal Server Error","errorType":"App.Panic"}"#.to_owned()
        )
    );
    assert_eq!(
        get(&emulator, "/").await.0,
        200,
        "the process keeps serving"
    );
    assert_eq!(emulator.init_count(), 1, "no restart was needed");
    shutdown(emulator).await;
}

#[tokio::test]
async fn poem_responses_stream() {
    let emulator = ready(poem_function(&[("AWS_LWA_INVOKE_MODE", "response_stream")])).await;
    // The second event comes a minute after the first: the first can only arrive alone if
    // the body streams (the wait below is a liveness bound, not a measurement).
    let request = http::Request::get("/stream?chunks=2&interval_ms=60000&size=16")
        .body(Bytes::new())
        .unwrap();
    let mut response = bounded(emulator.request(request)).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["content-type"], "text/event-stream");
    let (_, first) = tokio::time::timeout(Duration::from_secs(30), response.chunk())
        .await
        .expect("the first event arrives long before the second is made")
        .unwrap()
        .expect("a chunk");
    assert_eq!(&first[..], b"data: 0 xxxxxx\n\n");
    drop(response);
    shutdown(emulator).await;
}

#[tokio::test]
async fn cloudwatch_logs_events_reach_the_app() {
    let emulator = ready(poem_function(&[])).await;

    let answer = invoke(&emulator, logs("ERROR order 7 not found")).await;
    assert!(!answer.is_error(), "{:?}", answer.error());
    assert_eq!(answer.json::<Value>().unwrap(), json!({"ok": true}));

    // The app answers 500 when the body contains `fail`: the invocation fails (Lambda retries).
    let failed = invoke(&emulator, logs("payment failed")).await;
    let error = failed.error().expect("the invocation fails");
    assert_eq!(error.error_type, "App.ErrorStatus", "{error}");
    assert!(error.error_message.contains("500"), "{error}");

    let control = invoke(
        &emulator,
        encode_event(&json!({
            "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
            "logStream": "", "subscriptionFilters": [],
            "logEvents": [{"id": "", "timestamp": 0, "message": "CWL CONTROL MESSAGE"}]
        })),
    )
    .await;
    assert_eq!(&control.body()[..], b"null");

    let malformed = invoke(&emulator, r#"{"awslogs": {"data": "not base64!"}}"#).await;
    assert_eq!(
        malformed.error().expect("malformed").error_type,
        "Event.Malformed"
    );
    assert_eq!(
        get(&emulator, "/").await.0,
        200,
        "the process keeps serving"
    );
    assert_eq!(emulator.init_count(), 1, "no restart was needed");
    shutdown(emulator).await;
}

#[tokio::test]
async fn plugins_are_chosen_by_name() {
    let emulator = ready(poem_function(&[
        ("SERVERLESS_ADAPTER_ADAPTERS", "cloudwatch-logs"),
        ("SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH", "/events"),
    ]))
    .await;
    let answer = invoke(&emulator, logs("INFO hello")).await;
    assert_eq!(answer.json::<Value>().unwrap(), json!({"ok": true}));
    let (status, body) = get(&emulator, "/").await;
    assert_ne!(status, 200, "no HTTP adapter is selected: {body}");
    shutdown(emulator).await;

    let emulator = start(poem_function(&[(
        "SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH",
        "logs",
    )]))
    .await;
    let message = invalid_config(&emulator).await;
    assert!(
        message.contains("`cloudwatch-logs` cannot be built")
            && message.contains("SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH"),
        "{message}"
    );
    shutdown(emulator).await;

    let emulator = start(poem_function(&[("SERVERLESS_ADAPTER_FRAMEWORK", "salvo")])).await;
    let message = invalid_config(&emulator).await;
    assert!(
        message.contains("`salvo`") && message.contains("poem-reference"),
        "{message}"
    );
    shutdown(emulator).await;
}
