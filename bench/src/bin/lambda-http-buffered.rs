//! The peer in process, buffered: `lambda_http::run` serving the reference axum router.
//!
//! Built with the bench so the peer runs against the same mock Runtime API and the same app as
//! `reference-axum`. Only API Gateway, ALB and Function URL events are accepted (an SQS batch
//! cannot reach the router).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(serverless_adapter_examples::app::router()).await
}
