//! The whole answer — head *and* body — ends before the Lambda deadline minus the margin, for
//! every way of answering: buffered (`DefaultHandler`, and `AwsStreamHandler` for events that
//! cannot stream), streamed (`AwsStreamHandler`), and per batch record (SQS in per-record mode).
//!
//! The app sends its head at once and its body slower than the time left (a slow query behind a
//! chunked response). Each invocation gets a 1.5 s deadline while the body would take 30 s; the
//! Runtime API stand-in (`common`) waits five seconds at most for the answer, so an answer that
//! arrives at all arrived long before the body could have finished.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http::Response;
use http_body::Frame;
use serverless_adapter_adapters::{ApiGatewayV2Adapter, SqsAdapter};
use serverless_adapter_core::{
    Body, BoxError, DefaultHandler, Error, LambdaContext, Resolution, Resolver, ServerlessAdapter,
};
use serverless_adapter_handlers::AwsStreamHandler;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::common::{
    assert_streaming_head, error_trailers, event, url_event, Harness, Post, HTTP_API,
};

const TEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The time left when each invocation is handed out.
const DEADLINE: Duration = Duration::from_millis(1500);
/// How long the slow body would take: far beyond the deadline.
const BODY_TAKES: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The app.

/// A body fed through a channel, so the app writes as it goes.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0
            .poll_recv(cx)
            .map(|data| data.map(|d| Ok(Frame::data(d))))
    }
}

/// A response whose head is sent at once and whose body is `rows` rows, `every` apart, the
/// first at once.
fn trickle(rows: usize, every: Duration) -> Response<axum::body::Body> {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        for row in 0..rows {
            if row > 0 {
                tokio::time::sleep(every).await;
            }
            if tx.send(Bytes::from(format!("row {row}\n"))).await.is_err() {
                return; // the answer dropped the body
            }
        }
    });
    Response::builder()
        .header("content-type", "text/plain")
        .body(axum::body::Body::new(ChannelBody(rx)))
        .unwrap()
}

/// The head at once, the body in 30 s: `row 0` at once, then a row every 10 s.
fn slow_body() -> Response<axum::body::Body> {
    trickle(4, BODY_TAKES / 3)
}

/// What the app acknowledged (SQS messages it finished).
type Acked = Arc<Mutex<BTreeSet<String>>>;

/// `GET /hello`, `GET /slow-body`, `GET /slow-head` (no head for 30 s), `GET /trickle`
/// (three rows 200 ms apart), and `POST /sqs`: a message whose body is `ok` is acknowledged
/// and answered at once, `slow-body` and `slow-head` are answered like the routes.
fn app(acked: Acked) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/slow-body", get(|| async { slow_body() }))
        .route(
            "/slow-head",
            get(|| async {
                tokio::time::sleep(BODY_TAKES).await;
                "too late"
            }),
        )
        .route(
            "/trickle",
            get(|| async { trickle(3, Duration::from_millis(200)) }),
        )
        .route(
            "/sqs",
            post(
                |State(acked): State<Acked>, headers: HeaderMap, body: String| async move {
                    let id = headers["x-sqs-message-id"].to_str().unwrap().to_owned();
                    match body.as_str() {
                        "slow-body" => slow_body(),
                        "slow-head" => {
                            tokio::time::sleep(BODY_TAKES).await;
                            Response::new(axum::body::Body::from("too late"))
                        }
                        _ => {
                            acked.lock().unwrap().insert(id);
                            Response::new(axum::body::Body::from("done"))
                        }
                    }
                },
            ),
        )
        .with_state(acked)
}

/// A resolver that fails the invocation for every error (no 5xx answer).
struct FailErrors;

