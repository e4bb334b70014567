//! `AwsStreamHandler` against a real HTTP/1.1 Runtime API stand-in (`common`): a hyper server
//! on 127.0.0.1 that hands out events on `/next` and records every answer frame by frame, with
//! arrival times and trailers, while a real `ServerlessAdapter` function serves an axum app.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body::Frame;
use serverless_adapter_adapters::ApiGatewayV2Adapter;
use serverless_adapter_core::{BoxError, ServerlessAdapter};
use serverless_adapter_handlers::{AwsStreamHandler, PRELUDE_SEPARATOR};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

use crate::common::{
    assert_prelude, assert_streaming_head, error_trailers, event, url_event, Captured, Harness,
    FUNCTION_URL, HTTP_API,
};

const TEST_TIMEOUT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// The app.

/// A body fed through a channel, so the app writes as it goes.
struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, BoxError>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx)
    }
}

/// A body that yields `partial` and then panics.
struct PanickingBody {
    polled: bool,
}

impl http_body::Body for PanickingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.polled {
            panic!("boom inside the body");
        }
        self.polled = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"partial")))))
    }
}

fn channel_body() -> (
    mpsc::Sender<Result<Frame<Bytes>, BoxError>>,
    axum::body::Body,
) {
    let (tx, rx) = mpsc::channel(1);
    (tx, axum::body::Body::new(ChannelBody(rx)))
}

