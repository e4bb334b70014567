//! A web app on a local port, served on AWS Lambda: the framework behind the `lambda-adapter`
//! binary, a drop-in for the Lambda Web Adapter.
//!
//! [`ProxyFramework`] is a [`Framework`](serverless_adapter_core::Framework) that forwards each
//! request to `http://$AWS_LWA_HOST:$AWS_LWA_PORT` over pooled kept-alive connections, streaming
//! both bodies. [`ProxySettings::from_env`] reads every `AWS_LWA_*` setting (legacy names
//! included); [`ReadinessCheck`] and [`ReadinessGate`] hold invocations until the app is ready;
//! [`Supervisor`] runs the app itself and restarts it when it dies; [`extension`] registers the
//! binary as a Lambda external extension; [`compression`] compresses answers, streamed ones
//! included, when `AWS_LWA_ENABLE_COMPRESSION=true`.
//!
//! ```no_run
//! use serverless_adapter_adapters::ApiGatewayV2Adapter;
//! use serverless_adapter_core::{Error, ServerlessAdapter};
//! use serverless_adapter_proxy::{ProxyFramework, ProxySettings};
//!
//! # async fn run() -> Result<(), Error> {
//! let settings = ProxySettings::from_env()?;
//! ServerlessAdapter::new(ProxyFramework::new(&settings))
//!     .adapter(ApiGatewayV2Adapter)
//!     .build()
//!     .await
//! # }
//! ```
//!
//! # Retrying on a closed kept-alive connection
//! A request that fails because the app closed a pooled connection while it sat idle is sent
//! once more on a fresh connection when no response byte arrived, its body can be sent again
//! (empty, or rebuilt from the frames already sent, up to 8 MiB, plus the unsent rest), and
//! either the request never left, or the method is idempotent, or the failure came within
//! [`STALE_RACE_WINDOW`] of sending. A fresh connection's failure is never retried.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod compression;
pub mod extension;
mod framework;
mod headers;
pub mod logging;
mod plugin;
mod readiness;
mod replay;
pub mod settings;
mod supervisor;

pub use client::STALE_RACE_WINDOW;
pub use framework::{ProxyBuilder, ProxyFramework, DEFAULT_DEADLINE_MARGIN};
pub use headers::{
    LAMBDA_CONTEXT_HEADER, REQUEST_CONTEXT_HEADER, TENANT_ID_HEADER, TRACE_ID_HEADER,
};
pub use readiness::{poll_interval, ReadinessCheck, ReadinessGate, FAST_PHASE, FAST_POLL};
pub use settings::{InvokeMode, ProxySettings, ReadinessProtocol, StatusCodes};
pub use supervisor::Supervisor;
