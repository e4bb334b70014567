//! Talking to the Lambda Runtime API and the invocation loop.

mod client;
mod endpoint;
mod invocation;

pub use client::{
    error_json, NextInvocation, RuntimeClient, ERROR_BODY_HEADER, ERROR_TYPE_HEADER,
    HTTP_INTEGRATION_CONTENT_TYPE,
};
pub use endpoint::Endpoint;
pub(crate) use invocation::serve_invocation;
