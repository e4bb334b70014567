//! Resolvers for serverless-adapter: how the outcome of serving a request is reported to Lambda.
//!
//! - [`DefaultResolver`] answers app failures with a short JSON 5xx response and fails the
//!   invocation for everything else. It lives in `serverless-adapter-core` because the builder
//!   defaults to it; it is re-exported here beside the other resolvers.

pub use serverless_adapter_core::{DefaultResolver, Resolution, Resolver};
