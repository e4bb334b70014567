//! The event, as read from JSON, and the request made from it.

use std::borrow::Cow;

use http::header::HeaderValue;
use http::{HeaderMap, Method, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error, RequestContext};

use super::NAME;
use crate::common::{
    build_uri, compact_json, decode_event_body, header_name, header_value, merge_values, raw_query,
    MultiMap, OrderedMap, RequestParts,
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
    multi_value_headers: Option<MultiMap<'a>>,
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

/// The app's request, and whether the target group sends multi-value headers.
pub(super) fn to_request(event: &[u8]) -> Result<(Request<Body>, bool), Error> {
    let event: Event<'_> = serde_json::from_slice(event)
        .map_err(|err| Error::malformed_event(format!("not an ALB event: {err}")))?;
    let method = Method::from_bytes(event.http_method.as_bytes()).map_err(|_| {
        Error::malformed_event(format!("invalid HTTP method {:?}", event.http_method))
    })?;

    let multi_value = event.multi_value_headers.is_some();
    let no_multi = MultiMap::default();
    let multi_headers = event.multi_value_headers.as_ref().unwrap_or(&no_multi);
    let (query_single, query_multi) = if multi_value {
        (
            &OrderedMap::default(),
            &event.multi_value_query_string_parameters,
        )
    } else {
        (&event.query_string_parameters, &no_multi)
    };
    let query = raw_query(&merge_values(query_single, query_multi, false));
    let uri = build_uri(event.path.as_deref().unwrap_or("/"), &query)?;

    let header_pairs = merge_values(&event.headers, multi_headers, true);
    let mut headers = HeaderMap::with_capacity(header_pairs.len() + 1);
    for (name, value) in header_pairs {
        headers.append(header_name(name)?, header_value(value)?);
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
    Ok((request, multi_value))
}
