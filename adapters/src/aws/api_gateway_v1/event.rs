//! The event, as read from JSON, and the request made from it.

use std::borrow::Cow;

use http::header::HeaderValue;
use http::{HeaderMap, Method, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error, RequestContext};

use super::NAME;
use crate::common::{
    build_uri, compact_json, decode_event_body, encoded_query, escape_stray_percent, header_name,
    header_value, merge_values, MultiMap, OrderedMap, RequestParts,
};

/// The header carrying the event's request context to the app.
const REQUEST_CONTEXT_HEADER: &str = "x-amzn-request-context";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow)]
    http_method: Cow<'a, str>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    headers: OrderedMap<'a>,
    #[serde(borrow, default)]
    multi_value_headers: MultiMap<'a>,
    #[serde(borrow, default)]
    query_string_parameters: OrderedMap<'a>,
    #[serde(borrow, default)]
    multi_value_query_string_parameters: MultiMap<'a>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(default)]
    is_base64_encoded: Option<bool>,
    #[serde(borrow)]
    request_context: &'a RawValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Context<'a> {
    #[serde(borrow, default)]
    identity: Option<Identity<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(borrow, default)]
    source_ip: Option<Cow<'a, str>>,
}

/// `path` without the base path, cut at a segment boundary only.
fn strip_base_path<'p>(path: &'p str, base_path: Option<&str>) -> &'p str {
    let Some(base) = base_path else {
        return path;
    };
    match path.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// The app's request.
pub(super) fn to_request(event: &[u8], base_path: Option<&str>) -> Result<Request<Body>, Error> {
    let event: Event<'_> = serde_json::from_slice(event).map_err(|err| {
        Error::malformed_event(format!("not an API Gateway REST (v1) event: {err}"))
    })?;
    let context: Context<'_> =
        serde_json::from_str(event.request_context.get()).map_err(|err| {
            Error::malformed_event(format!("the event's requestContext is invalid: {err}"))
        })?;

    let method = Method::from_bytes(event.http_method.as_bytes()).map_err(|_| {
        Error::malformed_event(format!("invalid HTTP method {:?}", event.http_method))
    })?;
    let path = strip_base_path(event.path.as_deref().unwrap_or("/"), base_path);
    let query_pairs = merge_values(
        &event.query_string_parameters,
        &event.multi_value_query_string_parameters,
        false,
    );
    let uri = build_uri(&escape_stray_percent(path), &encoded_query(&query_pairs))?;

    let header_pairs = merge_values(&event.headers, &event.multi_value_headers, true);
    let mut headers = HeaderMap::with_capacity(header_pairs.len() + 2);
    for (name, value) in header_pairs {
        headers.append(header_name(name)?, header_value(value)?);
    }
    if let Some(ip) = context
        .identity
        .as_ref()
        .and_then(|i| i.source_ip.as_deref())
    {
        if !headers.contains_key("x-forwarded-for") {
            headers.insert("x-forwarded-for", header_value(ip)?);
        }
    }
    let context_json = compact_json(event.request_context)?;
    headers.insert(
        REQUEST_CONTEXT_HEADER,
        HeaderValue::from_bytes(context_json.as_bytes())
            .map_err(|_| Error::malformed_event("the request context cannot travel in a header"))?,
    );

    let body = match event.body.as_deref() {
        Some(body) => decode_event_body(body, event.is_base64_encoded.unwrap_or(false))?,
        None => bytes::Bytes::new(),
    };
    let mut request = RequestParts {
        method,
        uri,
        headers,
        body,
    }
    .into_request();
    request
        .extensions_mut()
        .insert(RequestContext::new(NAME, context_json));
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::strip_base_path;

    #[test]
    fn base_paths_are_stripped_at_segment_boundaries() {
        assert_eq!(strip_base_path("/api/users", Some("/api")), "/users");
        assert_eq!(strip_base_path("/api", Some("/api")), "/");
        assert_eq!(strip_base_path("/api/", Some("/api")), "/");
        assert_eq!(strip_base_path("/apix/users", Some("/api")), "/apix/users");
        assert_eq!(strip_base_path("/other", Some("/api")), "/other");
        assert_eq!(strip_base_path("/api/users", None), "/api/users");
    }
}
