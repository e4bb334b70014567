//! The event, as read from JSON, and the request made from it.

use std::borrow::Cow;

use http::header::{HeaderValue, COOKIE};
use http::{HeaderMap, Method, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error, LambdaContext, RequestContext};

use super::NAME;
use crate::common::{
    build_uri, compact_json, decode_event_body, header_name, header_value, OrderedMap, RequestParts,
};

/// The header carrying the event's request context to the app.
const REQUEST_CONTEXT_HEADER: &str = "x-amzn-request-context";

/// The fields read from a payload 2.0 event. Each but `requestContext` may be `null` or missing,
/// as in the events cargo-lambda's emulator sends (`"rawQueryString": null`, no `cookies`,
/// `"body": null`, a header whose value is `null`); the fields of other shapes it adds
/// (`httpMethod`, `resource`...) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow, default)]
    raw_path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    raw_query_string: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cookies: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    headers: OrderedMap<'a>,
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
    domain_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    http: HttpDescription<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpDescription<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    source_ip: Option<Cow<'a, str>>,
}

/// The app's request, and whether the event's caller can receive a stream.
pub(super) fn to_request(
    event: &[u8],
    _context: &LambdaContext,
) -> Result<(Request<Body>, bool), Error> {
    let event: Event<'_> = serde_json::from_slice(event).map_err(|err| {
        Error::malformed_event(format!("not an API Gateway v2 / Function URL event: {err}"))
    })?;
    let context: Context<'_> =
        serde_json::from_str(event.request_context.get()).map_err(|err| {
            Error::malformed_event(format!("the event's requestContext is invalid: {err}"))
        })?;

    let method = Method::from_bytes(context.http.method.as_bytes()).map_err(|_| {
        Error::malformed_event(format!("invalid HTTP method {:?}", context.http.method))
    })?;
    let uri = build_uri(
        event.raw_path.as_deref().unwrap_or("/"),
        event.raw_query_string.as_deref().unwrap_or(""),
    )?;

    let mut headers = HeaderMap::with_capacity(event.headers.0.len() + 3);
    for (name, value) in event.headers.iter() {
        headers.append(header_name(name)?, header_value(value)?);
    }
    if let Some(cookies) = event.cookies.as_ref().filter(|c| !c.is_empty()) {
        headers.insert(COOKIE, header_value(&cookies.join("; "))?);
    }
    if let Some(ip) = context.http.source_ip.as_deref() {
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
    let can_stream = context
        .domain_name
        .as_deref()
        .is_some_and(is_function_url_domain);

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
    Ok((request, can_stream))
}

/// Whether an event came from a Function URL (which can receive a stream) rather than an API
/// Gateway HTTP API (which cannot): Function URL domains are `<id>.lambda-url.<region>.on.aws`;
/// local emulators (cargo-lambda's) use `localhost` or a loopback address, which no API Gateway
/// event carries.
fn is_function_url_domain(domain: &str) -> bool {
    let host = domain.rsplit_once(':').map_or(domain, |(host, _)| host);
    domain.contains(".lambda-url.") || matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}
