//! The app through [`PoemFramework`], as the core calls it.

use super::*;

use http_body_util::BodyExt as _;
use serverless_adapter_core::{serve_guarded, Body as CoreBody};

use crate::PoemFramework;

type Framework = PoemFramework<poem::endpoint::BoxEndpoint<'static, Response>>;

fn framework() -> Framework {
    PoemFramework::new(app().map_to_response().boxed())
}

fn request(method: &str, uri: &str, body: &'static [u8]) -> http::Request<CoreBody> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(CoreBody::from(Bytes::from_static(body)))
        .unwrap()
}

async fn serve(method: &str, uri: &str, body: &'static [u8]) -> http::Response<CoreBody> {
    serve_guarded(&framework(), request(method, uri, body))
        .await
        .unwrap()
}

/// Status, content type and the whole body.
async fn answer(method: &str, uri: &str, body: &'static [u8]) -> (u16, String, Bytes) {
    let response = serve(method, uri, body).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, body)
}

async fn response_status(method: &str, uri: &str) -> u16 {
    serve(method, uri, b"").await.status().as_u16()
}

/// The data frames of a body, one by one, and the error that ended it, if any.
async fn read_frames(body: CoreBody) -> (Vec<Bytes>, Option<String>) {
    let mut body = body;
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => frames.push(frame.into_data().unwrap()),
            Err(error) => return (frames, Some(error.to_string())),
        }
    }
    (frames, None)
}

#[tokio::test]
async fn root() {
    let (status, content_type, body) = answer("GET", "/", b"").await;
    assert_eq!(
        (status, &content_type[..], &body[..]),
        (200, "text/plain", &b"ok"[..])
    );
    let (status, _, body) = answer("POST", "/", b"{}").await;
    assert_eq!((status, &body[..]), (200, &br#"{"ok":true}"#[..]));
}

#[tokio::test]
async fn echo_answers_the_request_as_received() {
    for (method, uri, path, query) in [
        ("POST", "/echo/a%20b/c?x=1&x=2", "/echo/a%20b/c", "x=1&x=2"),
        ("GET", "/echo", "/echo", ""),
        ("PUT", "/echo/", "/echo/", ""),
        ("DELETE", "/echo/x", "/echo/x", ""),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("x-rep", "one")
            .header("x-rep", "two")
            .body(CoreBody::from(Bytes::from_static(&[0, 1, 2, 254, 255])))
            .unwrap();
        let response = serve_guarded(&framework(), request).await.unwrap();
        assert_eq!(response.status(), 200, "{method} {uri}");
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let all = |name: &str| -> Vec<&str> {
            headers
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap())
                .collect()
        };
        assert_eq!(all("set-cookie"), ["a=1; Path=/", "b=2; Path=/"]);
        assert_eq!(all("x-multi"), ["one", "two"]);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let echo: Echo = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            echo,
            Echo {
                method: method.to_owned(),
                path: path.to_owned(),
                query: query.to_owned(),
                headers: vec![
                    ("x-rep".to_owned(), "one".to_owned()),
                    ("x-rep".to_owned(), "two".to_owned()),
                ],
                body_base64: "AAEC/v8=".to_owned(),
            }
        );
    }
}

#[tokio::test]
async fn stream_sends_one_frame_per_event() {
    let response = serve("GET", "/stream?interval_ms=1", b"").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let (frames, error) = read_frames(response.into_body()).await;
    assert_eq!(error, None);
    let expected: Vec<Bytes> = (0..DEFAULT_STREAM_CHUNKS)
        .map(|i| Bytes::from(format!("data: {i} xxxxxx\n\n")))
        .collect();
    assert_eq!(frames, expected);
    assert!(frames
        .iter()
        .all(|frame| frame.len() == DEFAULT_STREAM_SIZE));

    // Lenient parameters: the last value wins, a bad one is the default.
    let response = serve("GET", "/stream?chunks=9&chunks=2&interval_ms=x&size=3", b"").await;
    let (frames, _) = read_frames(response.into_body()).await;
    assert_eq!(frames, ["data: 0 \n\n", "data: 1 \n\n"]);
}

