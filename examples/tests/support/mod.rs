//! Shared support for the end-to-end tests: free ports, child processes that are always
//! stopped, and a small HTTP client.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    // Below the kernel's ephemeral range (32768-60999 by default), where `bind(0)` and every
    // outgoing connection take their ports: a port picked there can be taken by someone else's
    // connection between this check and the app binding it. Each port is handed out once per
    // test process; a port taken by another process is skipped.
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher as _;
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0u32..1000 {
        let port = 20_000 + (RandomState::new().hash_one(attempt) % 12_000) as u16;
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process in its own process group, killed (group and all) when dropped.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Spawns `command` in a new process group.
    pub fn spawn(mut command: Command) -> Self {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0).stdin(Stdio::null());
        Self(command.spawn().expect("the process starts"))
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // SAFETY-free: libc::kill is a plain syscall wrapper; the group is ours.
        kill_group(pgid);
        let _ = self.0.wait();
    }
}

fn kill_group(pgid: i32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
}

/// Waits until something accepts connections on `port`, up to `limit`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A decoded HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// Sends a request and reads the whole answer.
pub async fn send(request: http::Request<Full<Bytes>>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("answered in time")
        .expect("the request succeeds");
    let (head, body) = response.into_parts();
    let body = body.collect().await.expect("the whole body").to_bytes();
    Reply {
        status: head.status.as_u16(),
        headers: head.headers,
        body,
    }
}

/// `GET url`.
pub async fn get(url: &str) -> Reply {
    send(http::Request::get(url).body(Full::default()).unwrap()).await
}

/// A response read frame by frame, with the time each frame arrived.
#[derive(Debug)]
pub struct Streamed {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub started: Instant,
    pub frames: Vec<(Instant, Bytes)>,
    /// The body's error, if it ended abnormally.
    pub error: Option<String>,
}

impl Streamed {
    pub fn body(&self) -> Vec<u8> {
        self.frames
            .iter()
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }
}

/// Sends a request and reads the answer frame by frame.
pub async fn stream(request: http::Request<Full<Bytes>>) -> Streamed {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("answered in time")
        .expect("the request succeeds");
    let (head, mut body) = response.into_parts();
    let mut frames = Vec::new();
    let mut error = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), body.frame())
            .await
            .expect("frames in time")
        {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        frames.push((Instant::now(), data));
                    }
                }
            }
            Some(Err(err)) => {
                error = Some(err.to_string());
                break;
            }
        }
    }
    Streamed {
        status: head.status.as_u16(),
        headers: head.headers,
        started,
        frames,
        error,
    }
}

/// Splits a server-sent-event body into its events' texts.
pub fn sse_events(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .split_terminator("\n\n")
        .map(str::to_owned)
        .collect()
}

/// Asserts that the frames holding the SSE events arrived at least `gap` apart, event by event.
pub fn assert_events_spread(streamed: &Streamed, events: usize, gap: Duration) {
    // Map each event to the arrival time of the frame that completed it.
    let mut arrivals = Vec::new();
    let mut seen = 0usize;
    for (at, data) in &streamed.frames {
        let count = data.windows(2).filter(|w| w == b"\n\n").count();
        for _ in 0..count {
            arrivals.push(*at);
            seen += 1;
        }
    }
    assert_eq!(
        seen,
        events,
        "events in {:?}",
        String::from_utf8_lossy(&streamed.body())
    );
    for pair in arrivals.windows(2) {
        let spacing = pair[1].duration_since(pair[0]);
        assert!(
            spacing >= gap,
            "events arrived {spacing:?} apart, expected at least {gap:?}"
        );
    }
}

/// cargo-lambda's emulator (`cargo lambda watch --only-lambda-apis`) on a free port, and that
/// port. A port picked free can be taken by another test before cargo-lambda binds it; then
/// cargo-lambda exits and the port answers for someone else. So the child must still be
/// running once the port accepts connections, or it is started again on another port.
pub fn cargo_lambda_watch() -> (ChildGuard, u16) {
    for _ in 0..3 {
        let port = free_port();
        let mut command = Command::new("cargo-lambda");
        command
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut guard = ChildGuard::spawn(command);
        wait_for_port(port, Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(100));
        if guard
            .0
            .try_wait()
            .expect("the child can be polled")
            .is_none()
        {
            return (guard, port);
        }
    }
    panic!("cargo-lambda did not stay up on three free ports in a row");
}
