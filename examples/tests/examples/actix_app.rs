//! The actix reference app behaves as the axum one: both served in process through their
//! `Framework` (`serve_guarded`, as the invocation loop serves them), compared route by route.
//! (`reference-actix` as a Lambda function, under the emulator and cargo-lambda's, is a build of
//! the conformance table: `e2e/tests/conformance`.)

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use serverless_adapter::actix::ActixFramework;
use serverless_adapter::{serve_guarded, Body, Error};
use serverless_adapter_examples::actix_app;
use serverless_adapter_examples::app::{self, stream_event, Echo, PANIC_MESSAGE};

/// One actix framework for every test: its worker thread outlives the tests' runtimes.
fn actix() -> &'static ActixFramework {
    static FRAMEWORK: OnceLock<ActixFramework> = OnceLock::new();
    FRAMEWORK.get_or_init(|| ActixFramework::new(actix_app::app))
}

/// Serves the request made by `make` with both apps: (axum, actix).
async fn both(
    make: impl Fn() -> Request<Body>,
) -> (Result<Response<Body>, Error>, Result<Response<Body>, Error>) {
    let axum = serve_guarded(&app::router(), make()).await;
    let actix = serve_guarded(actix(), make()).await;
    (axum, actix)
}

fn request(method: Method, uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .unwrap()
}

/// The headers as a map from name to values in order (the order of names is not kept by
/// actix's header map, nor relied on by HTTP).
fn headers(response: &Response<Body>) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::<String, Vec<String>>::new();
    for (name, value) in response.headers() {
        map.entry(name.to_string())
            .or_default()
            .push(value.to_str().unwrap().to_owned());
    }
    map
}

/// Data frames of a body, with their arrival times; panics on a body error.
async fn frames(response: Response<Body>) -> Vec<(Instant, Bytes)> {
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        frames.push((Instant::now(), data));
    }
    frames
}

async fn collect(response: Response<Body>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

/// Asserts that both apps answer `make`'s request with the same status, headers and body,
/// and returns the body.
async fn same(make: impl Fn() -> Request<Body>) -> (StatusCode, Bytes) {
    let uri = make().uri().to_string();
    let (axum, actix) = both(make).await;
    let (axum, actix) = (axum.unwrap(), actix.unwrap());
    assert_eq!(axum.status(), actix.status(), "{uri}");
    assert_eq!(headers(&axum), headers(&actix), "{uri}");
    let status = axum.status();
    let (axum, actix) = (collect(axum).await, collect(actix).await);
    assert_eq!(axum, actix, "{uri}");
    (status, axum)
}

async fn same_get(uri: &str) -> (StatusCode, Bytes) {
    same(|| request(Method::GET, uri, ())).await
}

#[tokio::test]
async fn root() {
    assert_eq!(same_get("/").await, (StatusCode::OK, Bytes::from("ok")));
    // HEAD: the same head, no body.
    let (status, body) = same(|| request(Method::HEAD, "/", ())).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn echo_is_identical() {
    let make = || {
        Request::builder()
            .method(Method::PUT)
            .uri("/echo/a%20b/c%2Fd?x=1&x=2&y=%20z&&")
            .header("x-a", "1")
            .header("X-B", "2")
            .header("x-a", "3")
            .header("content-type", "application/octet-stream")
            .body(Body::from(vec![0u8, 1, 2, 253, 254, 255]))
            .unwrap()
    };
    let (status, body) = same(make).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"method":"PUT","path":"/echo/a%20b/c%2Fd","query":"x=1&x=2&y=%20z&&","headers":[["x-a","1"],["x-a","3"],["x-b","2"],["content-type","application/octet-stream"]],"body_base64":"AAEC/f7/"}"#
    );

    let (axum, actix) = both(make).await;
    let actix = actix.unwrap();
    assert_eq!(
        headers(&actix)["set-cookie"],
        ["a=1; Path=/", "b=2; Path=/"]
    );
    assert_eq!(headers(&actix)["x-multi"], ["one", "two"]);
    drop(axum);

    for (method, path) in [
        (Method::GET, "/echo"),
        (Method::DELETE, "/echo/"),
        (Method::POST, "/echo/x"),
        (Method::PATCH, "/echo/x/y/"),
        (Method::OPTIONS, "/echo/x?"),
        (
            Method::from_bytes(b"PURGE").unwrap(),
            "/echo/%F0%9F%A6%80?q=%F0%9F%A6%80",
        ),
    ] {
        let (status, body) = same(|| request(method.clone(), path, "body")).await;
        assert_eq!(status, StatusCode::OK);
        let echo: Echo = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo.method, method.as_str());
        assert_eq!(echo.body_base64, "Ym9keQ==");
    }
    let (status, body) = same(|| request(Method::HEAD, "/echo/head", ())).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn echo_streams_a_large_request_body_in() {
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 7) as u8).collect();
    let make = || {
        let chunks = body
            .chunks(100_000)
            .map(|chunk| {
                Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::copy_from_slice(
                    chunk,
                )))
            })
            .collect::<Vec<_>>();
        let streamed = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
        request(Method::POST, "/echo/big", Body::new(streamed))
    };
    let (status, echoed) = same(make).await;
    assert_eq!(status, StatusCode::OK);
    let echo: Echo = serde_json::from_slice(&echoed).unwrap();
    assert_eq!(echo.body_base64.len(), 4_000_000);
}

