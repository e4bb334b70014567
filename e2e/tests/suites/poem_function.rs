//! End to end: `poem-function` as a real process under the emulator — the poem framework
//! plugin through the Function URL (buffered and streamed), the CloudWatch Logs adapter plugin
//! through the invoke endpoint, and both chosen by name from the registry.

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_emulator::{Emulator, Invocation};
use serverless_adapter_plugin_poem::cloudwatch_logs::encode_event;

const LIMIT: Duration = Duration::from_secs(60);
const BINARY: &str = env!("CARGO_BIN_EXE_poem-function");

async fn start(envs: &[(&str, &str)]) -> Emulator {
    let mut command = Command::new(BINARY);
    command.env("RUST_LOG", "error").envs(envs.iter().copied());
    Emulator::builder()
        .command(command)
        .quiet(true)
        .start()
        .await
        .expect("the emulator starts")
}

async fn ready(envs: &[(&str, &str)]) -> Emulator {
    let emulator = start(envs).await;
    emulator
        .wait_ready(LIMIT)
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

async fn get(emulator: &Emulator, path: &str) -> (u16, String) {
    let response = tokio::time::timeout(LIMIT, emulator.get(path))
        .await
        .expect("answered in time")
        .unwrap();
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
    let output = Command::new(BINARY).arg("--list-plugins").output().unwrap();
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
    let emulator = ready(&[]).await;
    assert_eq!(get(&emulator, "/").await, (200, "ok".to_owned()));

    let request = http::Request::post("/echo/a%20b?x=1&x=2")
        .header("cookie", "c1=1")
        .header("x-rep", "one")
        .header("content-type", "application/octet-stream")
        .body(Bytes::from_static(&[0, 1, 2, 254, 255]))
        .unwrap();
    let echo = tokio::time::timeout(LIMIT, async {
        emulator.request(request).await.unwrap().collect().await
    })
    .await
    .expect("answered in time");
    assert_eq!(echo.status, 200);
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    // A buffered payload 2.0 answer has one value per header: Lambda joins them.
    assert_eq!(echo.header_all("x-multi"), ["one, two"]);
    let echoed: Value = serde_json::from_slice(&echo.body()).unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/echo/a%20b");
    assert_eq!(echoed["query"], "x=1&x=2");
    assert_eq!(echoed["body_base64"], "AAEC/v8=");
    let headers: Vec<(String, String)> = serde_json::from_value(echoed["headers"].clone()).unwrap();
    assert!(
        headers.contains(&("x-rep".to_owned(), "one".to_owned())),
        "{headers:?}"
    );
    assert!(
        headers.contains(&("cookie".to_owned(), "c1=1".to_owned())),
        "{headers:?}"
    );

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
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn poem_responses_stream() {
    let emulator = ready(&[("AWS_LWA_INVOKE_MODE", "response_stream")]).await;
    // The second event comes a minute after the first: the first can only arrive alone if
    // the body streams (the wait below is a liveness bound, not a measurement).
    let request = http::Request::get("/stream?chunks=2&interval_ms=60000&size=16")
        .body(Bytes::new())
        .unwrap();
    let mut response = tokio::time::timeout(LIMIT, emulator.request(request))
        .await
        .expect("answered in time")
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["content-type"], "text/event-stream");
    let (_, first) = tokio::time::timeout(Duration::from_secs(30), response.chunk())
        .await
        .expect("the first event arrives long before the second is made")
        .unwrap()
        .expect("a chunk");
    assert_eq!(&first[..], b"data: 0 xxxxxx\n\n");
    drop(response);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn cloudwatch_logs_events_reach_the_app() {
    let emulator = ready(&[]).await;

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
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn plugins_are_chosen_by_name() {
    let emulator = ready(&[
        ("SERVERLESS_ADAPTER_ADAPTERS", "cloudwatch-logs"),
        ("SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH", "/events"),
    ])
    .await;
    let answer = invoke(&emulator, logs("INFO hello")).await;
    assert_eq!(answer.json::<Value>().unwrap(), json!({"ok": true}));
    let (status, body) = get(&emulator, "/").await;
    assert_ne!(status, 200, "no HTTP adapter is selected: {body}");
    emulator.shutdown().await.unwrap();

    let emulator = start(&[("SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH", "logs")]).await;
    let error = invoke(&emulator, logs("x")).await;
    let error = error.error().expect("the init fails");
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error}");
    assert!(
        error
            .error_message
            .contains("`cloudwatch-logs` cannot be built")
            && error
                .error_message
                .contains("SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH"),
        "{error}"
    );
    emulator.shutdown().await.unwrap();

    let emulator = start(&[("SERVERLESS_ADAPTER_FRAMEWORK", "salvo")]).await;
    let error = invoke(&emulator, logs("x")).await;
    let error = error.error().expect("the init fails");
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error}");
    assert!(
        error.error_message.contains("`salvo`") && error.error_message.contains("poem-reference"),
        "{error}"
    );
    emulator.shutdown().await.unwrap();
}
