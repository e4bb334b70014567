//! Test helpers: a minimal Runtime API client written from scratch, and a small function
//! driven by its events, run either as a task of the test or as a child process (the test
//! binary re-executing itself with `EMU_TEST_ROLE` set).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Bounds every test.
pub const LIMIT: Duration = Duration::from_secs(60);

pub type TestBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// A body fed frame by frame through a channel.
pub struct ChannelBody(pub mpsc::Receiver<Frame<Bytes>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|f| f.map(Ok))
    }
}

fn full(b: impl Into<Bytes>) -> TestBody {
    Full::new(b.into()).map_err(|n| match n {}).boxed()
}

/// A Runtime API client, one connection per call, TCP_NODELAY on.
#[derive(Clone, Debug)]
pub struct Rt {
    pub addr: String,
    /// A `Lambda-Runtime-Invocation-Id` sent on every call (see [`Rt::echoing`]).
    pub echo: Option<String>,
}

pub struct Next {
    pub id: String,
    /// The `Lambda-Runtime-Invocation-Id` of the event.
    pub invocation_id: Option<String>,
    pub headers: HeaderMap,
    pub event: Value,
    pub raw: Bytes,
}

impl Rt {
    pub fn new(addr: impl Into<String>) -> Self {
        Rt {
            addr: addr.into(),
            echo: None,
        }
    }

    /// This client, echoing `invocation_id` as `Lambda-Runtime-Invocation-Id` on its calls
    /// (as Lambda runtimes do on `/response` and `/error`).
    pub fn echoing(&self, invocation_id: Option<String>) -> Self {
        Rt {
            addr: self.addr.clone(),
            echo: invocation_id,
        }
    }

