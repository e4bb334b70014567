//! The whole reference app (`/work/shared/DESIGN.md`, "The reference app"), written with poem:
//! the same behaviour, headers and content types as the axum original in
//! `examples/src/app.rs`, so `poem-function` runs every end-to-end case.
//!
//! | Route | Behaviour |
//! |---|---|
//! | `GET /` | 200 `text/plain`, body `ok` |
//! | `ANY /echo`, `/echo/`, `/echo/*rest` | 200 `application/json` [`Echo`] of the request, plus two `set-cookie` and two `x-multi` headers |
//! | `GET /stream?chunks=N&interval_ms=M&size=B` | 200 `text/event-stream`, N events of B bytes (see [`stream_event`]), one frame each, M ms apart (defaults 5, 100, 16) |
//! | `GET /bytes?size=N` | 200 `application/octet-stream`, `content-length: N`, byte i = [`pattern_byte`]`(i)`, made lazily in 64 KiB frames (default 1024) |
//! | `GET /status/:code` | that status, empty body; 400 if `code` is not a final status (200–999) |
//! | `GET /fail-mid-stream` | 200 `text/plain`, one frame `partial`, then a body error |
//! | `GET /sleep?ms=N` | waits N ms (default 0), then 200 `text/plain` `slept` |
//! | `GET /panic` | the handler panics with [`PANIC_MESSAGE`] |
//! | any other `POST` (`/logs`, `/events`, `/sqs`, `/ws/...`) | 200 `application/json` `{"ok":true}`, or 500 `{"ok":false}` if the body contains `fail` |
//! | anything else | 404 (405 for a wrong method on a known path) |
//!
//! Query parameters are lenient: a missing, empty or unparsable value (anything but a plain
//! unsigned decimal integer) falls back to its default; if a key is repeated, the last value
//! wins. No size is capped and no request body limit applies.

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::Stream;
use poem::error::MethodNotAllowedError;
use poem::http::{header, Method, StatusCode};
use poem::web::Path;
use poem::{
    get, handler, Body, Endpoint, EndpointExt as _, IntoResponse as _, Request, Response, Route,
};
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

/// The app.
pub fn app() -> impl Endpoint + 'static {
    Route::new()
        .at("/", get(root_route).post(event_route))
        .at("/echo", echo_route)
        // `*rest` also matches the empty rest, so this serves `/echo/` too.
        .at("/echo/*rest", echo_route)
        .at("/stream", get(stream_route).post(event_route))
        .at("/bytes", get(bytes_route).post(event_route))
        .at("/status/:code", get(status_route).post(event_route))
        .at(
            "/fail-mid-stream",
            get(fail_mid_stream_route).post(event_route),
        )
        .at("/sleep", get(sleep_route).post(event_route))
        .at("/panic", get(panic_route).post(event_route))
        // Every other path: a POST is an event route, anything else is not found. (Not one
        // `/*path`: poem would prefer it to `/` itself.)
        .at("/:first", fallback_route)
        .at("/:first/*rest", fallback_route)
        // A wrong method on a known path: every such path takes GET (so HEAD) and POST.
        .catch_error(|_: MethodNotAllowedError| async {
            Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET,HEAD,POST")
                .finish()
        })
}

#[handler]
fn root_route() -> Response {
    Response::builder().content_type("text/plain").body("ok")
}

/// What `/echo` answers: the request exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    /// Request method, e.g. `GET`.
    pub method: String,
    /// URI path as received, percent-encoding untouched.
    pub path: String,
    /// Raw query string, or `""` if there is none.
    pub query: String,
    /// Headers as `[name, value]` pairs, repeated headers as separate pairs, in
    /// `http::HeaderMap` order; values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// Standard (padded) base64 of the request body bytes.
    pub body_base64: String,
}

#[handler]
async fn echo_route(request: &Request, body: Body) -> Response {
    let Ok(body) = body.into_bytes().await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let echo = Echo {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or("").to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body_base64: base64::engine::general_purpose::STANDARD.encode(&body),
    };
    let json = serde_json::to_vec(&echo).unwrap_or_default();
    Response::builder()
        .content_type("application/json")
        .header(header::SET_COOKIE, "a=1; Path=/")
        .header(header::SET_COOKIE, "b=2; Path=/")
        .header("x-multi", "one")
        .header("x-multi", "two")
        .body(json)
}

/// Event `i` (0-based) of a `/stream` body for event size `size`: `data: <i> <padding>\n\n`,
/// padded with `x` to exactly `size` bytes, or unpadded if `size` is smaller than the minimal
/// event.
pub fn stream_event(i: u64, size: usize) -> String {
    let prefix = format!("data: {i} ");
    let padding = size.saturating_sub(prefix.len() + 2);
    let mut event = String::with_capacity(prefix.len() + padding + 2);
    event.push_str(&prefix);
    event.extend(std::iter::repeat_n('x', padding));
    event.push_str("\n\n");
    event
}

