//! What the proxy changes in requests and responses: hop-by-hop headers, the `x-amzn-*`
//! headers it owns, the base path and the authorization source.

use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONNECTION};
use http::uri::PathAndQuery;
use http::HeaderMap;
use serde_json::json;
use serverless_adapter_core::{LambdaContext, RequestContext};

/// The event's request context, as JSON.
pub const REQUEST_CONTEXT_HEADER: &str = "x-amzn-request-context";
/// The invocation's Lambda context, as JSON.
pub const LAMBDA_CONTEXT_HEADER: &str = "x-amzn-lambda-context";
/// The X-Ray trace header of the invocation.
pub const TRACE_ID_HEADER: &str = "x-amzn-trace-id";
/// The tenant of the invocation (tenant-isolated functions).
pub const TENANT_ID_HEADER: &str = "x-amz-tenant-id";

/// Headers that describe one connection, not the message, and never cross a proxy
/// (RFC 9110 §7.6.1), plus `expect` (the body is already whole when it reaches the proxy).
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// Removes hop-by-hop headers: the fixed list, every `proxy-*` header, and the headers the
/// `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut named: Vec<HeaderName> = Vec::new();
    for value in headers.get_all(CONNECTION) {
        if let Ok(text) = value.to_str() {
            named.extend(
                text.split(',')
                    .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok()),
            );
        }
    }
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if headers
        .keys()
        .any(|name| name.as_str().starts_with("proxy-"))
    {
        let proxies: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("proxy-"))
            .cloned()
            .collect();
        for name in proxies {
            headers.remove(name);
        }
    }
}

/// Moves the values of `source` to `authorization`, replacing any `authorization` sent.
pub(crate) fn rename_authorization(headers: &mut HeaderMap, source: &HeaderName) {
    if *source == AUTHORIZATION {
        return;
    }
    let http::header::Entry::Occupied(entry) = headers.entry(source) else {
        return;
    };
    let (_, values) = entry.remove_entry_mult();
    let values: Vec<HeaderValue> = values.collect();
    headers.remove(AUTHORIZATION);
    for value in values {
        headers.append(AUTHORIZATION, value);
    }
}

/// The path with `base` removed when the path starts with it at a segment boundary:
/// with base `/api`, `/api/users?x=1` becomes `/users?x=1` and `/api` becomes `/`, while
/// `/apiary` is left alone. `base` is normalized (`/x/y`, no trailing slash).
pub(crate) fn remove_base_path(path_and_query: &PathAndQuery, base: &str) -> Option<PathAndQuery> {
    let path = path_and_query.path();
    let rest = path.strip_prefix(base)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let text = match path_and_query.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    text.parse().ok()
}

/// The JSON of the `x-amzn-lambda-context` header: the fields the Lambda Web Adapter sends
/// (as `lambda_http`'s context serializes them), plus the tenant id.
pub(crate) fn lambda_context_json(context: &LambdaContext) -> String {
    let config = &context.config;
    json!({
        "request_id": context.request_id,
        "deadline": context.deadline_ms().unwrap_or(0),
        "invoked_function_arn": context.invoked_function_arn,
        "xray_trace_id": context.trace_id,
        "client_context": context.client_context,
        "identity": context.cognito_identity,
        "tenant_id": context.tenant_id,
        "env_config": {
            "function_name": config.function_name,
            "memory": config.memory_size_mb.unwrap_or(0),
            "version": config.function_version,
            "log_stream": config.log_stream_name,
            "log_group": config.log_group_name,
        },
    })
    .to_string()
}

/// Sets the headers the proxy owns, overwriting whatever a client sent under those names:
/// the request context, the Lambda context, the trace id and the tenant id. A header with no
/// value to carry is removed (so a client cannot spoof it), except the trace id, which is
/// left as the event had it when Lambda gives none.
pub(crate) fn set_context_headers(
    headers: &mut HeaderMap,
    lambda: Option<&LambdaContext>,
    request: Option<&RequestContext>,
) {
    set_or_remove(
        headers,
        REQUEST_CONTEXT_HEADER,
        request.map(|context| context.json().to_owned()),
    );
    set_or_remove(
        headers,
        LAMBDA_CONTEXT_HEADER,
        lambda.map(lambda_context_json),
    );
    if let Some(trace) = lambda.and_then(|context| context.trace_id.clone()) {
        set_or_remove(headers, TRACE_ID_HEADER, Some(trace));
    }
    set_or_remove(
        headers,
        TENANT_ID_HEADER,
        lambda.and_then(|context| context.tenant_id.clone()),
    );
}

