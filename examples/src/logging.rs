//! Logging for the example functions: the shared set-up of
//! [`serverless_adapter::logging`] (text to stderr, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, the
//! level from `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL`, `info` by default).

pub use serverless_adapter::logging::init;
