//! Shared support for the proxy's integration tests (the `proxy` test binary and `orphans.rs`):
//! the e2e crate's free ports, process groups that are always killed and workspace binaries,
//! the reference app as a real process, and Lambda contexts.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt;
use serverless_adapter_core::{Body, LambdaContext};

pub use serverless_adapter_e2e::ports::free_port;
pub use serverless_adapter_e2e::process::{wait_for_port, ChildGuard};

/// The `reference-server` binary (of the examples crate), built once per test process.
pub fn reference_server_bin() -> PathBuf {
    serverless_adapter_e2e::binary("reference-server")
}

/// The reference app on a free port.
pub fn reference_server() -> (ChildGuard, u16) {
    let port = free_port();
    let mut command = Command::new(reference_server_bin());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .stdout(Stdio::null());
    let child = ChildGuard::spawn(command);
    wait_for_port(port, Duration::from_secs(20));
    (child, port)
}

/// A Lambda context whose deadline is `left` from now.
pub fn context_with_deadline(request_id: &str, left: Duration) -> LambdaContext {
    let mut context = LambdaContext::for_request_id(request_id);
    context.deadline = Some(SystemTime::now() + left);
    context
}

/// The whole body, or the error it ended with (with the bytes received before it).
pub async fn collect(body: Body) -> (Bytes, Option<String>) {
    let mut body = body;
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(chunk) = frame.into_data() {
                    data.extend_from_slice(&chunk);
                }
            }
            Err(error) => return (Bytes::from(data), Some(error.to_string())),
        }
    }
    (Bytes::from(data), None)
}

/// Runs `future` with a time limit.
pub async fn bounded<T>(limit: Duration, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .expect("the test step finished in time")
}
