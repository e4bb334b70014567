//! Tests of the reference app: every route through `tower::ServiceExt::oneshot`,
//! plus a few checks over a real socket with `axum::serve`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use bytes::Bytes;
use futures_util::FutureExt as _;
use http_body::Body as _;
use http_body_util::BodyExt as _;
use serverless_adapter_examples::app::{
    pattern_byte, router, stream_event, Echo, BYTES_CHUNK_SIZE, PANIC_MESSAGE,
};
use tower::ServiceExt as _;

fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

async fn send(request: Request<Body>) -> Response<Body> {
    router().oneshot(request).await.unwrap()
}

async fn get(uri: &str) -> Response<Body> {
    send(request(Method::GET, uri)).await
}

async fn post(uri: &str, body: &'static str) -> Response<Body> {
    let request = Request::post(uri).body(Body::from(body)).unwrap();
    send(request).await
}

async fn body_bytes(response: Response<Body>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Vec<&'a str> {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

/// Polls every data frame of a body, with its arrival time.
async fn timed_frames(response: Response<Body>) -> Vec<(Instant, Bytes)> {
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        frames.push((Instant::now(), data));
    }
    frames
}

#[tokio::test]
async fn root_is_ok() {
    let response = get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), ["text/plain"]);
    assert_eq!(body_bytes(response).await, "ok");
}

#[tokio::test]
async fn echo_is_exact() {
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/echo/a%20b/c%2Fd?x=1&x=2&y=%20z&&")
        .header("x-a", "1")
        .header("X-B", "2")
        .header("x-a", "3")
        .body(Body::from(vec![0u8, 1, 2, 253, 254, 255]))
        .unwrap();
    let response = send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), ["application/json"]);
    assert_eq!(
        header(&response, "set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"]
    );
    assert_eq!(header(&response, "x-multi"), ["one", "two"]);
    let body = body_bytes(response).await;
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"method":"PUT","path":"/echo/a%20b/c%2Fd","query":"x=1&x=2&y=%20z&&","headers":[["x-a","1"],["x-a","3"],["x-b","2"]],"body_base64":"AAEC/f7/"}"#
    );
    let echo: Echo = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo.headers.len(), 3);
}

#[tokio::test]
async fn echo_matches_bare_paths_and_any_method() {
    for (method, path) in [
        (Method::GET, "/echo"),
        (Method::DELETE, "/echo/"),
        (Method::POST, "/echo/x"),
        (Method::PATCH, "/echo/x/y/"),
    ] {
        let response = send(request(method.clone(), path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
        let echo: Echo = serde_json::from_slice(&body_bytes(response).await).unwrap();
        assert_eq!(
            echo,
            Echo {
                method: method.to_string(),
                path: path.to_owned(),
                query: String::new(),
                headers: Vec::new(),
                body_base64: String::new(),
            }
        );
    }
}

#[tokio::test]
async fn stream_frames_are_separate_and_spaced() {
    let mut response = get("/stream?chunks=4&interval_ms=100&size=32").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), ["text/event-stream"]);
    // The first event is ready at once (no timer before it); the next is not.
    let body = response.body_mut();
    let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *body).poll_frame(cx))).await;
    let Poll::Ready(Some(Ok(first))) = first else {
        panic!("first event not ready at once");
    };
    assert_eq!(first.into_data().unwrap(), stream_event(0, 32));
    let second = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *body).poll_frame(cx))).await;
    assert!(second.is_pending());
    let mut frames = vec![(Instant::now(), stream_event(0, 32).into())];
    frames.extend(timed_frames(response).await);
    assert_eq!(frames.len(), 4);
    for (i, (_, data)) in frames.iter().enumerate() {
        assert_eq!(data.len(), 32);
        assert_eq!(*data, stream_event(i as u64, 32));
    }
    assert_eq!(frames[0].1, "data: 0 xxxxxxxxxxxxxxxxxxxxxx\n\n");
    for pair in frames.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= Duration::from_millis(80));
    }
}

#[tokio::test]
async fn stream_defaults_and_small_sizes() {
    let frames = timed_frames(get("/stream?interval_ms=0").await).await;
    let data: Vec<_> = frames.into_iter().map(|(_, d)| d).collect();
    assert_eq!(data.len(), 5);
    assert_eq!(data[0], "data: 0 xxxxxx\n\n");
    assert!(data.iter().all(|d| d.len() == 16));

    // Invalid values fall back to the defaults.
    let frames = timed_frames(get("/stream?chunks=abc&interval_ms=0&size=-3").await).await;
    assert_eq!(frames.len(), 5);
    assert_eq!(frames[4].1, "data: 4 xxxxxx\n\n");

    // A size below the minimal event means no padding.
    let frames = timed_frames(get("/stream?chunks=12&interval_ms=0&size=1").await).await;
    assert_eq!(frames[0].1, "data: 0 \n\n");
    assert_eq!(frames[11].1, "data: 11 \n\n");

    let frames = timed_frames(get("/stream?chunks=0").await).await;
    assert!(frames.is_empty());
}

