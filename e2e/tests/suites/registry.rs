//! The plugin registry as the reference functions see it: what each binary has linked
//! (`--list-plugins`), adapters chosen by `SERVERLESS_ADAPTER_ADAPTERS` under the emulator, in
//! order, and a bad name failing the init with the known names.

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use serverless_adapter_emulator::Emulator;

const LIMIT: Duration = Duration::from_secs(60);

const BINARIES: [&str; 2] = [
    env!("CARGO_BIN_EXE_reference-axum"),
    env!("CARGO_BIN_EXE_reference-actix"),
];

/// Every adapter the facade's default features bring, by name.
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

/// The names a binary lists for `kind` (`adapter` or `framework`).
fn listed(output: &str, kind: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix(kind)?.strip_prefix(' '))
        .map(|rest| rest.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

/// Guards the linker caveat: a plugin crate the binary does not name registers nothing.
#[test]
fn each_binary_lists_the_plugins_it_links() {
    for binary in BINARIES {
        let output = Command::new(binary)
            .arg("--list-plugins")
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{binary}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(listed(&stdout, "adapter"), ADAPTERS, "{binary}:\n{stdout}");
        assert_eq!(
            listed(&stdout, "framework"),
            ["proxy"],
            "{binary}:\n{stdout}"
        );
    }
}

async fn emulator(binary: &str, adapters: &str) -> Emulator {
    let mut command = Command::new(binary);
    command
        .env("SERVERLESS_ADAPTER_ADAPTERS", adapters)
        .env("RUST_LOG", "error");
    Emulator::builder()
        .command(command)
        .quiet(true)
        .start()
        .await
        .expect("the emulator starts")
}

fn sns_event() -> Vec<u8> {
    serde_json::to_vec(&json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:s",
        "Sns": {"Type": "Notification", "MessageId": "id-1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Subject": null, "Message": "hello", "Timestamp": "2026-11-23T12:00:00.000Z",
            "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://x",
            "UnsubscribeUrl": "https://x", "MessageAttributes": {}}
    }]}))
    .unwrap()
}

#[tokio::test]
async fn adapters_are_chosen_by_the_environment_in_order() {
    for binary in BINARIES {
        let emulator = emulator(binary, "sqs, api-gateway-v2").await;
        emulator
            .wait_ready(Duration::from_secs(20))
            .await
            .expect("the function polls");

        let root = tokio::time::timeout(LIMIT, emulator.get("/"))
            .await
            .expect("answered in time")
            .unwrap();
        assert_eq!(root.status, 200, "{binary}");
        assert_eq!(root.text(), "ok", "{binary}");

        // SNS is not selected: no adapter takes it, and the error names the ones asked, in order.
        let invocation = tokio::time::timeout(LIMIT, emulator.invoke(sns_event()))
            .await
            .expect("answered in time")
            .unwrap();
        let error = invocation.error().expect("no adapter accepts SNS");
        assert_eq!(error.error_type, "Adapter.NoMatch", "{binary}: {error}");
        assert!(
            error
                .error_message
                .contains("tried, in order: sqs, api-gateway-v2"),
            "{binary}: {error}"
        );
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn an_unknown_adapter_fails_the_init_listing_the_known_ones() {
    for binary in BINARIES {
        let emulator = emulator(binary, "api-gateway-v2,cloudwatch-logs").await;
        let invocation = tokio::time::timeout(LIMIT, emulator.invoke(sns_event()))
            .await
            .expect("answered in time")
            .unwrap();
        let error = invocation.error().expect("the init fails");
        assert_eq!(
            error.error_type, "Runtime.InvalidConfig",
            "{binary}: {error}"
        );
        assert!(
            error.error_message.contains("`cloudwatch-logs`")
                && error.error_message.contains(&ADAPTERS.join(", ")),
            "{binary}: {error}"
        );
        emulator.shutdown().await.unwrap();
    }
}
