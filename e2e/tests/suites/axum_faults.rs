//! Faults end to end with the reference app served in process (`reference-axum` under the
//! emulator, or the same router run in this process behind a cuttable Runtime API relay): what
//! Lambda is told, and that the next invocation succeeds. (The proxy's faults — the app dying
//! mid-stream, closing kept-alive connections — are in `frameworks/proxy/tests/faults.rs`.)

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use serverless_adapter::adapters::ApiGatewayV2Adapter;
use serverless_adapter::handlers::AwsStreamHandler;
use serverless_adapter::runtime::Endpoint;
use serverless_adapter::{FunctionConfig, ServerlessAdapter};
use serverless_adapter_emulator::{Emulator, Invocation, InvocationStream, StreamEvent};
use serverless_adapter_examples::app;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const LIMIT: Duration = Duration::from_secs(60);

fn url_event(path: &str, query: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "rawPath": path, "rawQueryString": query,
        "requestContext": {"domainName": "abc.lambda-url.us-east-1.on.aws", "http": {"method": "GET", "sourceIp": "127.0.0.1"}}
    }))
    .unwrap()
}

async fn invoke(emulator: &Emulator, event: impl Into<Bytes>) -> Invocation {
    tokio::time::timeout(LIMIT, emulator.invoke(event.into()))
        .await
        .expect("answered in time")
        .expect("the invocation completes")
}

async fn next_event(stream: &mut InvocationStream) -> StreamEvent {
    tokio::time::timeout(LIMIT, stream.next_event())
        .await
        .expect("an event in time")
        .expect("the stream goes on")
}

async fn serves_root(emulator: &Emulator) {
    let ok = invoke(emulator, url_event("/", "")).await;
    assert_eq!(
        ok.http()
            .unwrap_or_else(|e| panic!("{e}: {:?}", ok.outcome))
            .text(),
        "ok"
    );
}

#[tokio::test]
async fn the_app_hangs_past_the_deadline() {
    for mode in ["buffered", "response_stream"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reference-axum"));
        command
            .env("AWS_LWA_INVOKE_MODE", mode)
            .env("RUST_LOG", "error");
        let emulator = Emulator::builder()
            .command(command)
            .timeout(Duration::from_secs(2))
            .quiet(true)
            .start()
            .await
            .unwrap();
        emulator.wait_ready(Duration::from_secs(20)).await.unwrap();
        let hung = invoke(&emulator, url_event("/sleep", "ms=10000")).await;
        // The function gives up before the deadline and answers the HTTP caller 504 with
        // `App.Timeout`, so Lambda never has to kill it (no `Sandbox.Timedout`, no re-init).
        let answer = hung
            .http()
            .unwrap_or_else(|e| panic!("{mode}: {e}: {:?}", hung.outcome));
        assert_eq!(answer.status, 504, "{mode}: {}", answer.text());
        assert!(
            answer.text().contains("App.Timeout"),
            "{mode}: {}",
            answer.text()
        );
        serves_root(&emulator).await;
        assert_eq!(emulator.init_count(), 1, "{mode}: never restarted");

        // A stream still running at the deadline ends with an App.Timeout error trailer.
        if mode == "response_stream" {
            let mut stream = emulator
                .invoke_stream(url_event("/stream", "chunks=100&interval_ms=100&size=16"))
                .unwrap();
            let told = loop {
                match next_event(&mut stream).await {
                    StreamEvent::StreamStarted { .. } | StreamEvent::Chunk(..) => continue,
                    StreamEvent::Error(error) => break error,
                    other => panic!("a 10 s stream cannot end within 2 s: {other:?}"),
                }
            };
            assert_eq!(told.error_type, "App.Timeout", "{told}");
            serves_root(&emulator).await;
            assert_eq!(emulator.init_count(), 1, "never restarted");
        }
        emulator.shutdown().await.unwrap();
    }
}

/// A TCP relay in front of the Runtime API whose connections can be cut.
struct Relay {
    addr: String,
    accepted: Arc<AtomicUsize>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let (count, live) = (accepted.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let target = target.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                live.lock().unwrap().push(handle.abort_handle());
            }
        });
        Self {
            addr,
            accepted,
            connections,
            task,
        }
    }

    fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

#[tokio::test]
async fn the_runtime_api_resets_during_next_and_during_a_streamed_answer() {
    let emulator = Emulator::builder().quiet(true).start().await.unwrap();
    let relay = Relay::start(emulator.runtime_api()).await;
    let function = ServerlessAdapter::new(app::router())
        .handler(AwsStreamHandler)
        .adapter(ApiGatewayV2Adapter)
        .build();
    let endpoint = Endpoint::parse(&relay.addr).unwrap();
    let serving = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));
    emulator.wait_ready(Duration::from_secs(20)).await.unwrap();
    serves_root(&emulator).await;

    // Reset while the function long-polls /next.
    let before = relay.accepted.load(Ordering::SeqCst);
    relay.cut();
    serves_root(&emulator).await;
    assert!(
        relay.accepted.load(Ordering::SeqCst) > before,
        "reconnected"
    );

    // Reset in the middle of a streamed answer.
    let mut stream = emulator
        .invoke_stream(url_event("/stream", "chunks=30&interval_ms=100&size=16"))
        .unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        StreamEvent::StreamStarted { .. }
    ));
    assert!(matches!(
        next_event(&mut stream).await,
        StreamEvent::Chunk(..)
    ));
    relay.cut();
    let told = loop {
        match next_event(&mut stream).await {
            StreamEvent::Chunk(..) => continue,
            StreamEvent::Error(error) => break error,
            other => panic!("a cut answer must not look complete: {other:?}"),
        }
    };
    assert!(!told.error_type.is_empty(), "{told:?}");

    // The function is still running and serves the next invocation on a new connection.
    assert!(!serving.is_finished(), "the loop survived the reset");
    serves_root(&emulator).await;
    serving.abort();
    emulator.shutdown().await.unwrap();
}

/// SIGTERM mid-invocation: the function takes no new invocation, answers the one in flight,
/// then exits cleanly (exit status 0); the emulator starts it again for the next invocation.
#[tokio::test]
async fn sigterm_mid_invocation_answers_the_invocation_in_flight() {
    for mode in ["buffered", "response_stream"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reference-axum"));
        command
            .env("AWS_LWA_INVOKE_MODE", mode)
            .env("RUST_LOG", "error");
        let emulator = Emulator::builder()
            .command(command)
            .quiet(true)
            .start()
            .await
            .unwrap();
        emulator.wait_ready(Duration::from_secs(20)).await.unwrap();
        let pid = emulator.function_pid().expect("the function runs");
        let pending = invoke(&emulator, url_event("/sleep", "ms=800"));
        let signal = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let status = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        };
        let (invocation, ()) = tokio::join!(pending, signal);
        let answer = invocation
            .http()
            .unwrap_or_else(|e| panic!("{mode}: {e}: {:?}", invocation.outcome));
        assert_eq!(
            (answer.status, answer.text().as_str()),
            (200, "slept"),
            "{mode}"
        );
        // The process ends by itself (no SIGKILL needed): /proc/<pid> goes away or is a zombie.
        let ended = (0..500).any(|_| {
            let running = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|stat| !stat.contains(") Z"))
                .unwrap_or(false);
            if running {
                std::thread::sleep(Duration::from_millis(10));
            }
            !running
        });
        assert!(ended, "{mode}: the function exits after answering");
        serves_root(&emulator).await;
        emulator.shutdown().await.unwrap();
    }
}
