//! The mock Runtime API: one per contestant (and per cold start), the same code for everyone.
//!
//! hyper 1 on `127.0.0.1:0`, `TCP_NODELAY` on accepted sockets. `/next` hands out one queued
//! event at a time with the usual context headers; `/response` and `/error` are read to the end
//! and timed from the moment the event was handed out. The arrival of the first `/next` is
//! timestamped (cold start). The Extensions API registration is answered too (the Lambda Web
//! Adapter registers as an extension before it polls).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::BoxError;

/// Per-invocation timeout: a contestant that does not answer within it fails the workload.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Bytes of each answer kept for the correctness check.
const HEAD_KEEP: usize = 4096;
const PREFIX: &str = "/2018-06-01/runtime/invocation/";

struct Job {
    id: String,
    event: Bytes,
    done: oneshot::Sender<Outcome>,
}

struct Pending {
    start: Instant,
    done: oneshot::Sender<Outcome>,
}

/// One answer as the Runtime API received it.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// From handing out the event to the end of the answer.
    pub(crate) total: Duration,
    /// From handing out the event to the first body byte after the 8-NUL separator (streamed).
    pub(crate) first_byte: Option<Duration>,
    /// The answer was posted in streaming mode.
    pub(crate) streamed: bool,
    /// `/error` was called, or the stream ended with an error trailer.
    pub(crate) error: Option<String>,
    /// The first bytes of the answer.
    pub(crate) head: Vec<u8>,
    /// The whole answer's length (prelude and separator included when streamed).
    pub(crate) len: usize,
}

struct RuntimeApi {
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    pending: Mutex<HashMap<String, Pending>>,
    first_next: Mutex<Option<Instant>>,
    first_next_seen: Notify,
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

async fn serve_runtime(
    api: Arc<RuntimeApi>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if req.method() == http::Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        {
            let mut first = api.first_next.lock().expect("lock");
            if first.is_none() {
                *first = Some(Instant::now());
                api.first_next_seen.notify_waiters();
            }
        }
        let job = { api.jobs.lock().await.recv().await };
        let Some(job) = job else {
            return Ok(empty(StatusCode::GONE));
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + 60_000;
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", job.id.as_str())
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
            )
            .body(Full::new(job.event))
            .expect("valid response");
        api.pending.lock().expect("lock").insert(
            job.id,
            Pending {
                start: Instant::now(),
                done: job.done,
            },
        );
        return Ok(response);
    }
    if req.method() == http::Method::GET && path == "/2020-01-01/extension/event/next" {
        // An extension waiting for SHUTDOWN: none comes during a bench.
        std::future::pending::<()>().await;
    }
    if req.method() == http::Method::POST {
        if path == "/2020-01-01/extension/register" {
            let response = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-extension-identifier", "bench-extension-id")
                .body(Full::new(Bytes::from_static(
                    br#"{"functionName":"bench","functionVersion":"$LATEST","handler":"bootstrap"}"#,
                )))
                .expect("valid response");
            return Ok(response);
        }
        if path == "/2018-06-01/runtime/init/error" {
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            eprintln!("  init error: {:?}", body.unwrap_or_default());
            return Ok(empty(StatusCode::ACCEPTED));
        }
        if let Some(rest) = path.strip_prefix(PREFIX) {
            if let Some((id, what)) = rest.split_once('/') {
                let is_error = what == "error";
                if what == "response" || is_error {
                    let id = id.to_owned();
                    return Ok(receive_answer(&api, &id, is_error, req).await);
                }
            }
        }
    }
    Ok(empty(StatusCode::NOT_FOUND))
}

async fn receive_answer(
    api: &RuntimeApi,
    id: &str,
    is_error: bool,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let streamed = req
        .headers()
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"streaming"));
    let mut body = req.into_body();
    let mut head = Vec::new();
    let mut len = 0usize;
    let mut nul_run = 0usize;
    let mut separator_seen = false;
    let mut first_byte_at = None;
    let mut error = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                error = Some(format!("body error: {e}"));
                break;
            }
        };
        match frame.into_data() {
            Ok(data) => {
                if streamed && first_byte_at.is_none() {
                    let mut offset = 0;
                    if !separator_seen {
                        for (i, b) in data.iter().enumerate() {
                            if *b == 0 {
                                nul_run += 1;
                                if nul_run == 8 {
                                    separator_seen = true;
                                    offset = i + 1;
                                    break;
                                }
                            } else {
                                nul_run = 0;
                            }
                        }
                    }
                    if separator_seen && data.len() > offset {
                        first_byte_at = Some(Instant::now());
                    }
                }
                len += data.len();
                if head.len() < HEAD_KEEP {
                    let take = (HEAD_KEEP - head.len()).min(data.len());
                    head.extend_from_slice(&data[..take]);
                }
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    if let Some(kind) = trailers.get("lambda-runtime-function-error-type") {
                        error = Some(format!("stream error trailer: {kind:?}"));
                    }
                }
            }
        }
    }
    let end = Instant::now();
    if is_error {
        error = Some(format!("/error: {}", String::from_utf8_lossy(&head)));
    }
    let pending = api.pending.lock().expect("lock").remove(id);
    if let Some(pending) = pending {
        let _ = pending.done.send(Outcome {
            total: end - pending.start,
            first_byte: first_byte_at.map(|t| t - pending.start),
            streamed,
            error,
            head,
            len,
        });
        empty(StatusCode::ACCEPTED)
    } else {
        empty(StatusCode::BAD_REQUEST)
    }
}

/// A Runtime API for one contestant; dropping it stops the server and its connections.
pub(crate) struct MockRuntime {
    /// Where it listens (`AWS_LAMBDA_RUNTIME_API`).
    pub(crate) addr: SocketAddr,
    jobs: mpsc::Sender<Job>,
    api: Arc<RuntimeApi>,
    tasks: tokio::task::JoinSet<()>,
}

impl MockRuntime {
    /// Starts a Runtime API on a free port of 127.0.0.1.
    pub(crate) async fn start() -> Result<Self, BoxError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(1);
        let api = Arc::new(RuntimeApi {
            jobs: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            first_next: Mutex::new(None),
            first_next_seen: Notify::new(),
        });
        let mut tasks = tokio::task::JoinSet::new();
        let server_api = api.clone();
        tasks.spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let api = server_api.clone();
                connections.spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| serve_runtime(api.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            addr,
            jobs: tx,
            api,
            tasks,
        })
    }

    /// Hands out `event` under request id `id` and waits for its answer.
    pub(crate) async fn invoke(&self, id: String, event: Bytes) -> Result<Outcome, BoxError> {
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(Job { id, event, done })
            .await
            .map_err(|_| "runtime API closed")?;
        Ok(tokio::time::timeout(INVOKE_TIMEOUT, rx)
            .await
            .map_err(|_| "no answer within the invocation timeout")??)
    }

    /// When the first `/next` arrived, waiting for it up to `limit`.
    pub(crate) async fn first_next(&self, limit: Duration) -> Result<Instant, BoxError> {
        let wait = async {
            loop {
                let notified = self.api.first_next_seen.notified();
                if let Some(at) = *self.api.first_next.lock().expect("lock") {
                    return at;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .map_err(|_| format!("no /next within {} s", limit.as_secs()).into())
    }
}

impl Drop for MockRuntime {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}
