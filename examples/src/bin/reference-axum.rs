//! The reference app as a Lambda function, served in process by axum.
//!
//! Run with: `cargo run --release -p serverless-adapter-emulator -- serve --example reference-axum`
//!
//! Adapters: the ones named by `SERVERLESS_ADAPTER_ADAPTERS` (e.g. `api-gateway-v2,sqs`, asked
//! in that order) when it is set, otherwise every event adapter (`register_all`: HTTP sources
//! first, pass-through last). `AWS_LWA_INVOKE_MODE` picks the handler: `buffered` (default) or
//! `response_stream`. `reference-axum --list-plugins` prints the plugin registry linked into
//! this binary and exits (a test guards it).

use serverless_adapter::adapters::register_all;
use serverless_adapter::handlers::{AwsStreamHandler, DefaultHandler};
use serverless_adapter::registry::Registry;
use serverless_adapter::{init_failed, Error, ServerlessAdapter};
use serverless_adapter_examples::{app, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::args().nth(1).as_deref() == Some("--list-plugins") {
        print!("{}", Registry::global()?);
        return Ok(());
    }
    logging::init();
    let function = match ServerlessAdapter::new(app::router()).adapters_from_env_or(register_all) {
        Ok(function) => function,
        Err(error) => return Err(init_failed(error).await),
    };
    let mode = std::env::var("AWS_LWA_INVOKE_MODE")
        .unwrap_or_default()
        .to_lowercase();
    match mode.as_str() {
        "" | "buffered" => function.handler(DefaultHandler).build().await,
        "response_stream" => function.handler(AwsStreamHandler).build().await,
        other => Err(init_failed(Error::config(format!(
            "AWS_LWA_INVOKE_MODE must be `buffered` or `response_stream`, got {other:?}"
        )))
        .await),
    }
}