    pub fn from_env() -> Self {
        Rt::new(std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API"))
    }

    /// Sends a request; returns the status, headers and whole body.
    pub async fn call(&self, mut req: Request<TestBody>) -> (StatusCode, HeaderMap, Bytes) {
        if let Some(echo) = &self.echo {
            req.headers_mut().insert(
                "lambda-runtime-invocation-id",
                HeaderValue::from_str(echo).unwrap(),
            );
        }
        let stream = TcpStream::connect(&self.addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        let conn = tokio::spawn(conn);
        let resp = sender.send_request(req).await.expect("send");
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        conn.abort();
        (parts.status, parts.headers, body)
    }

    pub async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut req = Request::get(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.call(req.body(full(Bytes::new())).unwrap()).await
    }

    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut req = Request::post(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.call(req.body(full(body)).unwrap()).await
    }

    pub async fn next(&self) -> Next {
        self.try_next()
            .await
            .expect("next: the sandbox was replaced")
    }

    /// `None` when the emulator says this sandbox is gone (410 at shutdown or reset).
    pub async fn try_next(&self) -> Option<Next> {
        let (status, headers, raw) = self.get("/2018-06-01/runtime/invocation/next", &[]).await;
        if status == 410 {
            return None;
        }
        assert_eq!(status, 200, "next: {raw:?}");
        let id = headers["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let event = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let invocation_id = headers
            .get("lambda-runtime-invocation-id")
            .map(|v| v.to_str().unwrap().to_owned());
        Some(Next {
            id,
            invocation_id,
            headers,
            event,
            raw,
        })
    }

    pub async fn respond(&self, id: &str, body: impl Into<Bytes>) -> (StatusCode, Bytes) {
        let (s, _, b) = self
            .post(
                &format!("/2018-06-01/runtime/invocation/{id}/response"),
                &[],
                body,
            )
            .await;
        (s, b)
    }

    pub async fn error(&self, id: &str, error_type: &str, message: &str) -> (StatusCode, Bytes) {
        let body = json!({"errorType": error_type, "errorMessage": message}).to_string();
        let (s, _, b) = self
            .post(
                &format!("/2018-06-01/runtime/invocation/{id}/error"),
                &[("lambda-runtime-function-error-type", error_type)],
                body,
            )
            .await;
        (s, b)
    }

    pub async fn init_error(&self, error_type: &str, message: &str) -> (StatusCode, Bytes) {
        let body = json!({"errorType": error_type, "errorMessage": message}).to_string();
        let (s, _, b) = self
            .post(
                "/2018-06-01/runtime/init/error",
                &[("lambda-runtime-function-error-type", error_type)],
                body,
            )
            .await;
        (s, b)
    }

    /// Streams an answer: each part after its delay; then optional error trailers.
    pub async fn stream(
        &self,
        id: &str,
        content_type: &str,
        parts: Vec<(Duration, Bytes)>,
        error: Option<(&str, &str)>,
    ) -> (StatusCode, Bytes) {
        let (tx, rx) = mpsc::channel(4);
        let req = Request::post(format!("/2018-06-01/runtime/invocation/{id}/response"))
            .header("lambda-runtime-function-response-mode", "streaming")
            .header("content-type", content_type)
            .header("transfer-encoding", "chunked")
            .header("trailer", "Lambda-Runtime-Function-Error-Type")
            .header("trailer", "Lambda-Runtime-Function-Error-Body")
            .body(ChannelBody(rx).boxed())
            .unwrap();
        let error = error.map(|(t, m)| (t.to_owned(), m.to_owned()));
        let feeder = tokio::spawn(async move {
            for (delay, data) in parts {
                tokio::time::sleep(delay).await;
                if tx.send(Frame::data(data)).await.is_err() {
                    return;
                }
            }
            if let Some((t, m)) = error {
                let mut trailers = HeaderMap::new();
                trailers.insert(
                    "lambda-runtime-function-error-type",
                    HeaderValue::from_str(&t).unwrap(),
                );
                let body = json!({"errorType": t, "errorMessage": m}).to_string();
                let b64 = base64::engine::general_purpose::STANDARD.encode(body);
                trailers.insert(
                    "lambda-runtime-function-error-body",
                    HeaderValue::from_str(&b64).unwrap(),
                );
                let _ = tx.send(Frame::trailers(trailers)).await;
            }
        });
        let (s, _, b) = self.call(req).await;
        feeder.abort();
        (s, b)
    }
}

pub fn prelude(status: u16, headers: Value, cookies: Value) -> Bytes {
    json!({"statusCode": status, "headers": headers, "cookies": cookies})
        .to_string()
        .into()
}

pub const NULS: &[u8] = &[0u8; 8];
pub const HTTP_CT: &str = "application/vnd.awslambda.http-integration-response";

fn param(event: &Value, name: &str) -> Option<String> {
    event
        .get(name)
        .or_else(|| event.get("queryStringParameters").and_then(|q| q.get(name)))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

fn num(event: &Value, name: &str, default: u64) -> u64 {
    param(event, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The action an event asks for: `action` field, or the first path segment of a
/// Function URL event.
fn action(event: &Value) -> String {
    if let Some(a) = event.get("action").and_then(Value::as_str) {
        return a.to_owned();
    }
    event
        .get("rawPath")
        .and_then(Value::as_str)
        .map(|p| {
            p.trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default()
}

/// Serves one invocation the way the event asks, echoing its invocation id as Lambda
/// runtimes do.
pub async fn serve_one(rt: &Rt, next: Next) {
    let rt = &rt.echoing(next.invocation_id.clone());
    let ev = &next.event;
    let id = next.id.as_str();
    match action(ev).as_str() {
        // A buffered HTTP answer.
        "" | "hello" => {
            let body = json!({
                "statusCode": 200,
                "headers": {"content-type": "text/plain", "x-multi": ["one", "two"]},
                "cookies": ["a=1; Path=/", "b=2; Path=/"],
                "body": "hello",
                "isBase64Encoded": false,
            });
            rt.respond(id, body.to_string()).await;
        }
        // Echo the event as the (plain JSON) answer.
        "echo" => {
            rt.respond(id, next.raw.clone()).await;
        }
        // The /next headers, as JSON.
        "headers" => {
            let h: serde_json::Map<String, Value> = next
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
                .collect();
            rt.respond(id, Value::Object(h).to_string()).await;
        }
        // Some of the environment, as JSON.
        "env" => {
            let env: serde_json::Map<String, Value> = std::env::vars()
                .filter(|(k, _)| {
                    k.starts_with("AWS_")
                        || k.starts_with("LAMBDA_")
                        || k == "_HANDLER"
                        || k == "TZ"
                        || k.starts_with("EMU_")
                })
                .map(|(k, v)| (k, json!(v)))
                .collect();
            rt.respond(id, Value::Object(env).to_string()).await;
        }
        // A streamed HTTP answer: `chunks` events `interval_ms` apart.
        "stream" => {
            let n = num(ev, "chunks", 3);
            let interval = Duration::from_millis(num(ev, "interval_ms", 100));
            let mut parts = vec![
                (
                    Duration::ZERO,
                    prelude(
                        200,
                        json!({"content-type": "text/event-stream"}),
                        json!(["s=1"]),
                    ),
                ),
                (Duration::ZERO, Bytes::from_static(NULS)),
            ];
            for i in 0..n {
                let delay = if i == 0 { Duration::ZERO } else { interval };
                parts.push((delay, Bytes::from(format!("data: {i}\n\n"))));
            }
            rt.stream(id, HTTP_CT, parts, None).await;
        }
        // A stream that fails after one chunk.
        "fail-mid-stream" => {
            let parts = vec![
                (
                    Duration::ZERO,
                    prelude(200, json!({"content-type": "text/plain"}), json!([])),
                ),
                (Duration::ZERO, Bytes::from_static(NULS)),
                (Duration::ZERO, Bytes::from_static(b"partial")),
                (Duration::from_millis(50), Bytes::new()),
            ];
            rt.stream(
                id,
                HTTP_CT,
                parts,
                Some(("Runtime.StreamError", "the body failed")),
            )
            .await;
        }
        // `size` bytes streamed in 64 KiB chunks.
        "bytes" => {
            let size = num(ev, "size", 1024) as usize;
            let mut parts = vec![
                (
                    Duration::ZERO,
                    prelude(
                        200,
                        json!({"content-type": "application/octet-stream"}),
                        json!([]),
                    ),
                ),
                (Duration::ZERO, Bytes::from_static(NULS)),
            ];
            let mut left = size;
            while left > 0 {
                let n = left.min(64 * 1024);
                parts.push((Duration::ZERO, Bytes::from(vec![b'x'; n])));
                left -= n;
            }
            rt.stream(id, HTTP_CT, parts, None).await;
        }
        // A buffered answer of `size` bytes (a JSON string).
        "big" => {
            let size = num(ev, "size", 1024) as usize;
            let body = format!("\"{}\"", "x".repeat(size.saturating_sub(2)));
            rt.respond(id, body).await;
        }
        "error" => {
            rt.error(id, "Handler.Failed", "something broke").await;
        }
        // This process's id.
        "pid" => {
            rt.respond(id, std::process::id().to_string()).await;
        }
        "sleep" => {
            tokio::time::sleep(Duration::from_millis(num(ev, "ms", 1000))).await;
            rt.respond(id, "\"slept\"").await;
        }
        "crash" => {
            std::process::exit(3);
        }
        other => {
            rt.error(id, "Unknown.Action", &format!("unknown action {other}"))
                .await;
        }
    }
}

/// The function loop; ends when the emulator replaces the sandbox.
pub async fn function_loop(rt: Rt) {
    while let Some(next) = rt.try_next().await {
        serve_one(&rt, next).await;
    }
}

/// A command that re-runs this test binary as the child role `role`.
pub fn child(role: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ]);
    cmd.env("EMU_TEST_ROLE", role);
    cmd
}

/// Runs the child role if this process was started as one (never returns then).
pub fn child_entry() {
    let Ok(role) = std::env::var("EMU_TEST_ROLE") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        match role.as_str() {
            "function" => function_loop(Rt::from_env()).await,
            "init-error" => {
                Rt::from_env()
                    .init_error("Runtime.ConfigError", "missing setting")
                    .await;
                std::process::exit(1);
            }
            "exit-at-start" => std::process::exit(7),
            // Writes its pid to EMU_PID_FILE, forks a grandchild (a `sleep`), then serves.
            "with-grandchild" => {
                // Left running on purpose: the emulator must stop it with the group.
                #[allow(clippy::zombie_processes)]
                let grandchild = std::process::Command::new("sleep")
                    .arg("300")
                    .spawn()
                    .unwrap();
                if let Ok(path) = std::env::var("EMU_PID_FILE") {
                    std::fs::write(path, grandchild.id().to_string()).unwrap();
                }
                function_loop(Rt::from_env()).await
            }
            // An external extension that is also the runtime client (like the Lambda Web
            // Adapter): registers, then polls the Runtime API itself.
            "lwa-like-extension" => {
                let rt = Rt::from_env();
                let (s, h, b) = rt
                    .post(
                        "/2020-01-01/extension/register",
                        &[("lambda-extension-name", "lambda-adapter")],
                        r#"{"events":[]}"#,
                    )
                    .await;
                assert_eq!(s, 200, "{b:?}");
                assert!(h.contains_key("lambda-extension-identifier"));
                function_loop(rt).await
            }
            // An extension registered for INVOKE and SHUTDOWN, logging events to EMU_LOG.
            "logging-extension" => {
                let rt = Rt::from_env();
                let name = std::env::var("EMU_EXT_NAME").unwrap_or_else(|_| "logger".into());
                let (s, h, b) = rt
                    .post(
                        "/2020-01-01/extension/register",
                        &[("lambda-extension-name", &name)],
                        r#"{"events":["INVOKE","SHUTDOWN"]}"#,
                    )
                    .await;
                assert_eq!(s, 200, "{b:?}");
                let ext_id = h["lambda-extension-identifier"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let log = std::env::var("EMU_LOG").unwrap();
                loop {
                    let (s, _, b) = rt
                        .get(
                            "/2020-01-01/extension/event/next",
                            &[("lambda-extension-identifier", &ext_id)],
                        )
                        .await;
                    assert_eq!(s, 200);
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&log)
                        .unwrap();
                    writeln!(f, "{}", String::from_utf8_lossy(&b)).unwrap();
                    let v: Value = serde_json::from_slice(&b).unwrap();
                    if v["eventType"] == "SHUTDOWN" {
                        std::process::exit(0);
                    }
                }
            }
            // Does nothing (a web app that never talks to Lambda).
            "idle" => loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            },
            other => panic!("unknown role {other}"),
        }
    });
    std::process::exit(0);
}

/// Whether a process is alive (`kill -0`).
pub fn alive(pid: u32) -> bool {
    // A zombie still answers kill -0; look at /proc instead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .map(|rest| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// A free port on 127.0.0.1 (bound, then released). Picked below the kernel's ephemeral
/// range (32768-60999 by default), where `bind(0)` and outgoing connections take their
/// ports, so that nobody else's connection takes it before it is used; handed out once per
/// test process.
pub fn free_port() -> u16 {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher as _;
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0u32..1000 {
        let port =
            20_000 + (RandomState::new().hash_one((attempt, std::process::id())) % 12_000) as u16;
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The processes descended from `pid` (children, grandchildren...), read from `/proc`;
/// zombies left out.
pub fn descendants(pid: u32) -> Vec<u32> {
    let table: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| {
                    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    let rest = &stat[stat.rfind(')')? + 1..];
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    let ppid = fields.next()?.parse().ok()?;
                    (state != "Z").then_some((p, ppid))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            table
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(p, _)| *p),
        );
        next += 1;
    }
    found.remove(0);
    found
}
