//! `poem-function`: a Lambda function composed by name from the plugin registry — the
//! framework from `SERVERLESS_ADAPTER_FRAMEWORK` (default `poem-reference`), the adapters from
//! `SERVERLESS_ADAPTER_ADAPTERS` (default `api-gateway-v2,api-gateway-v1,alb,cloudwatch-logs`).
//! `AWS_LWA_INVOKE_MODE` picks the handler: `buffered` (default) or `response_stream`.
//! `poem-function --list-plugins` prints the registry linked into the binary and exits.

// The linker caveat: this binary names nothing else from these crates, so without these lines
// their registrations would not be linked in and every name would be unknown.
use serverless_adapter_adapters as _;
use serverless_adapter_plugin_poem as _;

use serverless_adapter_core::registry::{BoxFramework, Registry, Settings, ADAPTERS_VAR};
use serverless_adapter_core::{init_failed, Adapters, Error, ServerlessAdapter};
use serverless_adapter_handlers::{AwsStreamHandler, DefaultHandler};

/// The framework used when `SERVERLESS_ADAPTER_FRAMEWORK` is unset.
const DEFAULT_FRAMEWORK: &str = "poem-reference";
/// The adapters used when `SERVERLESS_ADAPTER_ADAPTERS` is unset.
const DEFAULT_ADAPTERS: &str = "api-gateway-v2,api-gateway-v1,alb,cloudwatch-logs";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::args().nth(1).as_deref() == Some("--list-plugins") {
        print!("{}", Registry::global()?);
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut settings = Settings::from_env();
    if settings.get(ADAPTERS_VAR).is_none() {
        settings = settings.with(ADAPTERS_VAR, DEFAULT_ADAPTERS);
    }
    let function = match compose(&settings) {
        Ok(function) => function,
        Err(error) => return Err(init_failed(error).await),
    };
    let mode = settings.get("AWS_LWA_INVOKE_MODE").unwrap_or_default();
    match mode.to_lowercase().as_str() {
        "" | "buffered" => function.handler(DefaultHandler).build().await,
        "response_stream" => function.handler(AwsStreamHandler).build().await,
        other => Err(init_failed(Error::config(format!(
            "AWS_LWA_INVOKE_MODE must be `buffered` or `response_stream`, got {other:?}"
        )))
        .await),
    }
}

/// The framework and the adapters, by name.
fn compose(settings: &Settings) -> Result<ServerlessAdapter<BoxFramework, Adapters>, Error> {
    let registry = Registry::global()?;
    let framework = match registry.framework_from(settings)? {
        Some(framework) => framework,
        None => registry.build_framework(DEFAULT_FRAMEWORK, settings)?,
    };
    ServerlessAdapter::new(framework).adapters_from_settings(settings)
}
