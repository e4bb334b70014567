//! The answer: the integration response `{"statusCode","headers","multiValueHeaders","body",
//! "isBase64Encoded"}`.

use bytes::Bytes;
use http::response::Parts;
use serverless_adapter_core::Error;

/// Encodes the buffered answer for a response head and its whole body.
pub(super) fn encode(head: &Parts, body: Bytes) -> Result<Bytes, Error> {
    crate::common::encode_proxy_answer(head, body)
}