/// Byte `i` of a `/bytes` body.
pub fn pattern_byte(i: u64) -> u8 {
    // The remainder is below 251, so the cast is lossless.
    (i % BYTES_PATTERN_MODULUS) as u8
}

/// The last value of `key` in the request's query, parsed (`None` if missing or unparsable).
fn query_param<T: std::str::FromStr>(request: &Request, key: &str) -> Option<T> {
    request
        .uri()
        .query()?
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name == key).then_some(value)
        })
        .next_back()?
        .parse()
        .ok()
}

/// `GET /stream?chunks=N&interval_ms=M&size=B`: N events, M ms apart, each sent as it is made.
#[handler]
fn stream_route(request: &Request) -> Response {
    let chunks: u64 = query_param(request, "chunks").unwrap_or(DEFAULT_STREAM_CHUNKS);
    let interval = Duration::from_millis(
        query_param(request, "interval_ms").unwrap_or(DEFAULT_STREAM_INTERVAL_MS),
    );
    let size: usize = query_param(request, "size").unwrap_or(DEFAULT_STREAM_SIZE);
    let events = futures_util::stream::unfold(0u64, move |i| async move {
        if i >= chunks {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let event = Bytes::from(stream_event(i, size));
        Some((Ok::<_, io::Error>(event), i + 1))
    });
    Response::builder()
        .content_type("text/event-stream")
        .body(Body::from_bytes_stream(events))
}

/// `GET /bytes?size=N`: the pattern, made frame by frame as the body is read.
#[handler]
fn bytes_route(request: &Request) -> Response {
    let size: u64 = query_param(request, "size").unwrap_or(DEFAULT_BYTES_SIZE);
    Response::builder()
        .content_type("application/octet-stream")
        .header(header::CONTENT_LENGTH, size)
        .body(Body::from_bytes_stream(pattern_frames(size)))
}

/// The `/bytes` body of `size` bytes: frames of [`BYTES_CHUNK_SIZE`] bytes (the last may be
/// shorter), each a zero-copy slice of one shared buffer, so memory use is constant whatever
/// the size.
pub fn pattern_frames(size: u64) -> impl Stream<Item = Result<Bytes, io::Error>> + Send {
    fn pattern_buffer() -> &'static Bytes {
        static PATTERN: OnceLock<Bytes> = OnceLock::new();
        PATTERN.get_or_init(|| {
            let len = BYTES_CHUNK_SIZE as u64 + BYTES_PATTERN_MODULUS;
            (0..len).map(pattern_byte).collect::<Vec<u8>>().into()
        })
    }
    futures_util::stream::unfold(0u64, move |offset| async move {
        let remaining = size - offset;
        if remaining == 0 {
            return None;
        }
        // Both values are bounded by small constants, so the casts are lossless.
        let len = remaining.min(BYTES_CHUNK_SIZE as u64) as usize;
        let start = (offset % BYTES_PATTERN_MODULUS) as usize;
        let frame = pattern_buffer().slice(start..start + len);
        Some((Ok(frame), offset + len as u64))
    })
}

/// `GET /status/:code`: that status with an empty body, or 400 for anything but a final status.
#[handler]
fn status_route(Path(code): Path<String>) -> StatusCode {
    match code.parse::<u16>().map(StatusCode::from_u16) {
        Ok(Ok(status)) if !status.is_informational() => status,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `GET /fail-mid-stream`: one frame, then the body fails.
#[handler]
fn fail_mid_stream_route() -> Response {
    let frames = futures_util::stream::iter([
        Ok(Bytes::from_static(b"partial")),
        Err(io::Error::other("reference app failure mid-stream")),
    ]);
    Response::builder()
        .content_type("text/plain")
        .body(Body::from_bytes_stream(frames))
}

/// `GET /sleep?ms=N`: waits, then answers.
#[handler]
async fn sleep_route(request: &Request) -> Response {
    let ms = query_param(request, "ms").unwrap_or(DEFAULT_SLEEP_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Response::builder().content_type("text/plain").body("slept")
}

#[handler]
fn panic_route() -> Response {
    // Keep in sync with `PANIC_MESSAGE`; a literal gives a `&'static str` payload.
    panic!("reference app panic")
}

/// Event routes: 200 `{"ok":true}`, or 500 `{"ok":false}` when the body contains `fail` (400 if
/// the body cannot be read).
#[handler]
async fn event_route(body: Body) -> Response {
    event(body).await
}

async fn event(body: Body) -> Response {
    let (status, answer) = match body.into_bytes().await {
        Ok(body) if !body.windows(4).any(|w| w == b"fail") => (StatusCode::OK, r#"{"ok":true}"#),
        Ok(_) => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"ok":false}"#),
        Err(_) => (StatusCode::BAD_REQUEST, r#"{"ok":false}"#),
    };
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(answer)
}

/// Paths no other route matches: a `POST` is an event, anything else is not found.
#[handler]
async fn fallback_route(request: &Request, body: Body) -> Response {
    if request.method() == Method::POST {
        event(body).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

#[cfg(test)]
mod tests;
