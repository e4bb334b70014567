//! Building the app's request from event fields, rejecting what HTTP cannot carry.

use std::fmt::Write as _;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error};

/// Bytes that cannot appear literally in a path or query and are percent-encoded instead.
fn needs_escape(byte: u8, in_query: bool) -> bool {
    byte <= 0x20
        || byte >= 0x7f
        || matches!(
            byte,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'#'
        )
        || (!in_query && byte == b'?')
}

fn escape_into(out: &mut String, text: &str, in_query: bool) {
    for &byte in text.as_bytes() {
        if needs_escape(byte, in_query) {
            let _ = write!(out, "%{byte:02X}");
        } else {
            out.push(byte as char);
        }
    }
}

/// The request URI (origin form: path and query only) for a path and a raw query string.
///
/// Both are kept byte-exact where HTTP allows; characters HTTP cannot carry are
/// percent-encoded. A path is never read as a host: `//evil.example/x` stays a path.
pub fn build_uri(path: &str, query: &str) -> Result<Uri, Error> {
    let mut text = String::with_capacity(path.len() + query.len() + 2);
    if !path.starts_with('/') {
        text.push('/');
    }
    escape_into(&mut text, path, false);
    if !query.is_empty() {
        text.push('?');
        escape_into(&mut text, query, true);
    }
    let path_and_query = PathAndQuery::try_from(text.as_str()).map_err(|err| {
        Error::malformed_event(format!(
            "the event's path {path:?} is not a valid request path: {err}"
        ))
    })?;
    Ok(Uri::from(path_and_query))
}

/// A header name from an event; names HTTP cannot carry are a malformed event.
pub fn header_name(name: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        Error::malformed_event(format!("the event has an invalid header name {name:?}"))
    })
}

/// A header value from an event; CR, LF and NUL (request smuggling) are a malformed event.
pub fn header_value(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::malformed_event(
            "the event has a header value with a control character (CR, LF or NUL)",
        )
    })
}

/// The compact JSON of a raw event value (fit for a header: no line breaks).
pub fn compact_json(raw: &RawValue) -> Result<String, Error> {
    let value: serde_json::Value = serde_json::from_str(raw.get()).map_err(|err| {
        Error::malformed_event(format!("the event's request context is invalid: {err}"))
    })?;
    serde_json::to_string(&value).map_err(|err| Error::malformed_event(err.to_string()))
}

/// The parts of an app request, assembled by an adapter.
#[derive(Debug)]
pub struct RequestParts {
    /// The method.
    pub method: Method,
    /// The origin-form URI.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl RequestParts {
    /// The request, with `content-length` set to the body's length (overriding what the event
    /// claimed, so the two can never disagree; left out for an empty GET, HEAD, DELETE or OPTIONS
    /// that had none) and hop-by-hop `transfer-encoding` removed.
    pub fn into_request(mut self) -> Request<Body> {
        self.headers.remove(http::header::TRANSFER_ENCODING);
        let bodyless = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
        );
        if !self.body.is_empty() || !bodyless || self.headers.contains_key(CONTENT_LENGTH) {
            self.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        let mut request = Request::new(Body::full(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.headers_mut() = self.headers;
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_stay_exact_and_safe() {
        assert_eq!(
            build_uri("/a/b%20c", "x=1&x=2&y=%2F").unwrap().to_string(),
            "/a/b%20c?x=1&x=2&y=%2F"
        );
        assert_eq!(build_uri("", "").unwrap().to_string(), "/");
        assert_eq!(
            build_uri("/a b", "q=a b").unwrap().to_string(),
            "/a%20b?q=a%20b"
        );
        assert_eq!(build_uri("/é", "").unwrap().to_string(), "/%C3%A9");
        assert_eq!(build_uri("/x?y", "").unwrap().path(), "/x%3Fy");
        assert_eq!(build_uri("/x#frag", "").unwrap().path(), "/x%23frag");
        let odd = build_uri("//evil.example/x", "").unwrap();
        assert!(odd.host().is_none());
        assert_eq!(odd.path(), "//evil.example/x");
        let absolute = build_uri("http://evil.example/x", "").unwrap();
        assert!(absolute.host().is_none());
    }

    #[test]
    fn control_characters_are_rejected() {
        assert!(header_value("a\r\nx-injected: 1")
            .unwrap_err()
            .is_malformed_event());
        assert!(header_value("a\0b").is_err());
        assert!(header_name("bad name").is_err());
        assert!(header_name("X-Good").is_ok());
    }

    #[test]
    fn content_length_always_matches_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(
            http::header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let request = RequestParts {
            method: Method::POST,
            uri: Uri::from_static("/"),
            headers,
            body: Bytes::from("abc"),
        }
        .into_request();
        assert_eq!(request.headers()[CONTENT_LENGTH], "3");
        assert!(!request
            .headers()
            .contains_key(http::header::TRANSFER_ENCODING));
    }
}
