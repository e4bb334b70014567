//! Response headers in the shapes Lambda proxy answers use (API Gateway REST and WebSocket, ALB).

use bytes::Bytes;
use http::header::{SET_COOKIE, TRANSFER_ENCODING};
use http::response::Parts;
use http::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};
use serverless_adapter_core::Error;

use super::encode_answer_body;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProxyAnswer {
    status_code: u16,
    headers: Map<String, Value>,
    multi_value_headers: Map<String, Value>,
    body: String,
    is_base64_encoded: bool,
}

/// The Lambda proxy integration answer of API Gateway REST and WebSocket APIs:
/// `{"statusCode","headers","multiValueHeaders","body","isBase64Encoded"}`, with every header
/// value in `multiValueHeaders`, each header's last value in `headers`, and the body as text or
/// base64 by content type.
pub fn encode_proxy_answer(head: &Parts, body: Bytes) -> Result<Bytes, Error> {
    let body = encode_answer_body(&head.headers, &body);
    let answer = ProxyAnswer {
        status_code: head.status.as_u16(),
        headers: last_value_headers(&head.headers),
        multi_value_headers: multi_value_headers(&head.headers),
        body: body.body,
        is_base64_encoded: body.is_base64_encoded,
    };
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(|err| Error::adapter(format!("the answer could not be encoded: {err}")))
}

fn text(value: &http::HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// Whether a response header is hop-by-hop and must not reach the answer (`transfer-encoding`:
/// the answer's body is always whole).
fn skipped(name: &http::HeaderName) -> bool {
    name == TRANSFER_ENCODING
}

/// `{"name":["value",..]}`: every value of every header, in order.
pub fn multi_value_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys().filter(|name| !skipped(name)) {
        let values = headers.get_all(name).iter().map(|v| Value::String(text(v)));
        map.insert(name.as_str().to_owned(), Value::Array(values.collect()));
    }
    map
}

/// `{"name":"value"}` with each header's last value: API Gateway merges `headers` into
/// `multiValueHeaders` and drops a pair both hold, so the last value never duplicates one.
pub fn last_value_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys().filter(|name| !skipped(name)) {
        if let Some(last) = headers.get_all(name).iter().next_back() {
            map.insert(name.as_str().to_owned(), Value::String(text(last)));
        }
    }
    map
}

/// `{"name":"value"}` with repeated values joined by `, ` (their HTTP meaning), except
/// `set-cookie`, which cannot be joined: its last value is kept and the others are reported
/// in the log.
pub fn joined_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys().filter(|name| !skipped(name)) {
        let values: Vec<String> = headers.get_all(name).iter().map(text).collect();
        let value = if name == SET_COOKIE {
            if values.len() > 1 {
                tracing::warn!(
                    dropped = values.len() - 1,
                    "this answer has room for one set-cookie header only; the last is kept \
                     (enable multi-value headers to send them all)"
                );
            }
            values.into_iter().last().unwrap_or_default()
        } else {
            values.join(", ")
        };
        map.insert(name.as_str().to_owned(), Value::String(value));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn shapes() {
        let mut headers = HeaderMap::new();
        headers.append("x-multi", HeaderValue::from_static("one"));
        headers.append("x-multi", HeaderValue::from_static("two"));
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append("transfer-encoding", HeaderValue::from_static("chunked"));
        assert_eq!(
            Value::Object(multi_value_headers(&headers)),
            serde_json::json!({"x-multi":["one","two"],"set-cookie":["a=1","b=2"]})
        );
        assert_eq!(
            Value::Object(last_value_headers(&headers)),
            serde_json::json!({"x-multi":"two","set-cookie":"b=2"})
        );
        assert_eq!(
            Value::Object(joined_headers(&headers)),
            serde_json::json!({"x-multi":"one, two","set-cookie":"b=2"})
        );
    }
}