#[tokio::test]
async fn stream_frames_match_and_are_spaced() {
    let uri = "/stream?chunks=5&interval_ms=100&size=32";
    let (axum, actix) = both(|| request(Method::GET, uri, ())).await;
    let (axum, actix) = (axum.unwrap(), actix.unwrap());
    assert_eq!(actix.status(), StatusCode::OK);
    assert_eq!(headers(&axum), headers(&actix));
    assert_eq!(headers(&actix)["content-type"], ["text/event-stream"]);
    let (axum, actix) = tokio::join!(frames(axum), frames(actix));
    assert_eq!(actix.len(), 5);
    let data =
        |frames: &[(Instant, Bytes)]| frames.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>();
    assert_eq!(data(&axum), data(&actix));
    for (i, (_, event)) in actix.iter().enumerate() {
        assert_eq!(*event, stream_event(i as u64, 32));
    }
    for pair in actix.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= Duration::from_millis(80));
    }

    for uri in [
        "/stream?interval_ms=0",
        "/stream?chunks=abc&interval_ms=0&size=-3",
        "/stream?chunks=12&interval_ms=0&size=1",
        "/stream?chunks=0",
    ] {
        let (axum, actix) = both(|| request(Method::GET, uri, ())).await;
        let (axum, actix) = (axum.unwrap(), actix.unwrap());
        assert_eq!(headers(&axum), headers(&actix), "{uri}");
        let (axum, actix) = tokio::join!(frames(axum), frames(actix));
        assert_eq!(data(&axum), data(&actix), "{uri}");
    }
}

#[tokio::test]
async fn bytes_pattern_and_frames_match() {
    for uri in [
        "/bytes?size=1048583",
        "/bytes",
        "/bytes?size=0",
        "/bytes?size=65536",
    ] {
        let (axum, actix) = both(|| request(Method::GET, uri, ())).await;
        let (axum, actix) = (axum.unwrap(), actix.unwrap());
        assert_eq!(headers(&axum), headers(&actix), "{uri}");
        assert_eq!(
            http_body::Body::size_hint(axum.body()).exact(),
            http_body::Body::size_hint(actix.body()).exact(),
            "{uri}"
        );
        let (axum, actix) = tokio::join!(frames(axum), frames(actix));
        let lengths =
            |frames: &[(Instant, Bytes)]| frames.iter().map(|(_, d)| d.len()).collect::<Vec<_>>();
        assert_eq!(lengths(&axum), lengths(&actix), "{uri}");
        assert!(axum.iter().zip(&actix).all(|(a, b)| a.1 == b.1), "{uri}");
    }
    let (status, body) = same(|| request(Method::HEAD, "/bytes?size=5000", ())).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn bytes_are_produced_lazily() {
    // 200 MB through the actix worker: only the frame lengths are kept.
    const BIG: u64 = 200 * 1000 * 1000;
    let response = serve_guarded(
        actix(),
        request(Method::GET, &format!("/bytes?size={BIG}"), ()),
    )
    .await
    .unwrap();
    assert_eq!(response.headers()["content-length"], BIG.to_string());
    let mut body = response.into_body();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert_eq!(data[0], app::pattern_byte(total));
        total += data.len() as u64;
    }
    assert_eq!(total, BIG);
}

