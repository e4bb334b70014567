//! The Function URL front door (HTTP request → payload 2.0 event → HTTP answer) and the
//! Lambda Invoke endpoint, on the same port.

use std::hash::{DefaultHasher, Hasher};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use crate::answer::{FunctionError, HttpAnswer, Prelude};
use crate::config::{Config, InvokeMode};
use crate::core::{Core, InvokeOptions};
use crate::error::EmulatorError;
use crate::invocation::{InvocationStream, StreamEvent};
use crate::server::BoxBody;
use crate::util::{
    api_error, epoch_ms, full, json_response, read_limited, trace_id, uuid, ReadError, Utc,
};

/// Routes one front-door request.
pub(crate) async fn handle(
    core: Arc<Core>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<BoxBody> {
    let path = req.uri().path();
    if path.starts_with("/2015-03-31/functions/") && path.ends_with("/invocations") {
        if req.method() != Method::POST {
            return api_error(StatusCode::METHOD_NOT_ALLOWED, "InvalidRequest", "use POST");
        }
        return invoke_endpoint(core, req).await;
    }
    function_url(core, req, peer).await
}

fn too_large(limit: usize) -> Response<BoxBody> {
    let body = json!({
        "Type": "User",
        "message": format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
    });
    let mut resp = json_response(StatusCode::PAYLOAD_TOO_LARGE, body.to_string());
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("RequestEntityTooLargeException"),
    );
    resp
}

/// An id for the Function URL, stable for a function name (32 lowercase characters).
pub(crate) fn url_id(cfg: &Config) -> String {
    let mut out = String::new();
    for salt in [0u8, 1] {
        let mut h = DefaultHasher::new();
        h.write(cfg.function_name.as_bytes());
        h.write_u8(salt);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "yaml",
            "graphql",
            "csv",
        ]
        .iter()
        .any(|t| ct.contains(t))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Connection-level request headers that a Function URL does not pass on.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// Builds the Function URL event (payload format 2.0) for a request.
pub(crate) fn build_event(
    cfg: &Config,
    parts: &http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    local_port: u16,
    request_id: &str,
    trace: &str,
) -> Vec<u8> {
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();

    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if name == header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let forwarded = [
        ("x-forwarded-for", peer.ip().to_string()),
        ("x-forwarded-proto", "http".to_owned()),
        ("x-forwarded-port", local_port.to_string()),
        ("x-amzn-trace-id", trace.to_owned()),
    ];
    for (k, v) in forwarded {
        headers.insert(k.to_owned(), Value::String(v));
    }

    let mut query: Map<String, Value> = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }

    let id = url_id(cfg);
    let now = epoch_ms();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let protocol = match parts.version {
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    };

    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!("$default"));
    event.insert("rawPath".into(), json!(path));
    event.insert("rawQueryString".into(), json!(raw_query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        event.insert("queryStringParameters".into(), Value::Object(query));
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": "anonymous",
            "apiId": id,
            "domainName": format!("{id}.lambda-url.{}.on.aws", cfg.region),
            "domainPrefix": id,
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": protocol,
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": Utc::from_epoch_ms(now).clf(),
            "timeEpoch": now,
        }),
    );
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let base64 = if body.is_empty() {
        false
    } else {
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => {
                event.insert("body".into(), json!(text));
                false
            }
            _ => {
                event.insert(
                    "body".into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(body)),
                );
                true
            }
        }
    };
    event.insert("isBase64Encoded".into(), json!(base64));
    serde_json::to_vec(&Value::Object(event)).unwrap_or_default()
}

