//! The reference app's routes that make sense here, written with poem: `/`, `/echo/*rest`,
//! `/stream`, `/status/:code`, `/panic`, and `POST /logs` and `/events` for events.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{get, handler, post, Body, Endpoint, Request, Response, Route};
use serde::Serialize;

/// The app.
pub fn app() -> impl Endpoint + 'static {
    Route::new()
        .at("/", get(root_route).post(event_route))
        .at("/echo", echo_route)
        .at("/echo/*rest", echo_route)
        .at("/stream", get(stream_route))
        .at("/status/:code", get(status_route))
        .at("/panic", get(panic_route))
        .at("/logs", post(event_route))
        .at("/events", post(event_route))
}

#[handler]
fn root_route() -> Response {
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// What `/echo` answers: the request exactly as received.
#[derive(Serialize)]
struct Echo {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body_base64: String,
}

#[handler]
async fn echo_route(request: &Request, body: Bytes) -> Response {
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

/// One `/stream` event: `data: <i> ` padded with `x` to `size` bytes, then `\n\n`.
pub fn stream_event(i: u64, size: usize) -> String {
    let prefix = format!("data: {i} ");
    let padding = size.saturating_sub(prefix.len() + 2);
    format!("{prefix}{}\n\n", "x".repeat(padding))
}

fn query_param<T: std::str::FromStr>(request: &Request, key: &str) -> Option<T> {
    request
        .uri()
        .query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .and_then(|(_, value)| value.parse().ok())
}

/// `GET /stream?chunks=N&interval_ms=M&size=B`: N events, M ms apart, each sent as it is made.
#[handler]
fn stream_route(request: &Request) -> Response {
    let chunks: u64 = query_param(request, "chunks").unwrap_or(5);
    let interval = Duration::from_millis(query_param(request, "interval_ms").unwrap_or(100));
    let size: usize = query_param(request, "size").unwrap_or(16);
    let events = futures_util::stream::unfold(0u64, move |i| async move {
        if i >= chunks {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let event = Bytes::from(stream_event(i, size));
        Some((Ok::<_, std::io::Error>(event), i + 1))
    });
    Response::builder()
        .content_type("text/event-stream")
        .body(Body::from_bytes_stream(events))
}

#[handler]
fn status_route(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

#[handler]
fn panic_route() -> &'static str {
    panic!("the /panic route panics, as asked")
}

/// Event routes: 200 `{"ok":true}`, or 500 when the body contains `fail`.
#[handler]
fn event_route(body: Bytes) -> Response {
    let failed = body.windows(4).any(|w| w == b"fail");
    let (status, answer) = if failed {
        (StatusCode::INTERNAL_SERVER_ERROR, r#"{"ok":false}"#)
    } else {
        (StatusCode::OK, r#"{"ok":true}"#)
    };
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(answer)
}
