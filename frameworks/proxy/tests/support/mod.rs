//! Shared support for the proxy's integration tests: the reference app as a real process,
//! free ports, process groups that are always killed, and Lambda contexts.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serverless_adapter_core::{Body, LambdaContext};

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

/// The directory cargo puts binaries in (the one holding `lambda-adapter`).
pub fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lambda-adapter"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The `reference-server` binary, built once per test process.
pub fn reference_server_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "serverless-adapter-examples",
                    "--bin",
                    "reference-server",
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "reference-server builds");
            let path = bin_dir().join("reference-server");
            assert!(path.exists(), "{path:?} exists");
            path
        })
        .clone()
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

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Sends `signal` to the process group.
    pub fn signal(&self, signal: Signal) {
        let _ = killpg(Pid::from_raw(self.0.id() as i32), signal);
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// As [`wait_timeout`](Self::wait_timeout), without blocking the test's async runtime
    /// (which may be running the emulator or a relay the process still talks to).
    pub async fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The process's children too, even those in a process group of their own (the app a
        // supervising lambda-adapter starts), so that a failing test leaves nothing running.
        let children = descendants(self.0.id());
        self.signal(Signal::SIGKILL);
        for pid in children {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// The descendants of `pid`, from `/proc/<pid>/task/*/children`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{parent}/task"))
            .map(|dir| dir.flatten().map(|entry| entry.path()).collect::<Vec<_>>())
            .unwrap_or_default();
        for task in tasks {
            let list = std::fs::read_to_string(task.join("children")).unwrap_or_default();
            for child in list
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
            {
                if !found.contains(&child) {
                    found.push(child);
                    queue.push(child);
                }
            }
        }
    }
    found
}

/// Waits until something accepts connections on `port`, up to `limit`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The reference app on a free port.
pub fn reference_server() -> (ChildGuard, u16) {
    let port = free_port();
    let mut command = Command::new(reference_server_bin());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .stdout(Stdio::null());
    let child = ChildGuard::spawn(command);
    wait_for_port(port, Duration::from_secs(20));
    (child, port)
}

/// A Lambda context whose deadline is `left` from now.
pub fn context_with_deadline(request_id: &str, left: Duration) -> LambdaContext {
    let mut context = LambdaContext::for_request_id(request_id);
    context.deadline = Some(SystemTime::now() + left);
    context
}

/// The whole body, or the error it ended with (with the bytes received before it).
pub async fn collect(body: Body) -> (Bytes, Option<String>) {
    let mut body = body;
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(chunk) = frame.into_data() {
                    data.extend_from_slice(&chunk);
                }
            }
            Err(error) => return (Bytes::from(data), Some(error.to_string())),
        }
    }
    (Bytes::from(data), None)
}

/// Runs `future` with a time limit.
pub async fn bounded<T>(limit: Duration, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .expect("the test step finished in time")
}
