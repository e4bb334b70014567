//! serverless-adapter: run ordinary web applications on AWS Lambda.
//!
//! Compose a function from four parts — a framework (your app), adapters (event sources),
//! a handler (buffered or streamed answers) and a resolver (what Lambda is told on failure):
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use serverless_adapter::adapters::ApiGatewayV2Adapter;
//! use serverless_adapter::handlers::AwsStreamHandler;
//! use serverless_adapter::ServerlessAdapter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), serverless_adapter::Error> {
//!     let app = Router::new().route("/", get(|| async { "ok" }));
//!     ServerlessAdapter::new(app).handler(AwsStreamHandler).adapter(ApiGatewayV2Adapter).build().await
//! }
//! ```
//!
//! # Feature flags
//! - `handlers` (default): [`handlers`], the buffered and streaming handlers.
//! - `adapters` (default): [`adapters`], the event sources.
//! - `resolvers` (default): [`resolvers`].
//! - `axum` (default): [`axum`], extractors for axum apps.
//! - `proxy` (default): [`proxy`], a web app on a local port (the `lambda-adapter` binary's framework).
//! - `actix` (default): [`actix`], actix-web apps served in process.
//! - `logging` (default): `logging`, a `tracing` subscriber set up the way Lambda reads logs.
//!
//! # Guides
//! The guides of `docs/` are rendered in [`guides`]; their examples are compiled and run as
//! this crate's doctests.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use serverless_adapter_core::*;

/// The core crate, for plugin authors.
pub use serverless_adapter_core as core;

#[cfg(feature = "handlers")]
#[cfg_attr(docsrs, doc(cfg(feature = "handlers")))]
pub use serverless_adapter_handlers as handlers;

#[cfg(feature = "adapters")]
#[cfg_attr(docsrs, doc(cfg(feature = "adapters")))]
pub use serverless_adapter_adapters as adapters;

#[cfg(feature = "resolvers")]
#[cfg_attr(docsrs, doc(cfg(feature = "resolvers")))]
pub use serverless_adapter_resolvers as resolvers;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use serverless_adapter_axum as axum;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use serverless_adapter_actix as actix;

#[cfg(feature = "proxy")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub use serverless_adapter_proxy as proxy;

/// The guides (the Markdown files of the repository's `docs/` and its README), rendered here so
/// that every Rust example in them is compiled and run as a doctest.
#[cfg(all(
    feature = "handlers",
    feature = "adapters",
    feature = "resolvers",
    feature = "axum",
    feature = "actix",
    feature = "proxy",
    feature = "logging"
))]
pub mod guides {
    #[doc = include_str!("../README.md")]
    pub mod readme {}
    #[doc = include_str!("../docs/architecture.md")]
    pub mod architecture {}
    #[doc = include_str!("../docs/adapters.md")]
    pub mod adapters {}
    #[doc = include_str!("../docs/streaming.md")]
    pub mod streaming {}
    #[doc = include_str!("../docs/logging.md")]
    pub mod logging {}
    #[doc = include_str!("../docs/local-emulator.md")]
    pub mod local_emulator {}
    #[doc = include_str!("../docs/migrating-from-lambda-web-adapter.md")]
    pub mod migrating_from_lambda_web_adapter {}
    #[doc = include_str!("../docs/migrating-from-lambda-http.md")]
    pub mod migrating_from_lambda_http {}
    #[doc = include_str!("../docs/troubleshooting.md")]
    pub mod troubleshooting {}
}
