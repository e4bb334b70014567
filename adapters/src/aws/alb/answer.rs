//! The answer: `{"statusCode","statusDescription","headers"|"multiValueHeaders","body",
//! "isBase64Encoded"}`.

use bytes::Bytes;
use http::response::Parts;
use serde::Serialize;
use serde_json::{Map, Value};
use serverless_adapter_core::Error;

use crate::common::{encode_answer_body, joined_headers, multi_value_headers};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    status_code: u16,
    status_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<Map<String, Value>>,
    body: String,
    is_base64_encoded: bool,
}

/// Encodes the buffered answer, with the header shape the event used.
pub(super) fn encode(head: &Parts, body: Bytes, multi_value: bool) -> Result<Bytes, Error> {
    let body = encode_answer_body(&head.headers, &body);
    let status = head.status;
    let (headers, multi_value_headers) = if multi_value {
        (None, Some(multi_value_headers(&head.headers)))
    } else {
        (Some(joined_headers(&head.headers)), None)
    };
    let answer = Answer {
        status_code: status.as_u16(),
        status_description: match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        },
        headers,
        multi_value_headers,
        body: body.body,
        is_base64_encoded: body.is_base64_encoded,
    };
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(|err| Error::adapter(format!("the answer could not be encoded: {err}")))
}
