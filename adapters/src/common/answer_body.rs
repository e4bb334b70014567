//! Bodies in events and answers: text as is, anything else as base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::HeaderMap;
use serverless_adapter_core::Error;

/// A body ready for a JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerBody {
    /// The text, or the base64 of the bytes.
    pub body: String,
    /// Whether `body` is base64.
    pub is_base64_encoded: bool,
}

/// Whether a content type is text that can travel in a JSON string as is:
/// `text/*`, JSON, JavaScript, XML, YAML, form data and their `+json`/`+xml` variants.
pub fn is_text_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind == "text"
        || matches!(
            subtype,
            "json"
                | "javascript"
                | "ecmascript"
                | "xml"
                | "yaml"
                | "x-yaml"
                | "x-www-form-urlencoded"
                | "graphql"
        )
        || subtype.ends_with("+json")
        || subtype.ends_with("+xml")
        || subtype.ends_with("+yaml")
}

/// Encodes a response body for a JSON answer: as text when the content type is text-like, the
/// bytes are UTF-8 and there is no `content-encoding`; otherwise as base64. With no content
/// type at all, UTF-8 bodies travel as text.
pub fn encode_answer_body(headers: &HeaderMap, body: &[u8]) -> AnswerBody {
    let encoded = headers.contains_key(CONTENT_ENCODING);
    let text_type = match headers.get(CONTENT_TYPE) {
        Some(value) => value.to_str().map(is_text_content_type).unwrap_or(false),
        None => true,
    };
    match std::str::from_utf8(body) {
        Ok(text) if text_type && !encoded => AnswerBody {
            body: text.to_owned(),
            is_base64_encoded: false,
        },
        _ => AnswerBody {
            body: STANDARD.encode(body),
            is_base64_encoded: true,
        },
    }
}

/// Decodes an event's body: base64 when the event says so (invalid base64 is a malformed
/// event), the text's bytes otherwise.
pub fn decode_event_body(body: &str, is_base64_encoded: bool) -> Result<Bytes, Error> {
    if is_base64_encoded {
        STANDARD
            .decode(body.trim())
            .map(Bytes::from)
            .map_err(|err| {
                Error::malformed_event(format!(
                    "the event's body is marked base64 but is not: {err}"
                ))
            })
    } else {
        Ok(Bytes::copy_from_slice(body.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn text_types() {
        for text in [
            "text/plain",
            "text/html; charset=utf-8",
            "application/json",
            "application/problem+json",
            "application/javascript",
            "image/svg+xml",
            "application/x-yaml",
            "TEXT/CSV",
        ] {
            assert!(is_text_content_type(text), "{text}");
        }
        for binary in [
            "application/octet-stream",
            "image/png",
            "application/pdf",
            "",
            "json",
        ] {
            assert!(!is_text_content_type(binary), "{binary}");
        }
    }

    #[test]
    fn bodies_are_text_or_base64() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(
            encode_answer_body(&headers, b"{}"),
            AnswerBody {
                body: "{}".into(),
                is_base64_encoded: false
            }
        );
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(encode_answer_body(&headers, b"{}").is_base64_encoded);
        headers.clear();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
        assert_eq!(encode_answer_body(&headers, &[0, 159]).body, "AJ8=");
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(
            encode_answer_body(&headers, &[0xff, 0xfe]).is_base64_encoded,
            "invalid UTF-8 is base64"
        );
        assert!(!encode_answer_body(&HeaderMap::new(), b"plain").is_base64_encoded);
    }

    #[test]
    fn event_bodies_decode_or_fail_cleanly() {
        assert_eq!(&decode_event_body("AJ8=", true).unwrap()[..], &[0, 159]);
        assert_eq!(&decode_event_body("hi", false).unwrap()[..], b"hi");
        assert!(decode_event_body("%%%", true)
            .unwrap_err()
            .is_malformed_event());
    }
}
