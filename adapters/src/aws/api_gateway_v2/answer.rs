//! The answer: `{"statusCode","headers","cookies","body","isBase64Encoded"}`.

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::response::Parts;
use serde::Serialize;
use serverless_adapter_core::Error;

use crate::common::encode_answer_body;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    status_code: u16,
    headers: serde_json::Map<String, serde_json::Value>,
    cookies: Vec<Cow<'a>>,
    body: String,
    is_base64_encoded: bool,
}

type Cow<'a> = std::borrow::Cow<'a, str>;

/// Encodes the buffered answer for a response head and its whole body.
pub(super) fn encode(head: &Parts, body: Bytes) -> Result<Bytes, Error> {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for name in head.headers.keys() {
        let values = head
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()));
        if name == SET_COOKIE {
            cookies.extend(values);
        } else {
            let joined: Vec<Cow<'_>> = values.collect();
            headers.insert(
                name.as_str().to_owned(),
                serde_json::Value::String(joined.join(", ")),
            );
        }
    }
    let body = encode_answer_body(&head.headers, &body);
    let answer = Answer {
        status_code: head.status.as_u16(),
        headers,
        cookies,
        body: body.body,
        is_base64_encoded: body.is_base64_encoded,
    };
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(|err| Error::adapter(format!("the answer could not be encoded: {err}")))
}