#[tokio::test]
async fn bytes_pattern_and_size() {
    const SIZE: usize = 1024 * 1024 + 7;
    let response = get(&format!("/bytes?size={SIZE}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        ["application/octet-stream"]
    );
    assert_eq!(header(&response, "content-length"), [SIZE.to_string()]);
    assert_eq!(response.body().size_hint().exact(), Some(SIZE as u64));
    let frames = timed_frames(response).await;
    assert_eq!(frames.len(), SIZE.div_ceil(BYTES_CHUNK_SIZE));
    assert!(frames.iter().all(|(_, d)| d.len() <= BYTES_CHUNK_SIZE));
    let body: Vec<u8> = frames.into_iter().flat_map(|(_, d)| d).collect();
    assert_eq!(body.len(), SIZE);
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == (i % 251) as u8 && *b == pattern_byte(i as u64)));
}

#[tokio::test]
async fn bytes_edge_sizes() {
    let response = get("/bytes?size=0").await;
    assert_eq!(header(&response, "content-length"), ["0"]);
    assert!(body_bytes(response).await.is_empty());

    let response = get("/bytes").await;
    assert_eq!(header(&response, "content-length"), ["1024"]);
    assert_eq!(body_bytes(response).await.len(), 1024);

    // 200 MB, produced lazily: only the frame lengths are kept.
    const BIG: u64 = 200 * 1000 * 1000;
    let mut body = get(&format!("/bytes?size={BIG}")).await.into_body();
    let mut total = 0u64;
    let mut last = 0u8;
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert_eq!(data[0], pattern_byte(total));
        total += data.len() as u64;
        last = data[data.len() - 1];
    }
    assert_eq!(total, BIG);
    assert_eq!(last, pattern_byte(BIG - 1));
}

#[tokio::test]
async fn status_codes() {
    for code in [200u16, 201, 204, 301, 304, 404, 418, 500, 503, 599] {
        let response = get(&format!("/status/{code}")).await;
        assert_eq!(response.status().as_u16(), code);
        assert!(body_bytes(response).await.is_empty());
    }
    for code in ["abc", "99", "100", "101", "1000", "70000", "-1", "2000000"] {
        let response = get(&format!("/status/{code}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{code}");
    }
}

#[tokio::test]
async fn fail_mid_stream_yields_partial_then_error() {
    let response = get("/fail-mid-stream").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), ["text/plain"]);
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "partial");
    assert!(body.frame().await.unwrap().is_err());
}

#[tokio::test]
async fn sleep_waits() {
    let start = Instant::now();
    let response = get("/sleep?ms=100").await;
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_bytes(response).await, "slept");

    let response = get("/sleep?ms=nonsense").await;
    assert_eq!(body_bytes(response).await, "slept");
}

#[tokio::test]
async fn panic_route_panics() {
    let result = AssertUnwindSafe(get("/panic")).catch_unwind().await;
    let payload = result.expect_err("the handler should panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&PANIC_MESSAGE));
}

#[tokio::test]
async fn post_fallback() {
    for path in ["/events", "/sqs", "/sns", "/anything/else", "/", "/stream"] {
        let response = post(path, r#"{"Records":[]}"#).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&response, "content-type"), ["application/json"]);
        assert_eq!(body_bytes(response).await, r#"{"ok":true}"#);
    }
    let response = post("/sqs", r#"{"Records":[{"body":"please fail"}]}"#).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&response, "content-type"), ["application/json"]);
    assert_eq!(body_bytes(response).await, r#"{"ok":false}"#);
}

#[tokio::test]
async fn unknown_routes() {
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let response = send(request(method, "/nope")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let response = send(request(Method::DELETE, "/")).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

// ---- Over a real socket ----

async fn spawn_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router()).await.unwrap() });
    addr
}

/// Sends one `Connection: close` request and reads the raw response with a
/// blocking socket, recording when each read completed.
async fn raw_get(addr: SocketAddr, path: &str) -> Vec<(Instant, Vec<u8>)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut reads = Vec::new();
        let mut buf = vec![0u8; 256 * 1024];
        // A reset connection ends the response like EOF does.
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            reads.push((Instant::now(), buf[..n].to_vec()));
        }
        reads
    })
    .await
    .unwrap()
}

fn concat(reads: &[(Instant, Vec<u8>)]) -> String {
    let bytes: Vec<u8> = reads.iter().flat_map(|(_, r)| r.clone()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn server_survives_panic() {
    let addr = spawn_server().await;
    let reads = raw_get(addr, "/panic").await;
    assert!(!concat(&reads).starts_with("HTTP/1.1"));
    let response = concat(&raw_get(addr, "/").await);
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");
}

#[tokio::test]
async fn server_streams_events_as_produced() {
    let addr = spawn_server().await;
    let reads = raw_get(addr, "/stream?chunks=3&interval_ms=100").await;
    let mut seen = String::new();
    let mut arrivals = Vec::new();
    for (at, data) in &reads {
        seen.push_str(&String::from_utf8_lossy(data));
        while arrivals.len() < 3 && seen.contains(&stream_event(arrivals.len() as u64, 16)) {
            arrivals.push(*at);
        }
    }
    assert!(seen.starts_with("HTTP/1.1 200 OK\r\n"), "{seen}");
    assert!(seen.contains("transfer-encoding: chunked\r\n"), "{seen}");
    assert_eq!(arrivals.len(), 3, "{seen}");
    for pair in arrivals.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(80), "{seen}");
    }
}

#[tokio::test]
async fn server_sends_bytes_with_content_length() {
    let addr = spawn_server().await;
    let response = concat(&raw_get(addr, "/bytes?size=300000").await);
    let head = response.split("\r\n\r\n").next().unwrap();
    assert!(head.contains("content-length: 300000\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
}
