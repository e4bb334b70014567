//! Query strings and header lists rebuilt from the maps API Gateway and ALB send.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::OrderedMap;

/// Multi-value maps (`multiValueHeaders`, `multiValueQueryStringParameters`): each name with
/// its list of values. A `null` list reads as empty.
pub type MultiMap<'a> = OrderedMap<'a, Option<Vec<Cow<'a, str>>>>;

/// Appends `text` percent-encoded for one query component (a name or a value): every byte
/// but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) is encoded, spaces as `%20`.
pub fn push_query_component(out: &mut String, text: &str) {
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// The pairs of a multi-value map merged with its single-value twin, losing no value: every
/// value of `multi` in order, then each single value the multi-value map does not already hold
/// for that name. Names match ignoring ASCII case when `ignore_case` (headers), exactly
/// otherwise (query parameters).
pub fn merge_values<'m>(
    single: &'m OrderedMap<'_>,
    multi: &'m MultiMap<'_>,
    ignore_case: bool,
) -> Vec<(&'m str, &'m str)> {
    let same = |a: &str, b: &str| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(single.0.len() + multi.0.len());
    for (name, values) in multi.iter() {
        for value in values.iter().flatten() {
            pairs.push((name, value));
        }
    }
    for (name, value) in single.iter() {
        let known = multi.iter().any(|(multi_name, values)| {
            same(multi_name, name) && values.iter().flatten().any(|v| v == value)
        });
        if !known {
            pairs.push((name, value));
        }
    }
    pairs
}

/// A query string from decoded pairs, each name and value percent-encoded
/// (API Gateway REST and WebSocket APIs decode the parameters they send).
pub fn encoded_query(pairs: &[(&str, &str)]) -> String {
    let mut query = String::new();
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        push_query_component(&mut query, name);
        query.push('=');
        push_query_component(&mut query, value);
    }
    query
}

/// A query string from pairs that are already encoded, joined as they are
/// (ALB passes query parameters on exactly as the client sent them).
pub fn raw_query(pairs: &[(&str, &str)]) -> String {
    let mut query = String::new();
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(value);
    }
    query
}

/// A decoded path made safe for [`build_uri`](super::build_uri): a `%` that does not start a
/// percent-escape is encoded as `%25`, so the app decodes the path back to what the event held.
pub fn escape_stray_percent(path: &str) -> Cow<'_, str> {
    let bytes = path.as_bytes();
    let is_escape = |i: usize| {
        bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    if !(0..bytes.len()).any(|i| bytes[i] == b'%' && !is_escape(i)) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for (i, ch) in path.char_indices() {
        if ch == '%' && !is_escape(i) {
            out.push_str("%25");
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_encoded_and_pairs_merged() {
        let mut out = String::new();
        push_query_component(&mut out, "a b&c=d/é~");
        assert_eq!(out, "a%20b%26c%3Dd%2F%C3%A9~");

        let single: OrderedMap<'_> =
            serde_json::from_str(r#"{"X-Multi":"b","only":"1","x-multi":"c"}"#).unwrap();
        let multi: MultiMap<'_> =
            serde_json::from_str(r#"{"x-multi":["a","b"],"empty":null}"#).unwrap();
        assert_eq!(
            merge_values(&single, &multi, true),
            [
                ("x-multi", "a"),
                ("x-multi", "b"),
                ("only", "1"),
                ("x-multi", "c")
            ]
        );
        let single: OrderedMap<'_> = serde_json::from_str(r#"{"Q":"b"}"#).unwrap();
        let multi: MultiMap<'_> = serde_json::from_str(r#"{"q":["b"]}"#).unwrap();
        assert_eq!(
            merge_values(&single, &multi, false),
            [("q", "b"), ("Q", "b")]
        );

        assert_eq!(
            encoded_query(&[("a b", "1+1"), ("a b", ""), ("x", "é")]),
            "a%20b=1%2B1&a%20b=&x=%C3%A9"
        );
        assert_eq!(raw_query(&[("a", "%20"), ("b", "")]), "a=%20&b=");
        assert_eq!(encoded_query(&[]), "");
    }

    #[test]
    fn stray_percent_signs_are_escaped() {
        assert_eq!(escape_stray_percent("/a%20b"), "/a%20b");
        assert_eq!(escape_stray_percent("/100%"), "/100%25");
        assert_eq!(escape_stray_percent("/%zz/%4"), "/%25zz/%254");
        assert_eq!(escape_stray_percent("/é%"), "/é%25");
        assert!(matches!(escape_stray_percent("/plain"), Cow::Borrowed(_)));
    }
}
