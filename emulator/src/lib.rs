//! A local AWS Lambda stand-in, for running and testing Lambda functions on a laptop.
//!
//! The emulator behaves like Lambda as seen by a function, so that a function built with
//! this project, with the `lambda_http` crate, or the AWS Lambda Web Adapter runs under it
//! unchanged:
//!
//! - the **Runtime API** (`/2018-06-01/runtime/...`) on a loopback port, with buffered and
//!   streaming answers (JSON prelude, 8 NUL bytes, body; error trailers), `/error` and
//!   `/init/error`, and Lambda's 4xx answers to malformed calls; each event comes with a
//!   fresh `Lambda-Runtime-Invocation-Id`, an answer that echoes another one is refused
//!   (400), and an answer that comes after the function timeout gets `410 Gone`;
//! - the **Extensions API** (`/2020-01-01/extension/...`): registration, INVOKE and SHUTDOWN
//!   events; external extensions are started before the function;
//! - **process management**: the function runs with Lambda's environment in its own process
//!   group, is re-initialized after a crash or a timeout (with a maximum concurrency above 1,
//!   as on Lambda Managed Instances, a timeout leaves it running), and is stopped with its
//!   whole group;
//! - a **Function URL** front door: HTTP requests become payload 2.0 events, answers go back
//!   to the client, streamed answers chunk by chunk as they arrive, at the client's pace: the
//!   emulator holds at most [`STREAM_BUFFER`] bytes for a slow client and otherwise stops
//!   reading the function's answer, so the function is slowed down, not buffered;
//! - the **invoke endpoint** `POST /2015-03-31/functions/function/invocations` for any event;
//! - Lambda's **limits**: 6 MB request and buffered answer, the streamed answer limit, the
//!   function timeout.
//!
//! # Use in tests
//!
//! ```no_run
//! use std::time::Duration;
//! use serverless_adapter_emulator::{Emulator, Outcome};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut cmd = std::process::Command::new("target/release/my-function");
//! cmd.env("RUST_LOG", "info");
//! let emu = Emulator::builder()
//!     .timeout(Duration::from_secs(5))
//!     .command(cmd)
//!     .start()
//!     .await?;
//! emu.wait_ready(Duration::from_secs(10)).await?;
//!
//! // Any event, straight to the function:
//! let inv = emu.invoke(r#"{"Records":[]}"#).await?;
//! match &inv.outcome {
//!     Outcome::Buffered(body) => println!("answer: {body:?}"),
//!     Outcome::Streamed(s) => println!("{} chunks, prelude {:?}", s.chunks.len(), s.prelude),
//!     Outcome::Error(e) => println!("failed: {e}"),
//! }
//!
//! // Or through the Function URL, over a real connection:
//! let resp = emu.get("/echo/hello?a=1&a=2").await?;
//! assert_eq!(resp.status, 200);
//! for (at, chunk) in &resp.chunks {
//!     println!("{:?}: {} bytes", at.duration_since(resp.sent_at), chunk.len());
//! }
//! emu.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Without [`EmulatorBuilder::command`], the function is whatever polls
//! [`Emulator::runtime_api`]: for example a runtime loop spawned in the test process with
//! `AWS_LAMBDA_RUNTIME_API` set to it ([`Emulator::lambda_env`] has the rest of Lambda's
//! environment).
//!
//! What comes back:
//! - [`Emulator::invoke`] gives an [`Invocation`]: the invocation id sent and the one the
//!   function echoed ([`Invocation::echoed_invocation_id`]), the [`Outcome`] (buffered bytes, a
//!   [`Streamed`] answer with its decoded [`Prelude`], chunks with arrival times, trailers
//!   and mid-stream error, or a [`FunctionError`]), the exact bytes the function POSTed
//!   ([`Invocation::raw`]) and [`Invocation::http`] to decode it as a Function URL would.
//! - [`Emulator::invoke_stream`] gives an [`InvocationStream`] of [`StreamEvent`]s, each
//!   as it happens, for timing tests.
//! - [`Emulator::request`] and [`Emulator::get`] go through the Function URL over a real
//!   connection; [`HttpResponse::chunk`] yields body chunks with their arrival times, and
//!   an abnormally ended response is an error ([`CollectedResponse::complete`] is false).
//!
//! [`events`] builds the events other AWS services send (API Gateway, ALB, WebSocket, SQS,
//! SNS, S3, EventBridge, Kinesis, DynamoDB Streams) for [`Emulator::invoke`].
//!
//! # Command line
//!
//! ```text
//! lambda-emulator serve [--port 9000] [--timeout 30] [--memory 128] [--invoke-mode MODE]
//!                       [--max-concurrency N] [--function-name NAME] [--env K=V]...
//!                       [--extensions-dir DIR] [--stream-limit BYTES] [--throttle-after-6mb]
//!                       (--example NAME | -- CMD ARGS...)
//! lambda-emulator invoke [--url http://127.0.0.1:9000] (--data JSON | --data-file F | --example sqs)
//! ```
//!
//! `cargo run --release -p serverless-adapter-emulator -- serve --example reference-axum`
//! builds and runs the reference function behind `http://127.0.0.1:9000/`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod client;
mod config;
mod core;
mod emulator;
mod error;
pub mod events;
mod front_door;
mod invocation;
mod process;
mod runtime_api;
mod samples;
mod server;
mod util;

pub use crate::answer::{FunctionError, HttpAnswer, Prelude, HTTP_INTEGRATION_CONTENT_TYPE};
pub use crate::client::{send, split_url, CollectedResponse, HttpResponse};
pub use crate::config::{
    InvokeMode, REQUEST_LIMIT, RESPONSE_LIMIT, STREAM_BUFFER, STREAM_LIMIT, THROTTLE_AFTER,
    THROTTLE_RATE,
};
pub use crate::core::InvokeOptions;
pub use crate::emulator::{Emulator, EmulatorBuilder};
pub use crate::error::EmulatorError;
pub use crate::invocation::{Invocation, InvocationStream, Outcome, StreamEvent, Streamed};
pub use crate::samples::{sample_event, SAMPLE_EVENTS};