fn app() -> Router {
    Router::new()
        .route(
            "/hello",
            get(|| async {
                Response::builder()
                    .header("content-type", "text/plain")
                    .header("set-cookie", "a=1; Path=/")
                    .header("set-cookie", "b=2; Path=/")
                    .header("x-multi", "one")
                    .header("x-multi", "two")
                    .body(axum::body::Body::from("hello"))
                    .unwrap()
            }),
        )
        .route(
            "/stream",
            get(|| async {
                let (tx, body) = channel_body();
                tokio::spawn(async move {
                    for i in 0..3 {
                        if i > 0 {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        let chunk = Frame::data(Bytes::from(format!("data: {i}\n\n")));
                        if tx.send(Ok(chunk)).await.is_err() {
                            return;
                        }
                    }
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(body)
                    .unwrap()
            }),
        )
        .route(
            "/fail-mid-stream",
            get(|| async {
                let (tx, body) = channel_body();
                tokio::spawn(async move {
                    let _ = tx.send(Ok(Frame::data(Bytes::from("partial")))).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let _ = tx
                        .send(Err(std::io::Error::other("the upstream went away").into()))
                        .await;
                });
                Response::new(body)
            }),
        )
        .route(
            "/panic-in-body",
            get(|| async { Response::new(axum::body::Body::new(PanickingBody { polled: false })) }),
        )
        .route("/empty", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/never-ends",
            get(|| async {
                let (tx, body) = channel_body();
                tokio::spawn(async move {
                    let _ = tx.send(Ok(Frame::data(Bytes::from("early")))).await;
                    // Keep the body open until the answer drops it.
                    tx.closed().await;
                });
                Response::new(body)
            }),
        )
}

// ---------------------------------------------------------------------------------------------
// The function.

/// The Runtime API stand-in and a function serving [`app`] under `AwsStreamHandler`.
async fn start() -> Harness {
    Harness::start(
        ServerlessAdapter::new(app())
            .handler(AwsStreamHandler)
            .adapter(ApiGatewayV2Adapter)
            .build(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_prelude_separator_and_body_with_the_streaming_headers() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;
        let post = harness.invoke("req-hello", url_event("/hello"), None).await;
        assert_streaming_head(&post);
        assert_prelude(
            &post,
            r#"{"statusCode":200,"headers":{"content-type":"text/plain","x-multi":["one","two"],"content-length":"5"},"cookies":["a=1; Path=/","b=2; Path=/"]}"#,
        );
        assert_eq!(post.data().len(), 3, "{:?}", post.frames);
        assert_eq!(post.data()[2], "hello");
        assert!(post.trailers().is_none());
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_arrive_as_the_app_writes_them() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;
        let post = harness
            .invoke("req-stream", url_event("/stream"), None)
            .await;
        assert_streaming_head(&post);
        assert_prelude(
            &post,
            r#"{"statusCode":200,"headers":{"content-type":"text/event-stream"},"cookies":[]}"#,
        );
        let mut body = post.body();
        body.drain(..post.data()[0].len() + PRELUDE_SEPARATOR.len());
        assert_eq!(body, b"data: 0\n\ndata: 1\n\ndata: 2\n\n");
        let arrivals: Vec<Instant> = post
            .frames
            .iter()
            .skip(2)
            .filter_map(|(at, frame)| match frame {
                Captured::Data(data) if data.starts_with(b"data: ") => Some(*at),
                _ => None,
            })
            .collect();
        assert_eq!(arrivals.len(), 3, "{:?}", post.frames);
        for pair in arrivals.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= Duration::from_millis(80), "chunks {gap:?} apart");
        }
        assert!(post.trailers().is_none());
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_after_the_prelude_end_in_real_trailers_and_the_next_invocation_works() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;

        let post = harness
            .invoke("req-fail", url_event("/fail-mid-stream"), None)
            .await;
        assert_streaming_head(&post);
        assert_prelude(&post, r#"{"statusCode":200,"headers":{},"cookies":[]}"#);
        assert_eq!(post.data().len(), 3, "{:?}", post.frames);
        assert_eq!(post.data()[2], "partial");
        assert!(
            matches!(post.frames.last(), Some((_, Captured::Trailers(_)))),
            "the trailers come last: {:?}",
            post.frames
        );
        let (error_type, json) = error_trailers(&post);
        assert_eq!(error_type, "Runtime.StreamError");
        assert_eq!(
            json,
            serde_json::json!({
                "errorType": "Runtime.StreamError",
                "errorMessage": "the upstream went away",
            })
        );

        let post = harness
            .invoke("req-panic", url_event("/panic-in-body"), None)
            .await;
        assert_eq!(post.data()[2], "partial");
        let (error_type, json) = error_trailers(&post);
        assert_eq!(error_type, "App.Panic");
        assert_eq!(json["errorMessage"], "boom inside the body");

        let post = harness.invoke("req-after", url_event("/hello"), None).await;
        assert_streaming_head(&post);
        assert_eq!(post.data()[2], "hello");
        assert!(post.trailers().is_none());
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_bodies_end_promptly_after_the_separator() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;
        let post = harness.invoke("req-204", url_event("/empty"), None).await;
        assert_streaming_head(&post);
        // axum adds `content-length: 0`; the prelude carries the app's headers as they are.
        assert_prelude(
            &post,
            r#"{"statusCode":204,"headers":{"content-length":"0"},"cookies":[]}"#,
        );
        assert_eq!(post.frames.len(), 2, "{:?}", post.frames);
        let took = post.ended - post.handed_out;
        assert!(took < Duration::from_millis(500), "took {took:?}");

        let post = harness
            .invoke("req-head", event("HEAD", "/hello", FUNCTION_URL), None)
            .await;
        assert_streaming_head(&post);
        assert!(post.data()[0].starts_with(br#"{"statusCode":200,"#));
        assert_eq!(
            post.body().len(),
            post.data()[0].len() + 8,
            "no body for HEAD"
        );
        let took = post.ended - post.handed_out;
        assert!(took < Duration::from_millis(500), "took {took:?}");
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_still_running_near_the_deadline_ends_with_a_timeout_trailer() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;
        let post = harness
            .invoke(
                "req-slow",
                url_event("/never-ends"),
                Some(Duration::from_millis(1500)),
            )
            .await;
        assert_streaming_head(&post);
        assert_eq!(post.data()[2], "early");
        let (error_type, json) = error_trailers(&post);
        assert_eq!(error_type, "App.Timeout");
        assert_eq!(json["errorType"], "App.Timeout");
        // Ended about 300 ms before the deadline, not at it.
        let took = post.ended - post.handed_out;
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_millis(1450),
            "took {took:?}"
        );
        // The function goes on serving.
        let post = harness.invoke("req-next", url_event("/hello"), None).await;
        assert_eq!(post.data()[2], "hello");
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_events_are_answered_buffered_under_the_stream_handler() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = start().await;
        let post = harness
            .invoke("req-apigw", event("GET", "/hello", HTTP_API), None)
            .await;
        assert!(post.path.ends_with("/invocation/req-apigw/response"));
        assert!(!post
            .headers
            .contains_key("lambda-runtime-function-response-mode"));
        assert!(post.trailers().is_none());
        let answer: serde_json::Value = serde_json::from_slice(&post.body()).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({
                "statusCode": 200,
                "headers": {
                    "content-type": "text/plain",
                    "x-multi": "one, two",
                    "content-length": "5",
                },
                "cookies": ["a=1; Path=/", "b=2; Path=/"],
                "body": "hello",
                "isBase64Encoded": false,
            })
        );
        // A streamed answer right after a buffered one, on the same connection.
        let post = harness.invoke("req-url", url_event("/stream"), None).await;
        assert_streaming_head(&post);
        assert_eq!(post.data().len(), 5, "{:?}", post.frames);
    })
    .await
    .expect("the test finishes in time");
}
