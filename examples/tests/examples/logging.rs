//! Every log line written while an invocation is served names its request id — in the
//! handler, in a streamed body polled by the Runtime API connection's task, in each record of
//! an SQS batch, and in the core's own warnings — in text and in JSON. The function runs in
//! this process against the emulator's Runtime API, with the shared logging set-up writing
//! into a buffer (a subscriber of this thread only: the tests run on current-thread runtimes,
//! beside the other modules of this test binary). `reference-axum` as a real process, logging
//! to its stderr: `e2e/tests/suites/logging.rs`.

use std::sync::{Arc, Mutex};

use axum::extract::Extension;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::json;
use serverless_adapter::adapters::{ApiGatewayV2Adapter, SqsAdapter};
use serverless_adapter::handlers::AwsStreamHandler;
use serverless_adapter::logging::{EnvFilter, LogSettings};
use serverless_adapter::runtime::Endpoint;
use serverless_adapter::{FunctionConfig, LambdaContext, ServerlessAdapter};
use serverless_adapter_e2e::emulated::{invoke, shutdown, start};
use serverless_adapter_e2e::events;
use serverless_adapter_emulator::Emulator;

const CHUNKS: usize = 3;

/// Lines written by the function outside any invocation.
const OUTSIDE_INVOCATIONS: [&str; 2] = ["serving invocations", "Runtime API connection ended"];

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// An app that logs, with the request id it was given as the field `ctx`, in its handlers and
/// while producing each frame of a streamed body.
fn logging_app() -> Router {
    Router::new()
        .route(
            "/",
            get(|Extension(context): Extension<LambdaContext>| async move {
                tracing::info!(ctx = %context.request_id, "handler");
                "ok"
            }),
        )
        .route(
            "/stream",
            get(|Extension(context): Extension<LambdaContext>| async move {
                let id = context.request_id.clone();
                let frames = futures_util::stream::unfold(0usize, move |i| {
                    let id = id.clone();
                    async move {
                        if i == CHUNKS {
                            return None;
                        }
                        // Give the runtime a turn, so frames are produced as the connection
                        // task polls the body, after the prelude is sent.
                        tokio::task::yield_now().await;
                        tracing::info!(ctx = %id, chunk = i, "frame");
                        let chunk = Bytes::from(format!("chunk {i}\n"));
                        Some((Ok::<_, std::convert::Infallible>(chunk), i + 1))
                    }
                });
                axum::body::Body::from_stream(frames)
            }),
        )
        .route(
            "/sqs",
            post(
                |Extension(context): Extension<LambdaContext>, body: String| async move {
                    tracing::info!(ctx = %context.request_id, bytes = body.len(), "record");
                    if body.contains("fail") {
                        http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        http::StatusCode::OK
                    }
                },
            ),
        )
}

/// One log line: its message, the request id of its invocation span (if any) and its `ctx`
/// field (if any).
#[derive(Debug)]
struct Line {
    message: String,
    span_request_id: Option<String>,
    ctx: Option<String>,
}

fn text_field(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    let rest = &line[start..];
    let end = rest.find([' ', '}', ',']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_owned())
}

fn parse_text(line: &str) -> Line {
    Line {
        message: line.to_owned(),
        span_request_id: line
            .find("invocation{")
            .and_then(|at| text_field(&line[at..], "request_id")),
        ctx: text_field(line, " ctx").or_else(|| text_field(line, "ctx")),
    }
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
        ctx: value["ctx"].as_str().map(str::to_owned),
    }
}

/// Serves four invocations (buffered-eligible HTTP, streamed HTTP, an SQS batch with a
/// failing record, an event no adapter takes) with logs captured in `json` or text, and
/// checks every line.
async fn every_line_names_its_invocation(json: bool) {
    let capture = Capture::default();
    let writer = capture.clone();
    let settings = LogSettings {
        json,
        // Everything the function and the app write, down to debug; the emulator in this same
        // process is not the function, so its own lines are left out.
        filter: EnvFilter::new("debug,serverless_adapter_emulator=off,hyper=off,h2=off"),
    };
    let _guard = tracing::subscriber::set_default(settings.subscriber(move || writer.clone()));

    let emulator = start(Emulator::builder()).await;
    let function = ServerlessAdapter::new(logging_app())
        .handler(AwsStreamHandler)
        .adapter(ApiGatewayV2Adapter)
        .adapter(SqsAdapter)
        .build();
    let endpoint = Endpoint::parse(&emulator.runtime_api()).unwrap();
    let serving = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));

    let plain = invoke(&emulator, events::get("/", "")).await;
    assert_eq!(plain.http().unwrap().text(), "ok");
    let streamed = invoke(&emulator, events::get("/stream", "")).await;
    assert!(streamed.streamed().is_some(), "answered as a stream");
    assert_eq!(
        streamed.http().unwrap().text(),
        "chunk 0\nchunk 1\nchunk 2\n"
    );
    let batch = invoke(
        &emulator,
        events::sqs(&[("m1", "one"), ("m2", "fail"), ("m3", "three")]),
    )
    .await;
    let failures: serde_json::Value = batch.json().unwrap();
    assert_eq!(
        failures,
        json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    );
    let unmatched = invoke(&emulator, &br#"{"neither":"http nor sqs"}"#[..]).await;
    assert_eq!(unmatched.error().unwrap().error_type, "Adapter.NoMatch");

    let raw = capture.lines();
    serving.abort();
    shutdown(emulator).await;

    let ids = [
        &plain.request_id,
        &streamed.request_id,
        &batch.request_id,
        &unmatched.request_id,
    ];
    let lines: Vec<Line> = raw
        .iter()
        .map(|line| {
            if json {
                parse_json(line)
            } else {
                parse_text(line)
            }
        })
        .collect();
    for line in &lines {
        match &line.span_request_id {
            Some(id) => assert!(ids.contains(&id), "unknown request id in {line:?}"),
            None => assert!(
                OUTSIDE_INVOCATIONS
                    .iter()
                    .any(|allowed| line.message.contains(allowed)),
                "a line without the request id: {line:?}\nall lines:\n{}",
                raw.join("\n")
            ),
        }
        if let Some(ctx) = &line.ctx {
            assert_eq!(
                line.span_request_id.as_ref(),
                Some(ctx),
                "the app's line is in its own invocation's span: {line:?}"
            );
        }
    }
    let count = |id: &str| {
        lines
            .iter()
            .filter(|line| line.ctx.as_deref() == Some(id))
            .count()
    };
    assert_eq!(count(&plain.request_id), 1, "the handler logged once");
    assert_eq!(
        count(&streamed.request_id),
        CHUNKS,
        "each streamed frame logged inside the span:\n{}",
        raw.join("\n")
    );
    assert_eq!(count(&batch.request_id), 3, "each SQS record logged");
    assert!(
        lines.iter().any(
            |line| line.span_request_id.as_ref() == Some(&unmatched.request_id)
                && line.message.contains("cannot be served")
        ),
        "the no-adapter warning names its request id:\n{}",
        raw.join("\n")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn text_lines_name_the_request_id() {
    every_line_names_its_invocation(false).await;
}

#[tokio::test(flavor = "current_thread")]
async fn json_lines_name_the_request_id() {
    every_line_names_its_invocation(true).await;
}
