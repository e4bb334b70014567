//! The reference app: a small axum [`Router`] with fixed behaviour, used by
//! every test and benchmark of the project.
//!
//! | Route | Behaviour |
//! |---|---|
//! | `GET /` | 200 `text/plain`, body `ok` |
//! | `ANY /echo`, `/echo/`, `/echo/{*rest}` | 200 `application/json` [`Echo`] of the request, plus two `set-cookie` and two `x-multi` headers |
//! | `GET /stream?chunks=N&interval_ms=M&size=B` | 200 `text/event-stream`, N events of B bytes (see [`stream_event`]), one frame each, M ms apart |
//! | `GET /bytes?size=N` | 200 `application/octet-stream`, `content-length: N`, byte i = [`pattern_byte`]`(i)`, lazily in 64 KiB frames |
//! | `GET /status/{code}` | that status, empty body; 400 if `code` is not a final status (200–999) |
//! | `GET /fail-mid-stream` | 200 `text/plain`, one frame `partial`, then a body error |
//! | `GET /sleep?ms=N` | waits N ms, then 200 `text/plain` `slept` |
//! | `GET /panic` | the handler panics with [`PANIC_MESSAGE`] |
//! | any other `POST` | 200 `application/json` `{"ok":true}`, or 500 `{"ok":false}` if the body contains `fail` |
//! | anything else | 404 (405 for a wrong method on a known path) |
//!
//! Query parameters are lenient: a missing, empty or unparsable value
//! (anything but a plain unsigned decimal integer) falls back to its
//! default; if a key is repeated, the last value wins. No size is capped and
//! no request body limit applies.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use serde::{Deserialize, Serialize};

/// Message of the panic raised by `GET /panic`.
pub const PANIC_MESSAGE: &str = "reference app panic";

/// Size of the body frames produced by `GET /bytes` (the last one may be shorter).
pub const BYTES_CHUNK_SIZE: usize = 64 * 1024;

/// Modulus of the `GET /bytes` pattern: byte `i` is `i % 251`.
pub const BYTES_PATTERN_MODULUS: u64 = 251;

/// Default number of events of `GET /stream`.
pub const DEFAULT_STREAM_CHUNKS: u64 = 5;

/// Default delay in milliseconds between events of `GET /stream`.
pub const DEFAULT_STREAM_INTERVAL_MS: u64 = 100;

/// Default size in bytes of each event of `GET /stream`.
pub const DEFAULT_STREAM_SIZE: usize = 16;

/// Default body size of `GET /bytes`.
pub const DEFAULT_BYTES_SIZE: u64 = 1024;

/// Default delay of `GET /sleep`.
pub const DEFAULT_SLEEP_MS: u64 = 0;

/// The JSON document returned by the echo routes, describing the request
/// exactly as the app received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    /// Request method, e.g. `GET`.
    pub method: String,
    /// URI path as received, percent-encoding untouched.
    pub path: String,
    /// Raw query string, or `""` if there is none.
    pub query: String,
    /// Headers as `[name, value]` pairs: names lowercase, repeated headers as
    /// separate pairs. Order follows `http::HeaderMap` iteration: names in
    /// order of first appearance, each name's values in received order.
    /// Values that are not valid UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// Standard (padded) base64 of the request body bytes.
    pub body_base64: String,
}

/// Builds the reference app.
pub fn router() -> Router {
    Router::new()
        .route("/", get(root).post(event))
        .route("/echo", any(echo))
        .route("/echo/", any(echo))
        .route("/echo/{*rest}", any(echo))
        .route("/stream", get(stream).post(event))
        .route("/bytes", get(bytes_route).post(event))
        .route("/status/{code}", get(status).post(event))
        .route("/fail-mid-stream", get(fail_mid_stream).post(event))
        .route("/sleep", get(sleep).post(event))
        .route("/panic", get(panic_route).post(event))
        .fallback(fallback)
}

/// Byte `i` of a `GET /bytes` body.
pub fn pattern_byte(i: u64) -> u8 {
    // The remainder is below 251, so the cast is lossless.
    (i % BYTES_PATTERN_MODULUS) as u8
}

/// Event `i` (0-based) of a `GET /stream` body for event size `size`:
/// `data: <i> <padding>\n\n`, padded with `x` to exactly `size` bytes, or
/// unpadded if `size` is smaller than the minimal event.
pub fn stream_event(i: u64, size: usize) -> String {
    let prefix = format!("data: {i} ");
    let padding = size.saturating_sub(prefix.len() + 2);
    let mut event = String::with_capacity(prefix.len() + padding + 2);
    event.push_str(&prefix);
    event.extend(std::iter::repeat_n('x', padding));
    event.push_str("\n\n");
    event
}