async fn function_url(
    core: Arc<Core>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<BoxBody> {
    let (parts, body) = req.into_parts();
    let limit = core.cfg.request_limit;
    let body = match read_limited(body, limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return too_large(limit),
        Err(ReadError::Io(e)) => return api_error(StatusCode::BAD_REQUEST, "InvalidRequest", &e),
    };
    let request_id = uuid();
    let trace = trace_id();
    let event = build_event(
        &core.cfg,
        &parts,
        &body,
        peer,
        core.url_addr.port(),
        &request_id,
        &trace,
    );
    let opts = InvokeOptions {
        trace_id: Some(trace.clone()),
        ..InvokeOptions::default()
    };
    let mut stream = match core.submit(Some(request_id.clone()), event.into(), opts, true, false) {
        Ok(s) => s,
        Err(EmulatorError::PayloadTooLarge { limit, .. }) => return too_large(limit),
        Err(e) => {
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                &e.to_string(),
            )
        }
    };
    let mut resp = match stream.next_event().await {
        Some(StreamEvent::Buffered(answer)) => match HttpAnswer::from_buffered(&answer) {
            Ok(a) => answer_response(a.status, &a.headers, &a.cookies, full(a.body)),
            Err(e) => bad_answer(&e),
        },
        Some(StreamEvent::StreamStarted {
            prelude,
            content_type,
        }) => {
            if core.cfg.invoke_mode == InvokeMode::Buffered {
                collected_stream(&core, prelude, content_type, stream).await
            } else {
                streaming_response(prelude, content_type, stream)
            }
        }
        Some(StreamEvent::Error(e)) => error_response(&e),
        _ => bad_answer("the function gave no answer"),
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&trace) {
        h.insert("x-amzn-trace-id", v);
    }
    resp
}

fn bad_answer(reason: &str) -> Response<BoxBody> {
    tracing::warn!("undecodable function answer: {reason}");
    let e = FunctionError::new("Runtime.InvalidResponse", reason);
    error_response(&e)
}