#[tokio::test]
async fn stream_events_are_spaced_by_the_interval() {
    let started = std::time::Instant::now();
    let response = serve("GET", "/stream?chunks=3&interval_ms=50&size=4", b"").await;
    let (frames, _) = read_frames(response.into_body()).await;
    assert_eq!(frames.len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn bytes_are_the_pattern_in_64_kib_frames() {
    let size = 3 * BYTES_CHUNK_SIZE as u64 + 1000;
    let response = serve("GET", &format!("/bytes?size={size}"), b"").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(headers[header::CONTENT_LENGTH], size.to_string().as_str());
    let (frames, error) = read_frames(response.into_body()).await;
    assert_eq!(error, None);
    let lengths: Vec<usize> = frames.iter().map(Bytes::len).collect();
    assert_eq!(
        lengths,
        [BYTES_CHUNK_SIZE, BYTES_CHUNK_SIZE, BYTES_CHUNK_SIZE, 1000]
    );
    let body: Vec<u8> = frames.concat();
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, byte)| *byte == pattern_byte(i as u64)));

    let (status, _, body) = answer("GET", "/bytes", b"").await;
    assert_eq!(status, 200);
    assert_eq!(body.len() as u64, DEFAULT_BYTES_SIZE);
    let response = serve("GET", "/bytes?size=0", b"").await;
    assert_eq!(response.headers()[header::CONTENT_LENGTH], "0");
    assert_eq!(read_frames(response.into_body()).await, (vec![], None));
}

#[tokio::test]
async fn status_is_that_status_or_400() {
    for (uri, status) in [
        ("/status/418", 418),
        ("/status/204", 204),
        ("/status/599", 599),
        ("/status/100", 400),
        ("/status/1000", 400),
        ("/status/abc", 400),
        ("/status/a/b", 404),
    ] {
        let (got, _, body) = answer("GET", uri, b"").await;
        assert_eq!(got, status, "{uri}");
        assert!(body.is_empty(), "{uri}");
    }
}

#[tokio::test]
async fn fail_mid_stream_is_a_body_error_after_one_frame() {
    let response = serve("GET", "/fail-mid-stream", b"").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain");
    let (frames, error) = read_frames(response.into_body()).await;
    assert_eq!(frames, ["partial"]);
    let error = error.expect("the body fails");
    assert!(
        error.contains("reference app failure mid-stream"),
        "{error}"
    );
}

#[tokio::test]
async fn sleep_waits_then_answers() {
    let started = std::time::Instant::now();
    let (status, content_type, body) = answer("GET", "/sleep?ms=50", b"").await;
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        (status, &content_type[..], &body[..]),
        (200, "text/plain", &b"slept"[..])
    );
    assert_eq!(answer("GET", "/sleep", b"").await.2, "slept");
}

#[tokio::test]
async fn panic_reaches_the_core_as_a_panic() {
    let error = serve_guarded(&framework(), request("GET", "/panic", b""))
        .await
        .unwrap_err();
    assert!(error.is_panic(), "{error}");
    assert!(error.message().contains(PANIC_MESSAGE), "{error}");
}

#[tokio::test]
async fn every_other_post_is_an_event() {
    for uri in [
        "/events",
        "/logs",
        "/sqs",
        "/sns",
        "/s3",
        "/eventbridge",
        "/kinesis",
        "/dynamodb",
        "/ws/$connect",
        "/ws/a/b/c?x=1",
        "/ws/",
        "/echox",
        "/stream/",
        "//",
        "/stream",
        "/bytes",
        "/status/418",
        "/status/a/b",
        "/fail-mid-stream",
        "/sleep",
        "/panic",
    ] {
        let (status, content_type, body) = answer("POST", uri, b"{\"m\":\"hi\"}").await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!(content_type, "application/json", "{uri}");
        assert_eq!(&body[..], br#"{"ok":true}"#, "{uri}");
        let failing = serve("POST", uri, b"{\"m\":\"payment failed\"}").await;
        assert_eq!(failing.status(), 500, "{uri}");
        let body = failing.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"ok":false}"#, "{uri}");
    }
}

#[tokio::test]
async fn anything_else_is_not_found_or_not_allowed() {
    for (method, uri, status) in [
        ("GET", "/nope", 404),
        ("GET", "/sqs", 404),
        ("PUT", "/events", 404),
        ("GET", "/ws/a/b", 404),
        ("GET", "/stream/", 404),
        ("HEAD", "/", 200),
        ("HEAD", "/nope", 404),
        ("PUT", "/stream", 405),
        ("DELETE", "/", 405),
        ("PATCH", "/bytes", 405),
    ] {
        assert_eq!(response_status(method, uri).await, status, "{method} {uri}");
    }
    let response = serve("PUT", "/stream", b"x").await;
    assert_eq!(response.headers()[header::ALLOW], "GET,HEAD,POST");
    let (status, content_type, body) = answer("DELETE", "/sleep", b"").await;
    assert_eq!((status, &content_type[..], &body[..]), (405, "", &b""[..]));
}