fn set_or_remove(headers: &mut HeaderMap, name: &'static str, value: Option<String>) {
    match value.and_then(|value| {
        HeaderValue::from_str(&value).ok().or_else(|| {
            tracing::warn!(
                header = name,
                "a value cannot travel in a header; it is left out"
            );
            None
        })
    }) {
        Some(value) => {
            headers.insert(name, value);
        }
        None => {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn hop_by_hop_headers_are_stripped() {
        let mut headers = map(&[
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("trailer", "x-checksum"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("expect", "100-continue"),
            ("x-private", "1"),
            ("x-kept", "2"),
            ("content-type", "text/plain"),
            ("host", "example.com"),
        ]);
        strip_hop_by_hop(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(|n| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-type", "host", "x-kept"]);
    }

    #[test]
    fn authorization_source_is_renamed() {
        let source = HeaderName::from_static("x-api-auth");
        let mut headers = map(&[("x-api-auth", "Bearer a"), ("authorization", "Basic old")]);
        rename_authorization(&mut headers, &source);
        assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 1);
        assert_eq!(headers[AUTHORIZATION], "Bearer a");
        assert!(!headers.contains_key("x-api-auth"));

        let mut untouched = map(&[("authorization", "Basic old")]);
        rename_authorization(&mut untouched, &source);
        assert_eq!(untouched[AUTHORIZATION], "Basic old");
    }

    #[test]
    fn base_path_is_removed_at_a_segment_boundary() {
        let cases = [
            ("/api/users?x=1", Some("/users?x=1")),
            ("/api", Some("/")),
            ("/api?q", Some("/?q")),
            ("/api/", Some("/")),
            ("/apiary", None),
            ("/other/api", None),
            ("/", None),
        ];
        for (path, expected) in cases {
            let path: PathAndQuery = path.parse().unwrap();
            let got = remove_base_path(&path, "/api");
            assert_eq!(got.as_ref().map(|p| p.as_str()), expected, "{path}");
        }
        let nested: PathAndQuery = "/v1/api/x".parse().unwrap();
        assert_eq!(remove_base_path(&nested, "/v1/api").unwrap().as_str(), "/x");
    }

    fn context() -> LambdaContext {
        let mut context = LambdaContext::for_request_id("req-1");
        context.deadline = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
        context.invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:f".into();
        context.trace_id = Some("Root=1-abc".into());
        context.client_context = Some(json!({"custom": {"k": "é"}}));
        context.cognito_identity = Some(json!({"identity_id": "i"}));
        context.tenant_id = Some("tenant-1".into());
        let mut config = serverless_adapter_core::FunctionConfig::default();
        config.function_name = "f".into();
        config.memory_size_mb = Some(128);
        context.config = Arc::new(config);
        context
    }

    #[test]
    fn lambda_context_has_the_lwa_fields() {
        let value: serde_json::Value =
            serde_json::from_str(&lambda_context_json(&context())).unwrap();
        assert_eq!(value["request_id"], "req-1");
        assert_eq!(value["deadline"], 1_700_000_000_123u64);
        assert_eq!(
            value["invoked_function_arn"],
            "arn:aws:lambda:us-east-1:1:function:f"
        );
        assert_eq!(value["xray_trace_id"], "Root=1-abc");
        assert_eq!(value["client_context"]["custom"]["k"], "é");
        assert_eq!(value["identity"]["identity_id"], "i");
        assert_eq!(value["tenant_id"], "tenant-1");
        assert_eq!(value["env_config"]["function_name"], "f");
        assert_eq!(value["env_config"]["memory"], 128);
    }

    #[test]
    fn context_headers_overwrite_spoofed_values() {
        let mut headers = map(&[
            (REQUEST_CONTEXT_HEADER, "{\"spoofed\":true}"),
            (LAMBDA_CONTEXT_HEADER, "{\"spoofed\":true}"),
            (TRACE_ID_HEADER, "Root=spoofed"),
            (TENANT_ID_HEADER, "spoofed"),
        ]);
        let request = RequestContext::new("test", "{\"real\":1}");
        set_context_headers(&mut headers, Some(&context()), Some(&request));
        assert_eq!(headers[REQUEST_CONTEXT_HEADER], "{\"real\":1}");
        let lambda: serde_json::Value =
            serde_json::from_slice(headers[LAMBDA_CONTEXT_HEADER].as_bytes()).unwrap();
        assert_eq!(lambda["request_id"], "req-1");
        assert_eq!(headers[TRACE_ID_HEADER], "Root=1-abc");
        assert_eq!(headers[TENANT_ID_HEADER], "tenant-1");
        for name in [
            REQUEST_CONTEXT_HEADER,
            LAMBDA_CONTEXT_HEADER,
            TRACE_ID_HEADER,
            TENANT_ID_HEADER,
        ] {
            assert_eq!(headers.get_all(name).iter().count(), 1, "{name}");
        }

        let mut spoofed = map(&[
            (REQUEST_CONTEXT_HEADER, "{}"),
            (LAMBDA_CONTEXT_HEADER, "{}"),
            (TENANT_ID_HEADER, "x"),
            (TRACE_ID_HEADER, "Root=from-the-event"),
        ]);
        set_context_headers(
            &mut spoofed,
            Some(&LambdaContext::for_request_id("r")),
            None,
        );
        assert!(!spoofed.contains_key(REQUEST_CONTEXT_HEADER));
        assert!(!spoofed.contains_key(TENANT_ID_HEADER));
        assert_eq!(spoofed[TRACE_ID_HEADER], "Root=from-the-event");
        let lambda: serde_json::Value =
            serde_json::from_slice(spoofed[LAMBDA_CONTEXT_HEADER].as_bytes()).unwrap();
        assert_eq!(lambda["request_id"], "r");
    }
}
