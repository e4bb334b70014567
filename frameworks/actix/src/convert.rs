//! Requests and responses between the `http` 1.x types of core and actix's (`http` 0.2).

use actix_http::body::BodySize;
use actix_http::header::{
    HeaderName as ActixName, HeaderValue as ActixValue, CONTENT_LENGTH as ACTIX_CONTENT_LENGTH,
    TRANSFER_ENCODING as ACTIX_TRANSFER_ENCODING,
};
use actix_http::{
    HttpMessage as _, Method as ActixMethod, Payload, ResponseHead, Uri as ActixUri,
    Version as ActixVersion,
};
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use http::{Request, Response, StatusCode, Version};
use http_body::Body as _;
use serverless_adapter_core::{Body, BoxError, LambdaContext, RequestContext};

use crate::body::PayloadStream;
use crate::extract::OriginalHeaders;

/// The actix request for `request`: same method, URI, version and headers, the body streamed
/// as its payload, and the Lambda context, the event's request context and the headers in
/// their original order ([`OriginalHeaders`]) as extensions.
pub(crate) fn to_actix(request: Request<Body>) -> Result<actix_http::Request, BoxError> {
    let (mut parts, body) = request.into_parts();
    let payload = if body.is_end_stream() {
        Payload::None
    } else {
        Payload::from(Box::pin(PayloadStream(body)) as actix_http::BoxedPayloadStream)
    };
    let mut request = actix_http::Request::with_payload(payload);
    let head = request.head_mut();
    head.method = ActixMethod::from_bytes(parts.method.as_str().as_bytes())
        .map_err(|error| format!("method {} is not valid for actix: {error}", parts.method))?;
    head.uri = ActixUri::try_from(parts.uri.to_string())
        .map_err(|error| format!("URI {} is not valid for actix: {error}", parts.uri))?;
    head.version = match parts.version {
        Version::HTTP_09 => ActixVersion::HTTP_09,
        Version::HTTP_10 => ActixVersion::HTTP_10,
        Version::HTTP_2 => ActixVersion::HTTP_2,
        Version::HTTP_3 => ActixVersion::HTTP_3,
        _ => ActixVersion::HTTP_11,
    };
    head.headers.reserve(parts.headers.len());
    for (name, value) in &parts.headers {
        // Both `http` versions accept the same names and values.
        let name = ActixName::from_bytes(name.as_str().as_bytes())
            .map_err(|error| format!("header name {name} is not valid for actix: {error}"))?;
        let value = ActixValue::from_bytes(value.as_bytes()).map_err(|error| {
            format!("the value of header {name} is not valid for actix: {error}")
        })?;
        head.headers.append(name, value);
    }
    let mut extensions = request.extensions_mut();
    if let Some(context) = parts.extensions.remove::<LambdaContext>() {
        extensions.insert(context);
    }
    if let Some(context) = parts.extensions.remove::<RequestContext>() {
        extensions.insert(context);
    }
    extensions.insert(OriginalHeaders(parts.headers));
    drop(extensions);
    Ok(request)
}

/// The `http` head of an actix response, and whether its body is sent, as actix's HTTP/1
/// server would frame it: no body for `HEAD` requests, `1xx`, `204` and `304`; a
/// `content-length` from the body's size (kept as the app set it on a `304` or an unchunked
/// stream, dropped for `1xx` and `204`); no `transfer-encoding`, which Lambda answers do not use.
pub(crate) fn response_parts(
    head: &ResponseHead,
    size: BodySize,
    head_only: bool,
) -> Result<(http::response::Parts, bool), BoxError> {
    let status = StatusCode::from_u16(head.status.as_u16())
        .map_err(|error| format!("status {} is not valid: {error}", head.status))?;
    let bodiless_status = status.is_informational() || status == StatusCode::NO_CONTENT;
    let not_modified = status == StatusCode::NOT_MODIFIED;
    let keep_content_length =
        not_modified || (size == BodySize::Stream && !head.chunked() && !bodiless_status);
    let (mut parts, ()) = Response::new(()).into_parts();
    parts.status = status;
    parts.headers.reserve(head.headers.len());
    for (name, value) in head.headers.iter() {
        if *name == ACTIX_TRANSFER_ENCODING
            || (*name == ACTIX_CONTENT_LENGTH && !keep_content_length)
        {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_str().as_bytes())
            .map_err(|error| format!("response header name {name} is not valid: {error}"))?;
        let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|error| {
            format!("the value of response header {name} is not valid: {error}")
        })?;
        parts.headers.append(name, value);
    }
    if let (BodySize::Sized(length), false, false) = (size, bodiless_status, not_modified) {
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    let has_body = !head_only
        && !bodiless_status
        && !not_modified
        && !matches!(size, BodySize::None | BodySize::Sized(0));
    Ok((parts, has_body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::StatusCode as ActixStatus;

    fn head(status: u16, headers: &[(&'static str, &'static str)]) -> ResponseHead {
        let mut head = ResponseHead::new(ActixStatus::from_u16(status).unwrap());
        for (name, value) in headers {
            head.headers
                .append(ActixName::from_static(name), ActixValue::from_static(value));
        }
        head
    }

    fn framed(
        status: u16,
        headers: &[(&'static str, &'static str)],
        size: BodySize,
        head_only: bool,
    ) -> (Vec<String>, bool) {
        let (parts, has_body) = response_parts(&head(status, headers), size, head_only).unwrap();
        let mut headers: Vec<String> = parts
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        headers.sort();
        (headers, has_body)
    }

    #[test]
    fn responses_are_framed_as_actix_frames_them() {
        let sized = BodySize::Sized(5);
        assert_eq!(
            framed(200, &[("x-a", "1"), ("x-a", "2")], sized, false),
            (
                vec!["content-length: 5".into(), "x-a: 1".into(), "x-a: 2".into()],
                true
            )
        );
        // A wrong length set by the app is replaced, a transfer-encoding dropped.
        assert_eq!(
            framed(
                200,
                &[("content-length", "99"), ("transfer-encoding", "chunked")],
                sized,
                false
            ),
            (vec!["content-length: 5".into()], true)
        );
        assert_eq!(
            framed(200, &[], BodySize::Sized(0), false),
            (vec!["content-length: 0".into()], false)
        );
        assert_eq!(framed(200, &[], BodySize::Stream, false), (vec![], true));
        assert_eq!(framed(200, &[], BodySize::None, false), (vec![], false));
        // HEAD: the length of the body not sent.
        assert_eq!(
            framed(200, &[], sized, true),
            (vec!["content-length: 5".into()], false)
        );
        assert_eq!(
            framed(204, &[("content-length", "0")], BodySize::Sized(0), false),
            (vec![], false)
        );
        assert_eq!(
            framed(304, &[("content-length", "7")], BodySize::Sized(0), false),
            (vec!["content-length: 7".into()], false)
        );
    }
}
