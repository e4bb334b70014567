//! The reference app for actix-web: the same routes and behaviour as the axum one in
//! [`app`](crate::app), whose table and helpers ([`Echo`], [`stream_event`], [`pattern_byte`])
//! it shares.
//!
//! Served in process by [`ActixFramework`](serverless_adapter::actix::ActixFramework):
//!
//! ```no_run
//! use serverless_adapter::actix::ActixFramework;
//! use serverless_adapter_examples::actix_app;
//!
//! let framework = ActixFramework::new(actix_app::app);
//! ```
//!
//! Through that framework, responses match the axum app's header for header, with one
//! exception kept from actix's HTTP server: `204` and `304` responses carry no
//! `content-length: 0` (RFC 9110 forbids it on a `204`).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{ALLOW, SET_COOKIE};
use actix_web::http::{Method, StatusCode};
use actix_web::{guard, web, App, FromRequest, Handler, HttpRequest, HttpResponse, Responder};
use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt as _;
use serverless_adapter::actix::OriginalHeaders;

use crate::app::{
    pattern_byte, stream_event, Echo, BYTES_CHUNK_SIZE, BYTES_PATTERN_MODULUS, DEFAULT_BYTES_SIZE,
    DEFAULT_SLEEP_MS, DEFAULT_STREAM_CHUNKS, DEFAULT_STREAM_INTERVAL_MS, DEFAULT_STREAM_SIZE,
    PANIC_MESSAGE,
};

/// The methods a `GET` route of the axum app answers besides `POST`, as its `allow` header
/// lists them on a `405`.
const ALLOWED: &str = "GET,HEAD,POST";

/// Builds the reference app (a factory for `ActixFramework::new` or `HttpServer::new`).
pub fn app() -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new().configure(configure)
}

/// Registers the reference app's routes (for apps that add their own middleware or routes).
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(get_route("/", root))
        .service(web::resource(["/echo", "/echo/{rest:.*}"]).to(echo))
        .service(get_route("/stream", stream))
        .service(get_route("/bytes", bytes_route))
        .service(get_route("/status/{code}", status))
        .service(get_route("/fail-mid-stream", fail_mid_stream))
        .service(get_route("/sleep", sleep))
        .service(get_route("/panic", panic_route))
        .default_service(web::to(fallback));
}

/// A path answered by `handler` for `GET` and `HEAD`, by the event handler for `POST`, and
/// with `405` otherwise, as axum's `get(handler).post(event)` does.
fn get_route<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .route(web::post().to(event))
        .default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed()
                .insert_header((ALLOW, ALLOWED))
                .finish()
        }))
}

/// Last value of `key` in a raw query string, parsed (lenient, as in the axum app).
fn query_param<T: std::str::FromStr>(query: &str, key: &str) -> Option<T> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then_some(v)
        })
        .next_back()?
        .parse()
        .ok()
}

/// The whole request body, or `None` if it fails. No limit applies.
async fn read_body(mut payload: web::Payload) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        body.extend_from_slice(&chunk.ok()?);
    }
    Some(body)
}

async fn root() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn echo(
    request: HttpRequest,
    OriginalHeaders(headers): OriginalHeaders,
    payload: web::Payload,
) -> HttpResponse {
    let Some(body) = read_body(payload).await else {
        return HttpResponse::BadRequest().finish();
    };
    let echo = Echo {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.query_string().to_owned(),
        headers: headers
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
    let json = match serde_json::to_vec(&echo) {
        Ok(json) => json,
        Err(_) => return HttpResponse::InternalServerError().finish(),
    };
    HttpResponse::Ok()
        .content_type("application/json")
        .append_header((SET_COOKIE, "a=1; Path=/"))
        .append_header((SET_COOKIE, "b=2; Path=/"))
        .append_header(("x-multi", "one"))
        .append_header(("x-multi", "two"))
        .body(json)
}

async fn stream(request: HttpRequest) -> HttpResponse {
    let query = request.query_string();
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
            actix_web::rt::time::sleep(interval).await;
        }
        let event = Bytes::from(stream_event(i, size));
        Some((Ok::<_, Infallible>(event), i + 1))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(events)
}

async fn bytes_route(request: HttpRequest) -> HttpResponse {
    let size = query_param(request.query_string(), "size").unwrap_or(DEFAULT_BYTES_SIZE);
    // The body's size becomes the `content-length`.
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(PatternBody {
            offset: 0,
            remaining: size,
        })
}

/// Lazy body of `GET /bytes`: frames are zero-copy slices of one shared pattern buffer.
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

impl MessageBody for PatternBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.remaining)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
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
        Poll::Ready(Some(Ok(chunk)))
    }
}

async fn status(code: web::Path<String>) -> HttpResponse {
    match code.parse::<u16>().map(StatusCode::from_u16) {
        Ok(Ok(status)) if !status.is_informational() => HttpResponse::build(status).finish(),
        _ => HttpResponse::BadRequest().finish(),
    }
}

async fn fail_mid_stream() -> HttpResponse {
    let frames = futures_util::stream::iter([
        Ok(Bytes::from_static(b"partial")),
        Err(std::io::Error::other("reference app failure mid-stream")),
    ]);
    HttpResponse::Ok()
        .content_type("text/plain")
        .streaming(frames)
}

async fn sleep(request: HttpRequest) -> HttpResponse {
    let ms = query_param(request.query_string(), "ms").unwrap_or(DEFAULT_SLEEP_MS);
    actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    HttpResponse::Ok().content_type("text/plain").body("slept")
}

async fn panic_route() -> HttpResponse {
    // A `&'static str` payload, as the axum app's literal.
    std::panic::panic_any(PANIC_MESSAGE)
}

async fn event(payload: web::Payload) -> HttpResponse {
    let (status, body) = match read_body(payload).await {
        Some(body) if !body.windows(4).any(|w| w == b"fail") => (StatusCode::OK, r#"{"ok":true}"#),
        Some(_) => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"ok":false}"#),
        None => (StatusCode::BAD_REQUEST, r#"{"ok":false}"#),
    };
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}

async fn fallback(request: HttpRequest, payload: web::Payload) -> HttpResponse {
    if request.method() == Method::POST {
        event(payload).await
    } else {
        HttpResponse::NotFound().finish()
    }
}
