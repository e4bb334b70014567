//! The peer in process, streaming: `lambda_http::run_with_streaming_response` serving the
//! reference axum router.
//!
//! Built with the bench so the peer runs against the same mock Runtime API and the same app as
//! `reference-axum` in `response_stream` mode.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run_with_streaming_response(serverless_adapter_examples::app::router()).await
}
