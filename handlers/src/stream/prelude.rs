//! The JSON prelude of a streamed HTTP answer: `{"statusCode":..,"headers":{..},"cookies":[..]}`.

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};

/// The prelude Lambda expects before the eight NUL bytes of a streamed HTTP answer.
///
/// - `statusCode`: the status as a number;
/// - `headers`: every header but `set-cookie`, in the order of the map; a header with one value
///   is a JSON string, a repeated header an array of strings (every value kept, in order);
/// - `cookies`: every `set-cookie` value, in order; always present, `[]` when there is none
///   (some local emulators reject a prelude without it).
///
/// Values that are not UTF-8 are converted lossily.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// let mut headers = HeaderMap::new();
/// headers.append("content-type", "text/plain".parse().unwrap());
/// headers.append("set-cookie", "a=1".parse().unwrap());
/// let prelude = serverless_adapter_handlers::encode_prelude(StatusCode::OK, &headers);
/// assert_eq!(
///     &prelude[..],
///     br#"{"statusCode":200,"headers":{"content-type":"text/plain"},"cookies":["a=1"]}"#
/// );
/// ```
pub fn encode_prelude(status: StatusCode, headers: &HeaderMap) -> Bytes {
    let mut out = Vec::with_capacity(64 + 48 * headers.len());
    out.extend_from_slice(b"{\"statusCode\":");
    out.extend_from_slice(status.as_str().as_bytes());
    out.extend_from_slice(b",\"headers\":{");
    let mut first = true;
    for name in headers.keys() {
        if name == SET_COOKIE {
            continue;
        }
        let mut values = headers.get_all(name).iter();
        let (Some(first_value), second) = (values.next(), values.next()) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        push_json_string(&mut out, name.as_str());
        out.push(b':');
        match second {
            None => push_header_value(&mut out, first_value),
            Some(second) => {
                out.push(b'[');
                push_header_value(&mut out, first_value);
                for value in std::iter::once(second).chain(values) {
                    out.push(b',');
                    push_header_value(&mut out, value);
                }
                out.push(b']');
            }
        }
    }
    out.extend_from_slice(b"},\"cookies\":[");
    for (index, cookie) in headers.get_all(SET_COOKIE).iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        push_header_value(&mut out, cookie);
    }
    out.extend_from_slice(b"]}");
    Bytes::from(out)
}

fn push_header_value(out: &mut Vec<u8>, value: &HeaderValue) {
    push_json_string(out, &String::from_utf8_lossy(value.as_bytes()));
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        start = index + 1;
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn cookies_move_out_and_repeated_headers_stay_arrays() {
        let map = headers(&[
            ("content-type", b"application/json"),
            ("set-cookie", b"a=1; Path=/"),
            ("x-multi", b"one"),
            ("set-cookie", b"b=2; Path=/"),
            ("x-multi", b"two"),
        ]);
        let prelude = encode_prelude(StatusCode::OK, &map);
        assert_eq!(
            std::str::from_utf8(&prelude).unwrap(),
            r#"{"statusCode":200,"headers":{"content-type":"application/json","x-multi":["one","two"]},"cookies":["a=1; Path=/","b=2; Path=/"]}"#
        );
        let parsed: serde_json::Value = serde_json::from_slice(&prelude).unwrap();
        assert_eq!(parsed["headers"]["x-multi"][1], "two");
    }

    #[test]
    fn no_headers_still_has_cookies() {
        assert_eq!(
            &encode_prelude(StatusCode::NO_CONTENT, &HeaderMap::new())[..],
            br#"{"statusCode":204,"headers":{},"cookies":[]}"#
        );
    }

    #[test]
    fn odd_values_are_valid_json() {
        let map = headers(&[
            ("x-quote", b"say \"hi\" \\ there\tnow"),
            ("x-latin1", b"caf\xe9"),
        ]);
        let prelude = encode_prelude(StatusCode::IM_A_TEAPOT, &map);
        let parsed: serde_json::Value = serde_json::from_slice(&prelude).unwrap();
        assert_eq!(parsed["statusCode"], 418);
        assert_eq!(parsed["headers"]["x-quote"], "say \"hi\" \\ there\tnow");
        assert_eq!(parsed["headers"]["x-latin1"], "caf\u{fffd}");
        assert_eq!(parsed["cookies"], serde_json::json!([]));
    }

    #[test]
    fn control_characters_are_escaped() {
        let text = "a\u{0}b\u{1f}c\u{7f}d\ne\"f\\g\u{e9}";
        let mut out = Vec::new();
        push_json_string(&mut out, text);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "\"a\\u0000b\\u001fc\\u007fd\\ne\\\"f\\\\g\u{e9}\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }
}
