//! One view of an invocation's answer, whatever Runtime API delivered it and whatever format
//! the event source expects.

use base64::Engine as _;
use serde_json::Value;

/// What the function told the Runtime API for one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A buffered answer: the event source's JSON (or any bytes).
    Buffered(Vec<u8>),
    /// A streamed HTTP-integration answer.
    Streamed {
        /// The prelude JSON before the 8 NULs.
        prelude: Value,
        /// The body after the separator.
        body: Vec<u8>,
        /// The error reported after the stream began (`errorType`, `errorMessage`).
        error: Option<(String, String)>,
    },
    /// An invocation error (`/error`).
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        error_message: String,
    },
}

impl Answer {
    /// The buffered answer as JSON; panics on anything else.
    pub fn json(&self) -> Value {
        match self {
            Answer::Buffered(bytes) => serde_json::from_slice(bytes).unwrap_or_else(|err| {
                panic!(
                    "the answer is not JSON ({err}): {:?}",
                    String::from_utf8_lossy(bytes)
                )
            }),
            other => panic!("expected a buffered JSON answer, got {other:?}"),
        }
    }

    /// The error type, if the invocation failed (before or after a stream began).
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Answer::Error { error_type, .. } => Some(error_type),
            Answer::Streamed {
                error: Some((error_type, _)),
                ..
            } => Some(error_type),
            _ => None,
        }
    }

    /// The answer as an HTTP response: a streamed prelude and body, or a buffered answer in
    /// the API Gateway v1/v2, Function URL or ALB format. Panics on an error or other JSON.
    pub fn http(&self) -> HttpView {
        match self {
            Answer::Streamed { prelude, body, .. } => HttpView::from_json(prelude, body.clone()),
            Answer::Buffered(_) => {
                let json = self.json();
                let body = match json["body"].as_str() {
                    None => Vec::new(),
                    Some(text) if json["isBase64Encoded"] == true => {
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .unwrap_or_else(|err| panic!("bad base64 body ({err}): {json}"))
                    }
                    Some(text) => text.as_bytes().to_vec(),
                };
                HttpView::from_json(&json, body)
            }
            Answer::Error {
                error_type,
                error_message,
            } => panic!("expected an HTTP answer, got the error {error_type}: {error_message}"),
        }
    }
}

/// An HTTP answer: status, headers (repeated names kept, in order), cookies and body.
#[derive(Debug, Clone)]
pub struct HttpView {
    /// The status code.
    pub status: u16,
    /// Every header value, `multiValueHeaders` first, then `headers` values not already there.
    pub headers: Vec<(String, String)>,
    /// The `cookies` list (payload 2.0 and streamed preludes).
    pub cookies: Vec<String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpView {
    fn from_json(json: &Value, body: Vec<u8>) -> Self {
        let status = json["statusCode"]
            .as_u64()
            .or_else(|| json["statusCode"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("no statusCode in {json}")) as u16;
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(multi) = json["multiValueHeaders"].as_object() {
            for (name, values) in multi {
                for value in values.as_array().into_iter().flatten() {
                    headers.push((name.to_lowercase(), text(value)));
                }
            }
        }
        if let Some(single) = json["headers"].as_object() {
            for (name, value) in single {
                let name = name.to_lowercase();
                if headers.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                match value.as_array() {
                    Some(values) => headers.extend(values.iter().map(|v| (name.clone(), text(v)))),
                    None => headers.push((name, text(value))),
                }
            }
        }
        let cookies = json["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        Self {
            status,
            headers,
            cookies,
            body,
        }
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }

    /// The cookies the answer sets, wherever the format carries them.
    pub fn set_cookies(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.cookies.iter().map(String::as_str).collect();
        all.extend(self.header_all("set-cookie"));
        all
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics otherwise.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("the body is not JSON ({err}): {:?}", self.text()))
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