#[tokio::test]
async fn status_codes_match() {
    for code in [200u16, 201, 205, 301, 404, 418, 500, 503, 599, 999] {
        let (status, body) = same_get(&format!("/status/{code}")).await;
        assert_eq!((status.as_u16(), body.len()), (code, 0));
    }
    for code in ["abc", "99", "100", "101", "1000", "70000", "-1", "2000000"] {
        let (status, _) = same_get(&format!("/status/{code}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}");
    }
    // The one difference: actix, like its HTTP server, sends no `content-length` on a 204 or
    // a 304 (RFC 9110 forbids it on a 204); axum in process says `content-length: 0`.
    for code in [204u16, 304] {
        let uri = format!("/status/{code}");
        let (axum, actix) = both(|| request(Method::GET, &uri, ())).await;
        let (axum, actix) = (axum.unwrap(), actix.unwrap());
        assert_eq!(actix.status().as_u16(), code);
        assert_eq!(axum.status(), actix.status());
        let mut axum_headers = headers(&axum);
        assert_eq!(axum_headers.remove("content-length").unwrap(), ["0"]);
        assert_eq!(axum_headers, headers(&actix));
        assert!(collect(actix).await.is_empty());
    }
}

#[tokio::test]
async fn fail_mid_stream_fails_the_same_way() {
    let (axum, actix) = both(|| request(Method::GET, "/fail-mid-stream", ())).await;
    let (axum, actix) = (axum.unwrap(), actix.unwrap());
    assert_eq!(actix.status(), StatusCode::OK);
    assert_eq!(headers(&axum), headers(&actix));
    let mut errors = Vec::new();
    for response in [axum, actix] {
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "partial");
        let error = body.frame().await.unwrap().unwrap_err();
        errors.push(error.to_string());
        assert!(body.frame().await.is_none());
    }
    assert_eq!(errors[0], errors[1]);
    assert!(errors[1].contains("reference app failure mid-stream"));
}

#[tokio::test]
async fn sleep_waits_in_both() {
    let start = Instant::now();
    let response = serve_guarded(actix(), request(Method::GET, "/sleep?ms=100", ()))
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(collect(response).await, "slept");
    assert_eq!(
        same_get("/sleep?ms=nonsense").await,
        (StatusCode::OK, Bytes::from("slept"))
    );
}

#[tokio::test]
async fn panics_become_the_same_error() {
    for _ in 0..2 {
        let (axum, actix) = both(|| request(Method::GET, "/panic", ())).await;
        for error in [axum.unwrap_err(), actix.unwrap_err()] {
            assert!(error.is_panic(), "{error}");
            assert_eq!(error.message(), PANIC_MESSAGE);
        }
        // The actix worker survives.
        assert_eq!(same_get("/").await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn events_are_acknowledged_the_same_way() {
    for path in [
        "/events",
        "/sqs",
        "/sns",
        "/anything/else",
        "/",
        "/stream",
        "/panic",
        "/status/204",
    ] {
        let (status, body) = same(|| request(Method::POST, path, r#"{"Records":[]}"#)).await;
        assert_eq!(
            (status, &body[..]),
            (StatusCode::OK, &br#"{"ok":true}"#[..]),
            "{path}"
        );
    }
    let (status, body) = same(|| {
        request(
            Method::POST,
            "/sqs",
            r#"{"Records":[{"body":"please fail"}]}"#,
        )
    })
    .await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::INTERNAL_SERVER_ERROR, &br#"{"ok":false}"#[..])
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
        let (status, _) = same(|| request(method.clone(), "/nope", ())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    for path in [
        "/",
        "/stream",
        "/bytes",
        "/status/200",
        "/fail-mid-stream",
        "/sleep",
        "/panic",
    ] {
        for method in [Method::DELETE, Method::PUT] {
            let (status, _) = same(|| request(method.clone(), path, ())).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn requests_are_served_concurrently() {
    let start = Instant::now();
    let responses = futures_util::future::join_all(
        (0..10).map(|_| serve_guarded(actix(), request(Method::GET, "/sleep?ms=200", ()))),
    )
    .await;
    for response in responses {
        assert_eq!(collect(response.unwrap()).await, "slept");
    }
    assert!(start.elapsed() < Duration::from_millis(1000));
}
