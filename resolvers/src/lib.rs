//! Resolvers for serverless-adapter: how the outcome of serving an HTTP request is reported
//! to Lambda.
//!
//! - [`DefaultResolver`] answers app failures (error, panic, timeout) with a short JSON 5xx
//!   response that leaks nothing and fails the invocation for everything else. It lives in
//!   `serverless-adapter-core` because the builder defaults to it; it is re-exported here.
//! - [`ErrorStatusResolver`] turns the app's answers with chosen status codes (`500-599,404`,
//!   or `AWS_LWA_ERROR_STATUS_CODES` as the Lambda Web Adapter reads it) into invocation
//!   errors that keep the start of the app's body, and hands everything else to another
//!   resolver (the default one unless told otherwise).
//! - [`DebugResolver`] is the default resolver with the error's type and message in the 5xx
//!   answer, for local debugging only.
//!
//! Resolvers settle HTTP invocations (API Gateway, Function URL, ALB, WebSocket). Batches of
//! event records (SQS, SNS, Kinesis...) are settled by their adapter: any non-2xx answer there
//! is already a failure.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod debug;
mod error_status;

pub use debug::DebugResolver;
pub use error_status::{ErrorStatusResolver, StatusCodes, LWA_ERROR_STATUS_CODES};
pub use serverless_adapter_core::{DefaultResolver, Resolution, Resolver};
