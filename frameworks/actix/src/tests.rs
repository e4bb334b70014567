//! In-process tests of the actix bridge.

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::{web, App, HttpMessage as _, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, StreamBody};
use serverless_adapter_core::{serve_guarded, Body, Framework, LambdaContext, RequestContext};
use tokio::sync::mpsc;

use crate::{ActixFramework, EventContext, Lambda, OriginalHeaders};

async fn describe(request: HttpRequest, mut payload: web::Payload) -> HttpResponse {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    let headers = request
        .extensions()
        .get::<OriginalHeaders>()
        .map(|headers| {
            headers
                .0
                .iter()
                .map(|(name, value)| format!("{name}={}", value.to_str().unwrap()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    HttpResponse::Ok()
        .insert_header(("x-multi", "one"))
        .append_header(("x-multi", "two"))
        .body(format!(
            "{} {} {} [{headers}] {}",
            request.method(),
            request.path(),
            request.query_string(),
            String::from_utf8_lossy(&body)
        ))
}

async fn whoami(Lambda(context): Lambda, EventContext(event): EventContext) -> String {
    format!("{} via {}", context.request_id, event.source())
}

async fn mirror(payload: web::Payload) -> HttpResponse {
    HttpResponse::Ok().streaming(payload)
}

async fn events(query: web::Query<Vec<(String, u64)>>) -> HttpResponse {
    let count = query.first().map_or(5, |(_, n)| *n);
    let events = futures_util::stream::unfold(0u64, move |i| async move {
        if i >= count {
            return None;
        }
        if i > 0 {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        Some((
            Ok::<_, Infallible>(Bytes::from(format!("data: {i}\n\n"))),
            i + 1,
        ))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(events)
}

async fn sleep() -> &'static str {
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    "slept"
}

async fn panics() -> HttpResponse {
    panic!("handler panic")
}

/// A body that yields one chunk, then panics.
struct PanickyBody(bool);

impl MessageBody for PanickyBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        if std::mem::replace(&mut self.0, true) {
            panic!("body panic");
        }
        Poll::Ready(Some(Ok(Bytes::from_static(b"first"))))
    }
}

/// An endless body counting how often it is polled.
struct CountingBody(Arc<AtomicUsize>);

impl MessageBody for CountingBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Bytes::from_static(b"tick"))))
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone, Default)]
struct Probes {
    polls: Arc<AtomicUsize>,
    handler_dropped: Arc<AtomicBool>,
}

fn framework(probes: Probes) -> ActixFramework {
    ActixFramework::new(move || {
        let probes = probes.clone();
        let counting = probes.polls.clone();
        App::new()
            .route("/whoami", web::get().to(whoami))
            .route("/mirror", web::post().to(mirror))
            .route("/events", web::get().to(events))
            .route("/sleep", web::get().to(sleep))
            .route("/panic", web::get().to(panics))
            .route(
                "/panic-body",
                web::get().to(|| async { HttpResponse::Ok().body(PanickyBody(false)) }),
            )
            .route(
                "/endless",
                web::get().to(move || {
                    let polls = counting.clone();
                    async move { HttpResponse::Ok().body(CountingBody(polls)) }
                }),
            )
            .route(
                "/hang",
                web::get().to(move || {
                    let flag = DropFlag(probes.handler_dropped.clone());
                    async move {
                        let _flag = flag;
                        std::future::pending::<HttpResponse>().await
                    }
                }),
            )
            .default_service(web::to(describe))
    })
}

async fn get(framework: &ActixFramework, uri: &str) -> Response<Body> {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    framework.serve(request).await.unwrap()
}

async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_send<T: Send>(_: &T) {}

#[tokio::test]
async fn requests_arrive_as_sent() {
    let framework = framework(Probes::default());
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/some/a%20b?x=1&x=2&y=%20z")
        .header("x-b", "1")
        .header("x-a", "2")
        .header("x-b", "3")
        .body(Body::from("hello"))
        .unwrap();
    let response = framework.serve(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let multi: Vec<_> = response.headers().get_all("x-multi").iter().collect();
    assert_eq!(multi, ["one", "two"]);
    let expected = "PUT /some/a%20b x=1&x=2&y=%20z [x-b=1,x-b=3,x-a=2] hello";
    assert_eq!(
        response.headers()["content-length"],
        expected.len().to_string()
    );
    assert_eq!(text(response).await, expected);
}

#[tokio::test]
async fn lambda_context_and_request_context_reach_handlers() {
    let framework = framework(Probes::default());
    let mut request = Request::get("/whoami").body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(LambdaContext::for_request_id("req-7"));
    request
        .extensions_mut()
        .insert(RequestContext::new("api-gateway-v2", "{}"));
    let response = framework.serve(request).await.unwrap();
    assert_eq!(text(response).await, "req-7 via api-gateway-v2");

    // Without them, the extractors reject with 500.
    let response = get(&framework, "/whoami").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn request_and_response_bodies_stream() {
    let framework = framework(Probes::default());
    let (sender, receiver) = mpsc::channel::<Result<http_body::Frame<Bytes>, Infallible>>(1);
    let body = StreamBody::new(tokio_stream(receiver));
    let request = Request::post("/mirror").body(Body::new(body)).unwrap();
    let response = framework.serve(request).await.unwrap();
    let mut body = response.into_body();
    // Each chunk comes back before the next one is sent: neither body is collected first.
    for chunk in ["one", "two", "three"] {
        sender
            .send(Ok(http_body::Frame::data(Bytes::from(chunk))))
            .await
            .unwrap();
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("the chunk comes back while the request body is still open")
            .unwrap()
            .unwrap();
        assert_eq!(frame.into_data().unwrap(), chunk);
    }
    drop(sender);
    assert!(body.frame().await.is_none());
}

/// A stream over a tokio receiver (tokio-stream is not a dependency).
fn tokio_stream<T>(receiver: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

#[tokio::test]
async fn streamed_responses_arrive_as_produced() {
    let framework = framework(Probes::default());
    let response = get(&framework, "/events?n=5").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(response.headers().get("content-length").is_none());
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert_eq!(data, format!("data: {}\n\n", arrivals.len()));
        arrivals.push(Instant::now());
    }
    assert_eq!(arrivals.len(), 5);
    for pair in arrivals.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(80));
    }
}

