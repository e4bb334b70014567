//! A Runtime API stand-in for the handlers' tests: a hyper server on 127.0.0.1 that hands out
//! events on `/next` and records every answer frame by frame, with arrival times and trailers,
//! while a real function (`ServerlessAdapter`, the core's invocation loop) serves them.

// Each test module uses part of it.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serverless_adapter_core::runtime::Endpoint;
use serverless_adapter_core::{Framework, FunctionConfig, Handler, LambdaFunction, Resolver};
use serverless_adapter_handlers::PRELUDE_SEPARATOR;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

// ---------------------------------------------------------------------------------------------
// The Runtime API stand-in.

/// One event handed out on `/next`.
struct Invocation {
    id: String,
    event: String,
    /// The `Lambda-Runtime-Deadline-Ms` header, as sent.
    deadline_ms: Option<String>,
}

/// What arrived in a POST body.
#[derive(Debug)]
pub enum Captured {
    Data(Bytes),
    Trailers(HeaderMap),
}

/// One POST to the Runtime API, recorded as it arrived.
#[derive(Debug)]
pub struct Post {
    pub path: String,
    pub headers: HeaderMap,
    /// When `/next` handed out the invocation this answers.
    pub handed_out: Instant,
    /// Each frame with its arrival time.
    pub frames: Vec<(Instant, Captured)>,
    /// When the body ended.
    pub ended: Instant,
}

impl Post {
    pub fn data(&self) -> Vec<&Bytes> {
        self.frames
            .iter()
            .filter_map(|(_, frame)| match frame {
                Captured::Data(data) => Some(data),
                Captured::Trailers(_) => None,
            })
            .collect()
    }

    pub fn body(&self) -> Vec<u8> {
        self.data().into_iter().flat_map(|d| d.to_vec()).collect()
    }

    pub fn trailers(&self) -> Option<&HeaderMap> {
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

pub struct Harness {
    events: mpsc::UnboundedSender<Invocation>,
    posts: mpsc::UnboundedReceiver<Post>,
    server: JoinHandle<()>,
    function: JoinHandle<Result<(), serverless_adapter_core::Error>>,
}

impl Harness {
    /// Starts the Runtime API stand-in and `function` serving it.
    pub async fn start<F: Framework, H: Handler, R: Resolver>(
        function: LambdaFunction<F, H, R>,
    ) -> Self {
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
        let function = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));
        Self {
            events,
            posts,
            server,
            function,
        }
    }

    /// Queues an event whose deadline is `deadline` from now (none: no deadline header) and
    /// waits for its answer.
    pub async fn invoke(&mut self, id: &str, event: String, deadline: Option<Duration>) -> Post {
        let deadline_ms = deadline.map(|d| {
            (SystemTime::now() + d)
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                .to_string()
        });
        self.invoke_with_deadline_header(id, event, deadline_ms)
            .await
    }

    /// Queues an event with this `Lambda-Runtime-Deadline-Ms` header (none: no header) and
    /// waits for its answer (five seconds at most).
    pub async fn invoke_with_deadline_header(
        &mut self,
        id: &str,
        event: String,
        deadline_ms: Option<String>,
    ) -> Post {
        self.events
            .send(Invocation {
                id: id.to_owned(),
                event,
                deadline_ms,
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
        if let Some(ms) = invocation.deadline_ms {
            response = response.header("lambda-runtime-deadline-ms", ms);
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

pub fn event(method: &str, path: &str, domain: &str) -> String {
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

pub const FUNCTION_URL: &str = "abcdefghij.lambda-url.us-east-1.on.aws";
pub const HTTP_API: &str = "abcdefghij.execute-api.us-east-1.amazonaws.com";

pub fn url_event(path: &str) -> String {
    event("GET", path, FUNCTION_URL)
}

/// Checks the request head of a streamed answer.
pub fn assert_streaming_head(post: &Post) {
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
pub fn assert_prelude(post: &Post, prelude: &str) {
    let data = post.data();
    assert!(data.len() >= 2, "{:?}", post.frames);
    assert_eq!(std::str::from_utf8(data[0]).unwrap(), prelude);
    assert_eq!(&data[1][..], &PRELUDE_SEPARATOR[..]);
}

/// The error type and decoded JSON of the error trailers.
pub fn error_trailers(post: &Post) -> (String, serde_json::Value) {
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
