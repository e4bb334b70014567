//! Requests made from event-source records (SQS, SNS, S3, ...): `POST` to a path, metadata in
//! headers, the record itself as a [`RequestContext`] extension.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error, RequestContext};

use super::{build_uri, RequestParts};

/// The header naming the metadata headers that were left out because HTTP cannot carry their
/// value (a control character in a message attribute, say).
pub const OMITTED_HEADERS: &str = "x-event-omitted-headers";

/// The request URI for an adapter's configured path. A path that cannot be a request path is a
/// configuration error.
pub fn event_uri(path: &str) -> Result<Uri, Error> {
    build_uri(path, "")
        .map_err(|err| Error::config(format!("the adapter's path {path:?} is invalid: {err}")))
}

/// The metadata headers of a request made from a record.
///
/// Record data is not HTTP: a message attribute may hold a line break. Such a value is left
/// out (with a warning in the log) and its header's name is listed in
/// [`x-event-omitted-headers`](OMITTED_HEADERS), so the record is still served and nothing is
/// dropped silently; the exact value stays available in the [`RequestContext`] extension.
#[derive(Debug)]
pub struct EventHeaders {
    map: HeaderMap,
    omitted: Vec<String>,
}

impl EventHeaders {
    /// Headers starting with `host` (such as `sqs.amazonaws.com`).
    pub fn new(host: &'static str) -> Self {
        let mut map = HeaderMap::with_capacity(16);
        map.insert(HOST, HeaderValue::from_static(host));
        Self {
            map,
            omitted: Vec::new(),
        }
    }

    /// Headers without a `host` (for events that come from no particular service).
    pub fn without_host() -> Self {
        Self {
            map: HeaderMap::with_capacity(4),
            omitted: Vec::new(),
        }
    }

    /// Appends `name: value`; a name or value HTTP cannot carry is left out and recorded.
    pub fn add(&mut self, name: &str, value: &str) {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.map.append(name, value);
            }
            _ => {
                tracing::warn!(
                    header = name,
                    "a record's metadata cannot travel in an HTTP header; it is left out and \
                     named in {OMITTED_HEADERS}"
                );
                self.omitted.push(name.to_ascii_lowercase());
            }
        }
    }

    /// Appends `name: value` when there is a value.
    pub fn add_some(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.add(name, value);
        }
    }

    /// The headers, with the list of those left out (if any).
    pub fn into_map(mut self) -> HeaderMap {
        if !self.omitted.is_empty() {
            let names = self.omitted.join(", ");
            if let Ok(value) = HeaderValue::from_str(&names) {
                self.map.insert(OMITTED_HEADERS, value);
            }
        }
        self.map
    }
}

/// A `POST` of `body` to `uri` with `headers` and `content_type`, carrying `context` as an
/// extension.
pub fn event_request(
    uri: Uri,
    headers: EventHeaders,
    content_type: &'static str,
    body: Bytes,
    context: RequestContext,
) -> Request<Body> {
    let mut headers = headers.into_map();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let mut request = RequestParts {
        method: Method::POST,
        uri,
        headers,
        body,
    }
    .into_request();
    request.extensions_mut().insert(context);
    request
}

/// The content type of a record's payload: `application/json` when it is JSON,
/// `text/plain; charset=utf-8` when it is other text, `application/octet-stream` otherwise.
pub fn sniff_content_type(body: &[u8]) -> &'static str {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        "application/json"
    } else if std::str::from_utf8(body).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// A scalar JSON value as text: a string's content, a number or boolean as written; `None` for
/// `null`, objects and arrays.
pub fn scalar_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Cow<'_, str>>(text).ok(),
        Some(b'-' | b'0'..=b'9' | b't' | b'f') => Some(Cow::Borrowed(text)),
        _ => None,
    }
}

/// `CamelCase` as `kebab-case`, keeping acronyms together: `ApproximateReceiveCount` →
/// `approximate-receive-count`, `AWSTraceHeader` → `aws-trace-header`.
pub fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// The compact JSON of a record, for its [`RequestContext`].
pub fn record_json(raw: &RawValue) -> Result<String, Error> {
    let value: serde_json::Value = serde_json::from_str(raw.get())
        .map_err(|err| Error::malformed_event(format!("a record is not valid JSON: {err}")))?;
    serde_json::to_string(&value).map_err(|err| Error::malformed_event(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_values_are_left_out_and_named() {
        let mut headers = EventHeaders::new("sqs.amazonaws.com");
        headers.add("x-a", "fine");
        headers.add("x-b", "line\r\nbreak");
        headers.add("bad name", "x");
        headers.add_some("x-c", None);
        let map = headers.into_map();
        assert_eq!(map["host"], "sqs.amazonaws.com");
        assert_eq!(map["x-a"], "fine");
        assert!(!map.contains_key("x-b"));
        assert_eq!(map[OMITTED_HEADERS], "x-b, bad name");
        assert!(!map.contains_key("x-c"));
    }

    #[test]
    fn content_types_are_sniffed() {
        assert_eq!(sniff_content_type(br#" {"a":1} "#), "application/json");
        assert_eq!(sniff_content_type(b"123"), "application/json");
        assert_eq!(sniff_content_type(b"Hello"), "text/plain; charset=utf-8");
        assert_eq!(sniff_content_type(b""), "text/plain; charset=utf-8");
        assert_eq!(sniff_content_type(&[0xff, 0]), "application/octet-stream");
    }

    #[test]
    fn names_and_scalars() {
        assert_eq!(
            kebab_case("ApproximateReceiveCount"),
            "approximate-receive-count"
        );
        assert_eq!(kebab_case("AWSTraceHeader"), "aws-trace-header");
        assert_eq!(kebab_case("MessageGroupId"), "message-group-id");
        assert_eq!(kebab_case("SenderId"), "sender-id");
        assert_eq!(kebab_case("already-kebab"), "already-kebab");
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        assert_eq!(scalar_text(&raw(r#""a\nb""#)).as_deref(), Some("a\nb"));
        assert_eq!(
            scalar_text(&raw("1480641523.477")).as_deref(),
            Some("1480641523.477")
        );
        assert_eq!(scalar_text(&raw("true")).as_deref(), Some("true"));
        assert_eq!(scalar_text(&raw("null")), None);
        assert_eq!(scalar_text(&raw("{}")), None);
    }
}
