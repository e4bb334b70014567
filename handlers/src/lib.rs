//! Handlers for serverless-adapter: how an HTTP invocation is answered.
//!
//! - [`DefaultHandler`] collects the body (up to Lambda's 6 MB) and posts the event's JSON answer.
//!   It lives in `serverless-adapter-core` because the builder defaults to it; it is re-exported here
//!   beside the other handlers.

pub use serverless_adapter_core::{Answer, DefaultHandler, Handler};
