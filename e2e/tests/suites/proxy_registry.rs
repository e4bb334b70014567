//! `lambda-adapter`'s adapter list by name (`SERVERLESS_ADAPTER_ADAPTERS`), under the emulator
//! with `reference-server` supervised: the chosen adapters in order, and an unknown name failing
//! the init with the names the binary has linked (which guards the linker caveat).

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use serverless_adapter_emulator::Emulator;
use support::{free_port, reference_server_bin};

const LIMIT: Duration = Duration::from_secs(60);

/// Every adapter `lambda-adapter` links, by name.
const ADAPTERS: [&str; 14] = [
    "alb",
    "api-gateway-v1",
    "api-gateway-v2",
    "api-gateway-websocket",
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
];

async fn emulator(adapters: &str) -> Emulator {
    let port = free_port();
    let server = reference_server_bin();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-adapter"));
    command
        .args(["--", server.to_str().unwrap()])
        .env("PORT", port.to_string())
        .env("AWS_LWA_PORT", port.to_string())
        .env("SERVERLESS_ADAPTER_ADAPTERS", adapters)
        .env("RUST_LOG", "error");
    Emulator::builder()
        .command(command)
        .quiet(true)
        .start()
        .await
        .expect("the emulator starts")
}

fn sqs_event() -> Vec<u8> {
    serde_json::to_vec(&json!({"Records": [{
        "messageId": "m-1", "receiptHandle": "rh", "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"
    }]}))
    .unwrap()
}

#[tokio::test]
async fn adapters_are_chosen_by_the_environment_in_order() {
    let emulator = emulator("alb,api-gateway-v2").await;
    emulator
        .wait_ready(LIMIT)
        .await
        .expect("the function polls");
    let root = tokio::time::timeout(LIMIT, emulator.get("/"))
        .await
        .expect("answered in time")
        .unwrap();
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");

    // Without the variable, pass-through would post this to /events; here nothing takes it.
    let invocation = tokio::time::timeout(LIMIT, emulator.invoke(sqs_event()))
        .await
        .expect("answered in time")
        .unwrap();
    let error = invocation.error().expect("no adapter accepts SQS");
    assert_eq!(error.error_type, "Adapter.NoMatch", "{error}");
    assert!(
        error
            .error_message
            .contains("tried, in order: alb, api-gateway-v2"),
        "{error}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_adapter_fails_the_init_listing_the_linked_ones() {
    let emulator = emulator("api-gateway-v2,no-such-adapter").await;
    let invocation = tokio::time::timeout(LIMIT, emulator.invoke(sqs_event()))
        .await
        .expect("answered in time")
        .unwrap();
    let error = invocation.error().expect("the init fails");
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error}");
    assert!(
        error.error_message.contains("`no-such-adapter`")
            && error.error_message.contains(&ADAPTERS.join(", ")),
        "{error}"
    );
    emulator.shutdown().await.unwrap();
}
