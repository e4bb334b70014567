//! The reference app as a Lambda function, served in process by actix-web.
//!
//! Run with: `cargo run --release -p serverless-adapter-emulator -- serve --example reference-actix`
//!
//! Adapters: the ones named by `SERVERLESS_ADAPTER_ADAPTERS` (e.g. `api-gateway-v2,sqs`, asked
//! in that order) when it is set, otherwise every event adapter (`register_all`: HTTP sources
//! first, pass-through last). `AWS_LWA_INVOKE_MODE` picks the handler: `buffered` (default) or
//! `response_stream`. `reference-actix --list-plugins` prints the plugin registry linked into
//! this binary and exits (a test guards it).
//! The app ([`serverless_adapter_examples::actix_app`]) runs on an actix worker thread, built
//! during the function's init.

use serverless_adapter::actix::ActixFramework;
use serverless_adapter::adapters::register_all;
use serverless_adapter::handlers::{AwsStreamHandler, DefaultHandler};
use serverless_adapter::registry::Registry;
use serverless_adapter::{init_failed, Error, ServerlessAdapter};
use serverless_adapter_examples::{actix_app, logging};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::args().nth(1).as_deref() == Some("--list-plugins") {
        print!("{}", Registry::global()?);
        return Ok(());
    }
    logging::init();
    let app = ActixFramework::new(actix_app::app);
    if let Err(error) = app.start().await {
        return Err(init_failed(Error::app(error)).await);
    }
    let function = match ServerlessAdapter::new(app).adapters_from_env_or(register_all) {
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