/// Last value of `key` in a raw query string, parsed as an unsigned integer.
fn query_param<T: std::str::FromStr>(query: Option<&str>, key: &str) -> Option<T> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then_some(v)
        })
        .next_back()?
        .parse()
        .ok()
}

fn with_content_type(content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

async fn root() -> Response {
    with_content_type("text/plain", Body::from("ok"))
}

async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let echo = Echo {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body_base64: base64::engine::general_purpose::STANDARD.encode(&body),
    };
    let mut headers = HeaderMap::new();
    let x_multi = HeaderName::from_static("x-multi");
    headers.append(SET_COOKIE, HeaderValue::from_static("a=1; Path=/"));
    headers.append(SET_COOKIE, HeaderValue::from_static("b=2; Path=/"));
    headers.append(x_multi.clone(), HeaderValue::from_static("one"));
    headers.append(x_multi, HeaderValue::from_static("two"));
    (headers, axum::Json(echo)).into_response()
}

async fn stream(RawQuery(query): RawQuery) -> Response {
    let query = query.as_deref();
    let chunks = query_param(query, "chunks").unwrap_or(DEFAULT_STREAM_CHUNKS);
    let interval = Duration::from_millis(
        query_param(query, "interval_ms").unwrap_or(DEFAULT_STREAM_INTERVAL_MS),
    );
    let size = query_param(query, "size").unwrap_or(DEFAULT_STREAM_SIZE);
    let events = futures_util::stream::unfold(0u64, move |i| async move {
        if i >= chunks {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let event = Bytes::from(stream_event(i, size));
        Some((Ok::<_, Infallible>(event), i + 1))
    });
    with_content_type("text/event-stream", Body::from_stream(events))
}

async fn bytes_route(RawQuery(query): RawQuery) -> Response {
    let size = query_param(query.as_deref(), "size").unwrap_or(DEFAULT_BYTES_SIZE);
    let mut response = with_content_type(
        "application/octet-stream",
        Body::new(PatternBody {
            offset: 0,
            remaining: size,
        }),
    );
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(size));
    response
}

/// Lazy body of `GET /bytes`: frames are zero-copy slices of one shared
/// pattern buffer, so memory use is constant whatever the size.
struct PatternBody {
    offset: u64,
    remaining: u64,
}

fn pattern_buffer() -> &'static Bytes {
    static PATTERN: OnceLock<Bytes> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let len = BYTES_CHUNK_SIZE as u64 + BYTES_PATTERN_MODULUS;
        (0..len).map(pattern_byte).collect::<Vec<u8>>().into()
    })
}

impl http_body::Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        // Both values are bounded by small constants, so the casts are lossless.
        let len = this.remaining.min(BYTES_CHUNK_SIZE as u64) as usize;
        let start = (this.offset % BYTES_PATTERN_MODULUS) as usize;
        let chunk = pattern_buffer().slice(start..start + len);
        this.offset += len as u64;
        this.remaining -= len as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

async fn status(Path(code): Path<String>) -> StatusCode {
    match code.parse::<u16>().map(StatusCode::from_u16) {
        Ok(Ok(status)) if !status.is_informational() => status,
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn fail_mid_stream() -> Response {
    let frames = futures_util::stream::iter([
        Ok(Bytes::from_static(b"partial")),
        Err(std::io::Error::other("reference app failure mid-stream")),
    ]);
    with_content_type("text/plain", Body::from_stream(frames))
}

async fn sleep(RawQuery(query): RawQuery) -> Response {
    let ms = query_param(query.as_deref(), "ms").unwrap_or(DEFAULT_SLEEP_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    with_content_type("text/plain", Body::from("slept"))
}

async fn panic_route() -> Response {
    // Keep in sync with `PANIC_MESSAGE`; a literal gives a `&'static str` payload.
    panic!("reference app panic")
}

async fn event(request: Request) -> Response {
    let (status, body) = match axum::body::to_bytes(request.into_body(), usize::MAX).await {
        Ok(body) if !body.windows(4).any(|w| w == b"fail") => (StatusCode::OK, r#"{"ok":true}"#),
        Ok(_) => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"ok":false}"#),
        Err(_) => (StatusCode::BAD_REQUEST, r#"{"ok":false}"#),
    };
    let mut response = with_content_type("application/json", Body::from(body));
    *response.status_mut() = status;
    response
}

async fn fallback(request: Request) -> Response {
    if request.method() == Method::POST {
        event(request).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
