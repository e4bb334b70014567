//! `reference-axum` as a real process under the emulator, its stderr in a file: the logging
//! set-up reads `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL` from its environment, and
//! every line written inside an invocation names its request id. (The same, in text and JSON,
//! for a function served in process: `examples/tests/examples/logging.rs`.)

use serde_json::json;
use serverless_adapter_e2e::emulated::{invoke, ready, shutdown};
use serverless_adapter_e2e::temp::TempDir;
use serverless_adapter_e2e::{binary, events};
use serverless_adapter_emulator::Emulator;

/// One JSON log line: its message and the request id of its invocation span (if any).
#[derive(Debug)]
struct Line {
    message: String,
    span_request_id: Option<String>,
}

fn parse_json(line: &str) -> Line {
    let value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
    let span_request_id = value["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|span| span["name"] == "invocation")
        .and_then(|span| span["request_id"].as_str())
        .map(str::to_owned);
    Line {
        message: value["message"].as_str().unwrap_or_default().to_owned(),
        span_request_id,
    }
}

/// Runs `reference-axum` with `env`, serves an HTTP event and an SQS batch with one failing
/// record; returns the lines it wrote and the two request ids.
async fn reference_axum_logs(env: &[(&str, &str)]) -> (Vec<String>, [String; 2]) {
    let dir = TempDir::new("logs");
    let log = dir.join("stderr.log");
    let mut command = std::process::Command::new("sh");
    command
        .args(["-c", "exec \"$0\" 2>\"$1\""])
        .arg(binary("reference-axum"))
        .arg(&log)
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_FORMAT")
        .env_remove("AWS_LAMBDA_LOG_LEVEL");
    for (name, value) in env {
        command.env(name, value);
    }
    let emulator = ready(Emulator::builder().command(command)).await;
    let http = invoke(&emulator, events::get("/", "")).await;
    assert_eq!(http.http().unwrap().text(), "ok");
    let batch = invoke(
        &emulator,
        events::sqs(&[("m1", "one"), ("m2", "fail"), ("m3", "three")]),
    )
    .await;
    assert_eq!(
        batch.json::<serde_json::Value>().unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    );
    shutdown(emulator).await;
    let text = std::fs::read_to_string(&log).unwrap();
    (
        text.lines().map(str::to_owned).collect(),
        [http.request_id, batch.request_id],
    )
}

#[tokio::test]
async fn a_real_function_writes_json_at_the_lambda_level() {
    let (lines, [http, batch]) = reference_axum_logs(&[
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
    ])
    .await;
    let parsed: Vec<Line> = lines.iter().map(|line| parse_json(line)).collect();
    let in_span = |id: &str, message: &str| {
        parsed.iter().any(|line| {
            line.span_request_id.as_deref() == Some(id) && line.message.contains(message)
        })
    };
    // DEBUG: the adapter chosen for each invocation, inside its span.
    assert!(in_span(&http, "adapter selected"), "{lines:#?}");
    assert!(in_span(&batch, "adapter selected"), "{lines:#?}");
    // WARN: the failed record, inside the batch's span.
    assert!(in_span(&batch, "batch item failed"), "{lines:#?}");
    for line in &parsed {
        if let Some(id) = &line.span_request_id {
            assert!(id == &http || id == &batch, "{line:?}");
        }
    }
}

#[tokio::test]
async fn a_real_function_writes_text_and_honours_a_higher_level() {
    let (lines, [_, batch]) = reference_axum_logs(&[("AWS_LAMBDA_LOG_LEVEL", "WARN")]).await;
    assert!(!lines.is_empty(), "the failed record is logged");
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_err(),
            "text, not JSON: {line}"
        );
        assert!(
            !line.contains(" INFO ") && !line.contains(" DEBUG "),
            "nothing below WARN: {line}"
        );
        // `invocation{request_id=<id>}`, or with more fields after it (the invocation id).
        assert!(
            line.contains(&format!("invocation{{request_id={batch}}}"))
                || line.contains(&format!("invocation{{request_id={batch} ")),
            "the request id: {line}"
        );
    }
}
