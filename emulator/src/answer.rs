//! Decoding what a function answers: the error JSON, the streaming prelude, and the Function
//! URL answer format (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`).

use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;

/// The content type that marks a streamed answer as HTTP: JSON prelude, 8 NUL bytes, body.
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

/// A failed invocation, as Lambda reports it to the invoker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// `errorType`, e.g. `Runtime.ExitError`, `Sandbox.Timedout`, or the function's own.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
    /// The error JSON as Lambda returns it to the invoker (the function's own body for
    /// `/error` posts, otherwise `{"errorMessage":..,"errorType":..}`).
    pub payload: Bytes,
}

impl FunctionError {
    /// An error made by the emulator itself.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        let error_type = error_type.into();
        let error_message = error_message.into();
        let payload = serde_json::json!({
            "errorMessage": error_message,
            "errorType": error_type,
        })
        .to_string()
        .into();
        FunctionError {
            error_type,
            error_message,
            payload,
        }
    }

    /// Parses an error JSON body; `header_type` (the `Lambda-Runtime-Function-Error-Type`
    /// header) is used when the body has no `errorType`. Fails when the body is not a JSON
    /// object.
    pub(crate) fn from_json(body: Bytes, header_type: Option<&str>) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let Value::Object(map) = value else {
            return Err("the error body must be a JSON object".into());
        };
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let error_type = text("errorType")
            .or_else(|| header_type.map(str::to_owned))
            .unwrap_or_else(|| "Unhandled".to_owned());
        Ok(FunctionError {
            error_type,
            error_message: text("errorMessage").unwrap_or_default(),
            payload: body,
        })
    }

    /// Whether this is the function timeout (`Sandbox.Timedout`).
    pub fn is_timeout(&self) -> bool {
        self.error_type == "Sandbox.Timedout"
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

impl std::error::Error for FunctionError {}

/// The JSON prelude of a streamed HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelude {
    /// `statusCode` (200 when absent).
    pub status_code: u16,
    /// `headers`, flattened: one pair per value (array values give several pairs).
    pub headers: Vec<(String, String)>,
    /// `cookies`, each a `Set-Cookie` value.
    pub cookies: Vec<String>,
    /// The prelude JSON bytes exactly as sent (without the 8 NUL bytes).
    pub raw: Bytes,
}

impl Prelude {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub(crate) fn parse(raw: Bytes) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(&raw).map_err(|e| format!("invalid prelude JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("the prelude must be a JSON object".into());
        };
        Ok(Prelude {
            status_code: status_of(map.get("statusCode"))?.unwrap_or(200),
            headers: headers_of(&map)?,
            cookies: cookies_of(map.get("cookies"))?,
            raw,
        })
    }
}

/// An HTTP answer decoded from a function's answer, as a Function URL would return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Headers, one pair per value, names as the function wrote them.
    pub headers: Vec<(String, String)>,
    /// `Set-Cookie` values (from `cookies`).
    pub cookies: Vec<String>,
    /// The decoded body (base64 already undone).
    pub body: Bytes,
}

impl HttpAnswer {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of a header (case-insensitive name).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes a buffered answer the way a Function URL does: a JSON object with
    /// `statusCode` is an HTTP answer; any other answer is returned as a 200
    /// `application/json` body.
    pub fn from_buffered(answer: &[u8]) -> Result<Self, String> {
        let map = match serde_json::from_slice::<Value>(answer) {
            Ok(Value::Object(map)) if map.contains_key("statusCode") => map,
            _ => {
                return Ok(HttpAnswer {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    cookies: Vec::new(),
                    body: Bytes::copy_from_slice(answer),
                })
            }
        };
        let status = status_of(map.get("statusCode"))?.unwrap_or(200);
        let mut headers = headers_of(&map)?;
        if find_header(&headers, "content-type").is_none() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let cookies = cookies_of(map.get("cookies"))?;
        let b64 = matches!(map.get("isBase64Encoded"), Some(Value::Bool(true)));
        let body = match map.get("body") {
            None | Some(Value::Null) => Bytes::new(),
            Some(Value::String(s)) if b64 => base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| format!("invalid base64 body: {e}"))?
                .into(),
            Some(Value::String(s)) => Bytes::copy_from_slice(s.as_bytes()),
            Some(other) => other.to_string().into(),
        };
        Ok(HttpAnswer {
            status,
            headers,
            cookies,
            body,
        })
    }

    /// Builds the answer of a streamed HTTP response from its prelude and body.
    pub(crate) fn from_prelude(prelude: &Prelude, body: Bytes) -> Self {
        HttpAnswer {
            status: prelude.status_code,
            headers: prelude.headers.clone(),
            cookies: prelude.cookies.clone(),
            body,
        }
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn status_of(value: Option<&Value>) -> Result<Option<u16>, String> {
    let code = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match code {
        Some(c) if (100..=999).contains(&c) => Ok(Some(c as u16)),
        _ => Err(format!(
            "invalid statusCode {}",
            value.map(|v| v.to_string()).unwrap_or_default()
        )),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

fn headers_of(map: &serde_json::Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    // `multiValueHeaders` (API Gateway v1, ALB) wins over `headers` for the names it has.
    for key in ["multiValueHeaders", "headers"] {
        let h = match map.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(h)) => h,
            Some(_) => return Err(format!("`{key}` must be an object")),
        };
        let before = out.len();
        for (name, value) in h {
            if key == "headers"
                && out[..before]
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                continue;
            }
            match value {
                Value::Array(values) => {
                    out.extend(values.iter().filter_map(scalar).map(|v| (name.clone(), v)))
                }
                Value::Null => {}
                other => match scalar(other) {
                    Some(v) => out.push((name.clone(), v)),
                    None => return Err(format!("invalid value for header {name}")),
                },
            }
        }
    }
    Ok(out)
}

fn cookies_of(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(values)) => Ok(values.iter().filter_map(scalar).collect()),
        Some(_) => Err("`cookies` must be an array".into()),
    }
}

/// Finds the 8 NUL bytes that end a prelude; returns the index of the first one.
pub(crate) fn find_separator(buf: &[u8]) -> Option<usize> {
    let mut run = 0;
    for (i, b) in buf.iter().enumerate() {
        if *b == 0 {
            run += 1;
            if run == 8 {
                return Some(i + 1 - 8);
            }
        } else {
            run = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_http_answer() {
        let a = HttpAnswer::from_buffered(
            br#"{"statusCode":201,"headers":{"x-a":"1","x-m":["one","two"]},"cookies":["a=1"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(a.status, 201);
        assert_eq!(a.header_all("x-m"), vec!["one", "two"]);
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.cookies, vec!["a=1"]);
        assert_eq!(&a.body[..], b"hi");
    }

    #[test]
    fn plain_json_answer() {
        let a = HttpAnswer::from_buffered(br#"{"ok":true}"#).unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(&a.body[..], br#"{"ok":true}"#);
        assert!(HttpAnswer::from_buffered(br#"{"statusCode":"abc"}"#).is_err());
    }

    #[test]
    fn separator() {
        assert_eq!(find_separator(b"{}\0\0\0\0\0\0\0\0x"), Some(2));
        assert_eq!(find_separator(b"{}\0\0\0\0\0\0\0"), None);
    }

    #[test]
    fn error_json() {
        let e = FunctionError::from_json(
            Bytes::from_static(br#"{"errorMessage":"boom"}"#),
            Some("Custom"),
        )
        .unwrap();
        assert_eq!(e.error_type, "Custom");
        assert_eq!(e.error_message, "boom");
        assert!(FunctionError::from_json(Bytes::from_static(b"nope"), None).is_err());
    }
}
