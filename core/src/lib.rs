//! The core of serverless-adapter: the four traits, the builder and the Lambda Runtime API client.
//!
//! A function is composed of four parts:
//! - a [`Framework`] serves HTTP requests (any tower service, such as an axum `Router`);
//! - [`Adapter`]s turn events (API Gateway, Function URL, SQS...) into requests and the
//!   responses into each event source's answer;
//! - a [`Handler`] answers an HTTP invocation, buffered ([`DefaultHandler`]) or streamed;
//! - a [`Resolver`] settles what Lambda is told when something fails ([`DefaultResolver`]).
//!
//! [`ServerlessAdapter`] composes them; the Runtime API client and invocation loop in
//! [`runtime`] serve invocations with them.
//!
//! Plugin crates (adapters, frameworks, handlers) depend on this crate only: it holds no
//! framework and no event definitions. They can register their parts by name in the
//! [`registry`], so a function picks its adapters from `SERVERLESS_ADAPTER_ADAPTERS`.
//!
//! # Feature flags
//! - `logging` (off by default): the `logging` module, a `tracing` subscriber that writes the way Lambda
//!   reads logs (text or JSON, Lambda's log level), for binaries.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod body;
mod builder;
mod context;
mod deadline;
mod error;
mod framework;
mod handler;
#[cfg(feature = "logging")]
#[cfg_attr(docsrs, doc(cfg(feature = "logging")))]
pub mod logging;
mod probe;
pub mod registry;
mod request_context;
mod resolver;
pub mod runtime;

pub use adapter::{
    Adapter, Batch, BatchItem, BatchOrder, Decoded, EncodeAnswer, HttpExchange, ItemOutcome,
    ItemResult, SettleBatch,
};
pub use body::{Body, BoxError};
pub use builder::{
    init_failed, report_init_error, AdapterList, Adapters, LambdaFunction, NoAdapters,
    ServerlessAdapter,
};
pub use context::{FunctionConfig, LambdaContext};
pub use error::Error;
pub use framework::{panic_error, serve_guarded, Framework};
pub use handler::{
    app_error, collect_limited, Answer, DefaultHandler, Handler, BUFFERED_ANSWER_LIMIT,
};
pub use probe::EventProbe;
pub use request_context::RequestContext;
pub use resolver::{error_response, DefaultResolver, Resolution, Resolver};
