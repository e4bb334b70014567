//! The event, as read from JSON, and the request made from it.

use std::borrow::Cow;

use http::header::{HeaderValue, HOST};
use http::{HeaderMap, Method, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Body, Error, RequestContext};

use super::NAME;
use crate::common::{
    build_uri, compact_json, decode_event_body, encoded_query, header_name, header_value,
    merge_values, push_query_component, scalar_text, MultiMap, OrderedMap, RequestParts,
};

/// The header carrying the event's request context to the app.
const REQUEST_CONTEXT_HEADER: &str = "x-amzn-request-context";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
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
    #[serde(borrow)]
    route_key: Cow<'a, str>,
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    connection_id: Cow<'a, str>,
    #[serde(borrow, default)]
    message_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    domain_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    disconnect_status_code: Option<&'a RawValue>,
    #[serde(borrow, default)]
    disconnect_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    identity: Option<Identity<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(borrow, default)]
    source_ip: Option<Cow<'a, str>>,
}

/// `<prefix>/<route key without its leading $, percent-encoded as one segment>`.
fn route_path(prefix: &str, route_key: &str) -> String {
    let prefix = prefix.trim().trim_end_matches('/');
    let mut path = String::with_capacity(prefix.len() + route_key.len() + 2);
    if !prefix.is_empty() && !prefix.starts_with('/') {
        path.push('/');
    }
    path.push_str(prefix);
    path.push('/');
    push_query_component(&mut path, route_key.strip_prefix('$').unwrap_or(route_key));
    path
}

/// The app's request.
pub(super) fn to_request(event: &[u8], path_prefix: &str) -> Result<Request<Body>, Error> {
    let event: Event<'_> = serde_json::from_slice(event).map_err(|err| {
        Error::malformed_event(format!("not an API Gateway WebSocket event: {err}"))
    })?;
    let context: Context<'_> =
        serde_json::from_str(event.request_context.get()).map_err(|err| {
            Error::malformed_event(format!("the event's requestContext is invalid: {err}"))
        })?;

    let query_pairs = merge_values(
        &event.query_string_parameters,
        &event.multi_value_query_string_parameters,
        false,
    );
    let uri = build_uri(
        &route_path(path_prefix, &context.route_key),
        &encoded_query(&query_pairs),
    )?;

    let header_pairs = merge_values(&event.headers, &event.multi_value_headers, true);
    let mut headers = HeaderMap::with_capacity(header_pairs.len() + 10);
    for (name, value) in header_pairs {
        headers.append(header_name(name)?, header_value(value)?);
    }
    let mut set = |name: &'static str, value: Option<&str>| -> Result<(), Error> {
        match value {
            Some(value) => {
                headers.insert(name, header_value(value)?);
            }
            None => {
                headers.remove(name);
            }
        }
        Ok(())
    };
    set("x-websocket-connection-id", Some(&context.connection_id))?;
    set("x-websocket-route-key", Some(&context.route_key))?;
    set("x-websocket-event-type", Some(&context.event_type))?;
    set("x-websocket-message-id", context.message_id.as_deref())?;
    set("x-websocket-domain-name", context.domain_name.as_deref())?;
    set("x-websocket-stage", context.stage.as_deref())?;
    set(
        "x-websocket-disconnect-status-code",
        context
            .disconnect_status_code
            .and_then(scalar_text)
            .as_deref(),
    )?;
    set(
        "x-websocket-disconnect-reason",
        context.disconnect_reason.as_deref(),
    )?;
    if let Some(domain) = context.domain_name.as_deref() {
        if !headers.contains_key(HOST) {
            headers.insert(HOST, header_value(domain)?);
        }
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
        method: Method::POST,
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
    use super::route_path;

    #[test]
    fn route_keys_become_one_segment() {
        assert_eq!(route_path("/ws", "$connect"), "/ws/connect");
        assert_eq!(route_path("/ws/", "$default"), "/ws/default");
        assert_eq!(route_path("socket", "sendmessage"), "/socket/sendmessage");
        assert_eq!(route_path("", "$disconnect"), "/disconnect");
        assert_eq!(route_path("/", "a/b c"), "/a%2Fb%20c");
    }
}