/// A failed invocation as the Function URL client sees it: 502 (504 for a timeout) with the
/// error JSON.
fn error_response(e: &FunctionError) -> Response<BoxBody> {
    let status = if e.is_timeout() {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::BAD_GATEWAY
    };
    let mut resp = json_response(status, e.payload.clone());
    if let Ok(v) = HeaderValue::from_str(&e.error_type) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

const SKIPPED: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

fn answer_response(
    status: u16,
    headers: &[(String, String)],
    cookies: &[String],
    body: BoxBody,
) -> Response<BoxBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let h = resp.headers_mut();
    for (name, value) in headers {
        if SKIPPED.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.append(n, v);
        }
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn stream_head(
    prelude: &Option<Prelude>,
    content_type: &Option<String>,
) -> (u16, Vec<(String, String)>, Vec<String>) {
    match prelude {
        Some(p) => (p.status_code, p.headers.clone(), p.cookies.clone()),
        None => (
            200,
            content_type
                .iter()
                .map(|ct| ("content-type".to_owned(), ct.clone()))
                .collect(),
            Vec::new(),
        ),
    }
}

fn streaming_response(
    prelude: Option<Prelude>,
    content_type: Option<String>,
    stream: InvocationStream,
) -> Response<BoxBody> {
    let (status, headers, cookies) = stream_head(&prelude, &content_type);
    answer_response(
        status,
        &headers,
        &cookies,
        EventBody {
            stream,
            done: false,
            sent_data: false,
            deferred: None,
        }
        .boxed(),
    )
}

/// `InvokeMode: BUFFERED` with a streaming function: the whole answer, then the client.
async fn collected_stream(
    core: &Core,
    prelude: Option<Prelude>,
    content_type: Option<String>,
    mut stream: InvocationStream,
) -> Response<BoxBody> {
    let (status, headers, cookies) = stream_head(&prelude, &content_type);
    let limit = core.cfg.response_limit;
    let mut body = BytesMut::new();
    while let Some(ev) = stream.next_event().await {
        match ev {
            StreamEvent::Chunk(_, data) => {
                body.extend_from_slice(&data);
                if body.len() > limit {
                    return error_response(&FunctionError::new(
                        "Function.ResponseSizeTooLarge",
                        format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
                    ));
                }
            }
            StreamEvent::Error(e) => return error_response(&e),
            _ => {}
        }
    }
    answer_response(status, &headers, &cookies, full(body.freeze()))
}

/// A response body fed by an invocation's stream; an error ends it abnormally.
struct EventBody {
    stream: InvocationStream,
    done: bool,
    /// A data frame was handed to hyper in the previous poll.
    sent_data: bool,
    /// An error held back for one poll, so that hyper flushes the data before it: hyper
    /// drops its unflushed write buffer when a body fails, and the client would lose the
    /// part the function did send.
    deferred: Option<io::Error>,
}

impl Body for EventBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(error) = self.deferred.take() {
            self.done = true;
            return Poll::Ready(Some(Err(error)));
        }
        if self.done {
            return Poll::Ready(None);
        }
        let sent_data = std::mem::take(&mut self.sent_data);
        loop {
            match self.stream.poll_next_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(StreamEvent::Chunk(_, data))) => {
                    if !data.is_empty() {
                        self.sent_data = true;
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                Poll::Ready(Some(StreamEvent::Error(e))) => {
                    tracing::warn!("stream ended with an error: {e}");
                    let error = io::Error::other(e);
                    if sent_data {
                        self.deferred = Some(error);
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    self.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(StreamEvent::Buffered(data))) => {
                    self.done = true;
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(Some(StreamEvent::StreamStarted { .. })) => {}
                Poll::Ready(Some(StreamEvent::End { .. })) | Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

async fn invoke_endpoint(core: Arc<Core>, req: Request<Incoming>) -> Response<BoxBody> {
    let (parts, body) = req.into_parts();
    let limit = core.cfg.request_limit;
    let event = match read_limited(body, limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return too_large(limit),
        Err(ReadError::Io(e)) => return api_error(StatusCode::BAD_REQUEST, "InvalidRequest", &e),
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let client_context = header("x-amz-client-context").map(|cc| {
        base64::engine::general_purpose::STANDARD
            .decode(cc)
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .unwrap_or_else(|| cc.to_owned())
    });
    let invocation_type = header("x-amz-invocation-type")
        .unwrap_or("RequestResponse")
        .to_owned();
    if invocation_type.eq_ignore_ascii_case("DryRun") {
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() = StatusCode::NO_CONTENT;
        return resp;
    }
    let opts = InvokeOptions {
        client_context,
        ..InvokeOptions::default()
    };
    let mut stream = match core.submit(None, event, opts, false, false) {
        Ok(s) => s,
        Err(EmulatorError::PayloadTooLarge { limit, .. }) => return too_large(limit),
        Err(e) => {
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                &e.to_string(),
            )
        }
    };
    let request_id = stream.request_id().to_owned();
    if invocation_type.eq_ignore_ascii_case("Event") {
        tokio::spawn(async move {
            let inv = stream.collect().await;
            if let Some(e) = inv.error() {
                tracing::warn!(request_id = %inv.request_id, "asynchronous invocation failed: {e}");
            }
        });
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() = StatusCode::ACCEPTED;
        set_invoke_headers(resp.headers_mut(), &request_id);
        return resp;
    }
    let mut resp = match stream.next_event().await {
        Some(StreamEvent::Buffered(answer)) => json_response(StatusCode::OK, answer),
        Some(StreamEvent::StreamStarted { content_type, .. }) => {
            let mut resp = Response::new(
                EventBody {
                    stream,
                    done: false,
                    sent_data: false,
                    deferred: None,
                }
                .boxed(),
            );
            if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
                resp.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            resp
        }
        Some(StreamEvent::Error(e)) => {
            let mut resp = json_response(StatusCode::OK, e.payload.clone());
            resp.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            resp
        }
        _ => api_error(StatusCode::BAD_GATEWAY, "ServiceException", "no answer"),
    };
    set_invoke_headers(resp.headers_mut(), &request_id);
    resp
}

fn set_invoke_headers(h: &mut HeaderMap, request_id: &str) {
    h.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_shape() {
        let req = Request::builder()
            .method("POST")
            .uri("/echo/hello?a=1&a=2&b=%20x")
            .header("host", "127.0.0.1:9000")
            .header("cookie", "a=1; b=2")
            .header("x-multi", "one")
            .header("x-multi", "two")
            .header("content-type", "application/octet-stream")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let cfg = Config::default();
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let event = build_event(&cfg, &parts, &[0xff, 0x00], peer, 9000, "rid", "Root=1-x");
        let v: Value = serde_json::from_slice(&event).unwrap();
        assert_eq!(v["rawPath"], "/echo/hello");
        assert_eq!(v["rawQueryString"], "a=1&a=2&b=%20x");
        assert_eq!(v["queryStringParameters"]["a"], "1,2");
        assert_eq!(v["queryStringParameters"]["b"], " x");
        assert_eq!(v["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(v["headers"]["x-multi"], "one,two");
        assert!(v["headers"].get("cookie").is_none());
        assert_eq!(v["isBase64Encoded"], true);
        assert_eq!(v["body"], "/wA=");
        assert_eq!(v["requestContext"]["http"]["method"], "POST");
        assert_eq!(v["requestContext"]["requestId"], "rid");
        assert!(v["requestContext"]["domainName"]
            .as_str()
            .unwrap()
            .ends_with(".lambda-url.us-east-1.on.aws"));
    }
}
