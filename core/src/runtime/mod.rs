//! Talking to the Lambda Runtime API and the invocation loop.

mod client;
mod endpoint;
mod invocation;

pub use client::{
    error_json, NextInvocation, RuntimeClient, ERROR_BODY_HEADER, ERROR_TYPE_HEADER,
    HTTP_INTEGRATION_CONTENT_TYPE,
};
pub use endpoint::Endpoint;

/// The target of the `invocation{request_id=...}` span entered around each invocation.
///
/// The span is at `ERROR` level, so that every filter that lets a line through keeps the span
/// (and the request id) on it, even `AWS_LAMBDA_LOG_LEVEL=ERROR`. A filter that enables chosen
/// targets only (`RUST_LOG=my_app=debug`) must enable this one too; the `logging` set-up of this
/// crate always does.
pub const INVOCATION_SPAN_TARGET: &str = "serverless_adapter_core::invocation";
pub(crate) use invocation::serve_invocation;

/// Resolves when the process is asked to stop: SIGTERM (Lambda's shutdown) or SIGINT (Ctrl-C).
/// Where signals cannot be listened to, it never resolves.
pub async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind| async move {
            match signal(kind) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot listen for a stop signal");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = listen(SignalKind::terminate()) => tracing::info!("SIGTERM received"),
            () = listen(SignalKind::interrupt()) => tracing::info!("SIGINT received"),
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}