#[tokio::test]
async fn the_app_is_polled_only_as_the_consumer_reads() {
    let probes = Probes::default();
    let framework = framework(probes.clone()).response_buffer(2);
    let mut body = get(&framework, "/endless").await.into_body();
    body.frame().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // One frame read, two buffered, one in hand waiting for room.
    let polls = probes.polls.load(Ordering::SeqCst);
    assert!((3..=4).contains(&polls), "{polls} polls");
    // Dropping the body stops the polling.
    drop(body);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = probes.polls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(probes.polls.load(Ordering::SeqCst), after);
}

#[tokio::test]
async fn panics_are_caught_and_the_worker_keeps_serving() {
    let framework = framework(Probes::default());
    for _ in 0..3 {
        let request = Request::get("/panic").body(Body::empty()).unwrap();
        let error = serve_guarded(&framework, request).await.unwrap_err();
        assert!(error.is_panic(), "{error}");
        assert_eq!(error.message(), "handler panic");

        let request = Request::get("/panic-body").body(Body::empty()).unwrap();
        let mut body = serve_guarded(&framework, request)
            .await
            .unwrap()
            .into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "first");
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(error.to_string().contains("body panic"), "{error}");
        assert!(body.frame().await.is_none());

        let response = get(&framework, "/anything").await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn requests_are_served_concurrently() {
    for workers in [1, 3] {
        let framework = framework(Probes::default()).workers(NonZeroUsize::new(workers).unwrap());
        let start = Instant::now();
        let responses =
            futures_util::future::join_all((0..20).map(|_| get(&framework, "/sleep"))).await;
        for response in responses {
            assert_eq!(text(response).await, "slept");
        }
        // Twenty 200 ms requests, side by side.
        assert!(start.elapsed() < Duration::from_millis(1500), "{workers}");
    }
}

#[test]
fn requests_are_served_from_many_threads() {
    let framework = Arc::new(framework(Probes::default()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let framework = framework.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    for _ in 0..10 {
                        let response = get(&framework, "/x").await;
                        assert_eq!(response.status(), StatusCode::OK);
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[tokio::test]
async fn futures_are_send() {
    let framework = framework(Probes::default());
    let future = framework.serve(Request::new(Body::empty()));
    assert_send(&future);
    let guarded = serve_guarded(&framework, Request::new(Body::empty()));
    assert_send(&guarded);
    assert_send(&framework);
    drop((future, guarded));
}

#[tokio::test]
async fn giving_up_on_a_request_cancels_it_in_the_app() {
    let probes = Probes::default();
    let framework = framework(probes.clone());
    let request = Request::get("/hang").body(Body::empty()).unwrap();
    let served = tokio::time::timeout(Duration::from_millis(100), framework.serve(request)).await;
    assert!(served.is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !probes.handler_dropped.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the handler's future was not dropped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn head_requests_get_the_length_without_the_body() {
    let framework = ActixFramework::new(|| {
        App::new().route(
            "/",
            web::route().to(|| async { HttpResponse::Ok().body("hello") }),
        )
    });
    let request = Request::head("/").body(Body::empty()).unwrap();
    let response = framework.serve(request).await.unwrap();
    assert_eq!(response.headers()["content-length"], "5");
    assert!(text(response).await.is_empty());
}

#[tokio::test]
async fn service_errors_become_responses() {
    use actix_web::dev::Service as _;
    let framework = ActixFramework::new(|| {
        App::new()
            .wrap_fn(|request, service| {
                let refuse = request.path() == "/refused";
                let call = service.call(request);
                async move {
                    if refuse {
                        return Err(actix_web::error::ErrorForbidden("refused"));
                    }
                    call.await
                }
            })
            .default_service(web::to(|| async { "ok" }))
    });
    let response = get(&framework, "/refused").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(text(response).await, "refused");
    assert_eq!(text(get(&framework, "/other").await).await, "ok");
}

#[tokio::test]
async fn an_app_that_fails_to_start_is_retried() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let framework = ActixFramework::new(move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("factory panic");
        }
        App::new().default_service(web::to(|| async { "ok" }))
    });
    let error = framework.start().await.unwrap_err();
    assert!(error.to_string().contains("factory panic"), "{error}");
    let response = get(&framework, "/").await;
    assert_eq!(text(response).await, "ok");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    framework.start().await.unwrap();
    assert!(format!("{framework:?}").contains("running: 1"));
}

#[tokio::test]
async fn streams_finish_after_the_framework_is_dropped() {
    let framework = framework(Probes::default());
    let response = get(&framework, "/events?n=3").await;
    drop(framework);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}
