//! `AwsStreamHandler` against a real HTTP/1.1 Runtime API stand-in: a hyper server on
//! 127.0.0.1 that hands out events on `/next` and records every answer frame by frame, with
//! arrival times and trailers, while a real `ServerlessAdapter` function serves an axum app.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serverless_adapter_adapters::ApiGatewayV2Adapter;
use serverless_adapter_core::runtime::Endpoint;
use serverless_adapter_core::{BoxError, FunctionConfig, ServerlessAdapter};
use serverless_adapter_handlers::{AwsStreamHandler, PRELUDE_SEPARATOR};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

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
// The Runtime API stand-in.

/// One event handed out on `/next`.
struct Invocation {
    id: String,
    event: String,
    deadline: Option<SystemTime>,
}

/// What arrived in a POST body.
#[derive(Debug)]
enum Captured {
    Data(Bytes),
    Trailers(HeaderMap),
}

/// One POST to the Runtime API, recorded as it arrived.
#[derive(Debug)]
struct Post {
    path: String,
    headers: HeaderMap,
    /// When `/next` handed out the invocation this answers.
    handed_out: Instant,
    /// Each frame with its arrival time.
    frames: Vec<(Instant, Captured)>,
    /// When the body ended.
    ended: Instant,
}

impl Post {
    fn data(&self) -> Vec<&Bytes> {
        self.frames
            .iter()
            .filter_map(|(_, frame)| match frame {
                Captured::Data(data) => Some(data),
                Captured::Trailers(_) => None,
            })
            .collect()
    }

    fn body(&self) -> Vec<u8> {
        self.data().into_iter().flat_map(|d| d.to_vec()).collect()
    }

    fn trailers(&self) -> Option<&HeaderMap> {
        self.frames.iter().find_map(|(_, frame)| match frame {
            Captured::Trailers(trailers) => Some(trailers),
            Captured::Data(_) => None,
        })
    }
}

struct MockState {
    events: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    posts: mpsc::UnboundedSender<Post>,
    handed_out: Mutex<Option<Instant>>,
}

struct Harness {
    events: mpsc::UnboundedSender<Invocation>,
    posts: mpsc::UnboundedReceiver<Post>,
    server: JoinHandle<()>,
    function: JoinHandle<Result<(), serverless_adapter_core::Error>>,
}

impl Harness {
    /// Starts the Runtime API stand-in and a function serving [`app`] under `AwsStreamHandler`.
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (posts_tx, posts) = mpsc::unbounded_channel();
        let state = Arc::new(MockState {
            events: Mutex::new(events_rx),
            posts: posts_tx,
            handed_out: Mutex::new(None),
        });
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let endpoint = Endpoint::parse(&addr.to_string()).unwrap();
        let function = tokio::spawn(
            ServerlessAdapter::new(app())
                .handler(AwsStreamHandler)
                .adapter(ApiGatewayV2Adapter)
                .build()
                .run_with(endpoint, FunctionConfig::default()),
        );
        Self {
            events,
            posts,
            server,
            function,
        }
    }

    /// Queues an event and waits for its answer.
    async fn invoke(&mut self, id: &str, event: String, deadline: Option<Duration>) -> Post {
        self.events
            .send(Invocation {
                id: id.to_owned(),
                event,
                deadline: deadline.map(|d| SystemTime::now() + d),
            })
            .unwrap();
        let post = timeout(Duration::from_secs(5), self.posts.recv())
            .await
            .expect("an answer within five seconds")
            .expect("the Runtime API stand-in is running");
        assert!(
            post.path.ends_with(&format!("/invocation/{id}/response"))
                || post.path.ends_with(&format!("/invocation/{id}/error")),
            "{}",
            post.path
        );
        post
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.function.abort();
        self.server.abort();
    }
}

async fn serve(
    state: Arc<MockState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    if path == "/2018-06-01/runtime/invocation/next" {
        let Some(invocation) = state.events.lock().await.recv().await else {
            return Ok(Response::builder()
                .status(500)
                .body(Full::default())
                .unwrap());
        };
        *state.handed_out.lock().await = Some(Instant::now());
        let mut response = Response::builder()
            .header("lambda-runtime-aws-request-id", invocation.id)
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test",
            );
        if let Some(deadline) = invocation.deadline {
            let ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            response = response.header("lambda-runtime-deadline-ms", ms.to_string());
        }
        return Ok(response
            .body(Full::new(Bytes::from(invocation.event)))
            .unwrap());
    }
    let (head, mut body) = request.into_parts();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            break;
        };
        let now = Instant::now();
        match frame.into_data() {
            Ok(data) => frames.push((now, Captured::Data(data))),
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    frames.push((now, Captured::Trailers(trailers)));
                }
            }
        }
    }
    let handed_out = state
        .handed_out
        .lock()
        .await
        .take()
        .unwrap_or_else(Instant::now);
    let _ = state.posts.send(Post {
        path,
        headers: head.headers,
        handed_out,
        frames,
        ended: Instant::now(),
    });
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")))
        .unwrap())
}

// ---------------------------------------------------------------------------------------------
// Events and checks.

fn event(method: &str, path: &str, domain: &str) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": domain, "user-agent": "test"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": domain,
            "domainPrefix": "abcdefghij",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test"
            },
            "requestId": "c3b8a6c4",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795435200000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

const FUNCTION_URL: &str = "abcdefghij.lambda-url.us-east-1.on.aws";
const HTTP_API: &str = "abcdefghij.execute-api.us-east-1.amazonaws.com";

fn url_event(path: &str) -> String {
    event("GET", path, FUNCTION_URL)
}

/// Checks the request head of a streamed answer.
fn assert_streaming_head(post: &Post) {
    let header = |name: &str| {
        post.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert!(post.path.ends_with("/response"), "{}", post.path);
    assert_eq!(header("lambda-runtime-function-response-mode"), "streaming");
    assert_eq!(header("transfer-encoding"), "chunked");
    assert_eq!(
        header("content-type"),
        "application/vnd.awslambda.http-integration-response"
    );
    let trailer = header("trailer");
    assert!(
        trailer.contains("lambda-runtime-function-error-type")
            && trailer.contains("lambda-runtime-function-error-body"),
        "{trailer}"
    );
    assert!(!post.headers.contains_key("content-length"));
}

/// Checks that the first two frames are `prelude` and the separator, each on its own.
fn assert_prelude(post: &Post, prelude: &str) {
    let data = post.data();
    assert!(data.len() >= 2, "{:?}", post.frames);
    assert_eq!(std::str::from_utf8(data[0]).unwrap(), prelude);
    assert_eq!(&data[1][..], &PRELUDE_SEPARATOR[..]);
}

/// The error type and decoded JSON of the error trailers.
fn error_trailers(post: &Post) -> (String, serde_json::Value) {
    let trailers = post.trailers().expect("error trailers");
    let error_type = trailers["lambda-runtime-function-error-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let json = base64::engine::general_purpose::STANDARD
        .decode(trailers["lambda-runtime-function-error-body"].as_bytes())
        .unwrap();
    (error_type, serde_json::from_slice(&json).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_prelude_separator_and_body_with_the_streaming_headers() {
    timeout(TEST_TIMEOUT, async {
        let mut harness = Harness::start().await;
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
        let mut harness = Harness::start().await;
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
        let mut harness = Harness::start().await;

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
        let mut harness = Harness::start().await;
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
        let mut harness = Harness::start().await;
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
        let mut harness = Harness::start().await;
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
