//! Handlers for serverless-adapter: how an HTTP invocation is answered.
//!
//! - [`DefaultHandler`] collects the body (up to Lambda's 6 MB) and posts the event's JSON answer.
//!   It lives in `serverless-adapter-core` because the builder defaults to it; it is re-exported here
//!   beside the other handlers.
//! - [`AwsStreamHandler`] streams the answer to callers that can receive a stream (Lambda Function
//!   URLs in `RESPONSE_STREAM` mode): the JSON prelude, eight NUL bytes, then each body frame as
//!   the app produces it, with an error after the prelude reported in real HTTP trailers. Events
//!   whose caller cannot receive a stream (API Gateway HTTP APIs, SQS, SNS...) are answered
//!   buffered, so one function serves both. [`StreamHandler`] is its configurable form.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod stream;

pub use serverless_adapter_core::{Answer, DefaultHandler, Handler};
pub use stream::{
    encode_prelude, AwsStreamHandler, HttpIntegrationBody, StreamHandler, DEFAULT_DEADLINE_MARGIN,
    PRELUDE_SEPARATOR, STREAM_ERROR_TYPE,
};