impl Resolver for FailErrors {
    async fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        _: &LambdaContext,
    ) -> Resolution {
        match outcome {
            Ok(response) => Resolution::Respond(response),
            Err(error) => Resolution::Fail(error),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

fn json(post: &Post) -> serde_json::Value {
    serde_json::from_slice(&post.body()).unwrap_or_else(|error| {
        panic!("{error}: {}", String::from_utf8_lossy(&post.body()));
    })
}

/// The answer came long before the slow body (30 s) could have finished.
fn assert_prompt(post: &Post) {
    let took = post.ended - post.handed_out;
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// A buffered API Gateway answer that is the default resolver's `504` for `App.Timeout`.
fn assert_gateway_timeout(post: &Post) {
    assert!(post.path.ends_with("/response"), "{}", post.path);
    assert!(!post
        .headers
        .contains_key("lambda-runtime-function-response-mode"));
    let answer = json(post);
    assert_eq!(answer["statusCode"], 504, "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("a body")).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Gateway Timeout", "errorType": "App.Timeout"})
    );
    assert_prompt(post);
}

/// `{"batchItemFailures": [...]}` as a sorted list of ids.
fn failed_items(post: &Post) -> Vec<String> {
    assert!(post.path.ends_with("/response"), "{}", post.path);
    let answer = json(post);
    let mut ids: Vec<String> = answer["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("batchItemFailures in {answer}"))
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sqs_event(messages: &[(&str, &str)]) -> String {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|(id, body)| {
            serde_json::json!({
                "messageId": id,
                "receiptHandle": format!("handle-{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795435200000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795435200001"
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffered_body_slower_than_the_deadline_is_answered_504_before_it() {
    timeout(TEST_TIMEOUT, async {
        let acked = Acked::default();
        // The default handler, and the stream handler for an event that cannot stream.
        let buffered = ServerlessAdapter::new(app(acked.clone()))
            .handler(DefaultHandler)
            .adapter(ApiGatewayV2Adapter)
            .build();
        let streaming = ServerlessAdapter::new(app(acked))
            .handler(AwsStreamHandler)
            .adapter(ApiGatewayV2Adapter)
            .build();
        for mut harness in [
            Harness::start(buffered).await,
            Harness::start(streaming).await,
        ] {
            let post = harness
                .invoke(
                    "req-slow-body",
                    event("GET", "/slow-body", HTTP_API),
                    Some(DEADLINE),
                )
                .await;
            assert_gateway_timeout(&post);

            // Exactly as a head that comes too late is answered.
            let post = harness
                .invoke(
                    "req-slow-head",
                    event("GET", "/slow-head", HTTP_API),
                    Some(DEADLINE),
                )
                .await;
            assert_gateway_timeout(&post);

            // The function goes on serving, and a body that ends in time is untouched.
            let post = harness
                .invoke(
                    "req-trickle",
                    event("GET", "/trickle", HTTP_API),
                    Some(DEADLINE),
                )
                .await;
            let answer = json(&post);
            assert_eq!(answer["statusCode"], 200, "{answer}");
            assert_eq!(answer["body"], "row 0\nrow 1\nrow 2\n");
        }
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_fails_timeouts_fails_a_slow_body_with_app_timeout() {
    timeout(TEST_TIMEOUT, async {
        let function = ServerlessAdapter::new(app(Acked::default()))
            .adapter(ApiGatewayV2Adapter)
            .resolver(FailErrors)
            .build();
        let mut harness = Harness::start(function).await;
        for (id, path) in [("req-body", "/slow-body"), ("req-head", "/slow-head")] {
            let post = harness
                .invoke(id, event("GET", path, HTTP_API), Some(DEADLINE))
                .await;
            assert!(
                post.path.ends_with(&format!("/{id}/error")),
                "{}",
                post.path
            );
            assert_eq!(
                post.headers["lambda-runtime-function-error-type"],
                "App.Timeout"
            );
            let error = json(&post);
            assert_eq!(error["errorType"], "App.Timeout", "{error}");
            let message = error["errorMessage"].as_str().unwrap();
            assert!(message.contains("deadline minus the margin"), "{message}");
            if path == "/slow-body" {
                assert!(message.contains("response body"), "{message}");
            }
            assert_prompt(&post);
        }
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_slower_than_the_deadline_ends_with_the_timeout_trailers() {
    timeout(TEST_TIMEOUT, async {
        // The function's margin (700 ms) is larger than the stream handler's (300 ms): the
        // stream ends at the function's deadline, like every other answer.
        let function = ServerlessAdapter::new(app(Acked::default()))
            .handler(AwsStreamHandler)
            .adapter(ApiGatewayV2Adapter)
            .deadline_margin(Duration::from_millis(700))
            .build();
        let mut harness = Harness::start(function).await;
        let post = harness
            .invoke("req-stream", url_event("/slow-body"), Some(DEADLINE))
            .await;
        assert_streaming_head(&post);
        assert!(post.data()[0].starts_with(br#"{"statusCode":200,"#));
        assert_eq!(post.data()[2], "row 0\n");
        assert_eq!(post.data().len(), 3, "{:?}", post.frames);
        let (error_type, json) = error_trailers(&post);
        assert_eq!(error_type, "App.Timeout");
        assert_eq!(json["errorType"], "App.Timeout");
        let message = json["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("response body was not complete within"),
            "the function's deadline ended the stream: {message}"
        );
        assert_prompt(&post);

        let post = harness
            .invoke("req-next", url_event("/trickle"), Some(DEADLINE))
            .await;
        assert_streaming_head(&post);
        assert!(post.trailers().is_none(), "{:?}", post.frames);
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_record_whose_body_is_slow_is_reported_and_the_others_are_served() {
    timeout(TEST_TIMEOUT, async {
        let acked = Acked::default();
        for in_order in [false, true] {
            acked.lock().unwrap().clear();
            // Concurrently (the default), and one message after another.
            let adapter = SqsAdapter::per_record().concurrency(if in_order { 1 } else { 10 });
            let function = ServerlessAdapter::new(app(acked.clone()))
                .adapter(adapter)
                .build();
            let mut harness = Harness::start(function).await;
            let messages = [
                ("m1", "ok"),
                ("m2", "slow-body"),
                ("m3", "ok"),
                ("m4", "slow-head"),
            ];
            let post = harness
                .invoke("req-sqs", sqs_event(&messages), Some(DEADLINE))
                .await;
            assert_prompt(&post);
            if in_order {
                // m2 takes the whole time: m3 and m4 start after the deadline and time out too.
                assert_eq!(failed_items(&post), ["m2", "m3", "m4"]);
                assert_eq!(*acked.lock().unwrap(), BTreeSet::from(["m1".to_owned()]));
            } else {
                // The slow body is reported like the late head; the others are served.
                assert_eq!(failed_items(&post), ["m2", "m4"]);
                assert_eq!(
                    *acked.lock().unwrap(),
                    BTreeSet::from(["m1".to_owned(), "m3".to_owned()])
                );
            }
        }
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_deadline_times_nothing() {
    timeout(TEST_TIMEOUT, async {
        let function = ServerlessAdapter::new(app(Acked::default()))
            .adapter(ApiGatewayV2Adapter)
            .build();
        let mut harness = Harness::start(function).await;
        // cargo-lambda sends this constant, not a timestamp: read as a deadline it would have
        // passed long ago, and the app would be given up on at once.
        for deadline in [Some("600000".to_owned()), None] {
            let post = harness
                .invoke_with_deadline_header(
                    "req-cargo-lambda",
                    event("GET", "/trickle", HTTP_API),
                    deadline,
                )
                .await;
            let answer = json(&post);
            assert_eq!(answer["statusCode"], 200, "{answer}");
            assert_eq!(answer["body"], "row 0\nrow 1\nrow 2\n");
        }
    })
    .await
    .expect("the test finishes in time");
}
