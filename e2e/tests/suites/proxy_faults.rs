//! Faults end to end through the proxy: `lambda-adapter` (and the app it proxies) as real
//! processes under the emulator. For each fault: what Lambda is told, and that the next
//! invocation succeeds.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serverless_adapter_e2e::emulated::{
    invoke, next_event, ready, serves_root, shutdown, survives_runtime_api_resets,
};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::process::{children_of, kill, wait_gone, ChildGuard};
use serverless_adapter_e2e::{binary, bounded, builds, events, Relay};
use serverless_adapter_emulator::{Emulator, Outcome, StreamEvent};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// `lambda-adapter -- reference-server` under the emulator.
async fn supervised(mode: &str, timeout: Duration) -> Emulator {
    let mut command = builds::supervisor(free_port());
    command
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("RUST_LOG", "error");
    ready(Emulator::builder().command(command).timeout(timeout)).await
}

#[tokio::test]
async fn the_app_dies_mid_stream() {
    let emulator = supervised("response_stream", Duration::from_secs(30)).await;
    let adapter = emulator.function_pid().expect("the function runs");
    let app = children_of(adapter);
    assert_eq!(app.len(), 1, "lambda-adapter supervises one app: {app:?}");

    let mut stream = emulator
        .invoke_stream(events::get("/stream", "chunks=50&interval_ms=100&size=16"))
        .unwrap();
    match next_event(&mut stream).await {
        StreamEvent::StreamStarted { prelude, .. } => {
            assert_eq!(prelude.expect("an HTTP prelude").status_code, 200)
        }
        other => panic!("expected the stream to start, got {other:?}"),
    }
    assert!(matches!(
        next_event(&mut stream).await,
        StreamEvent::Chunk(..)
    ));
    kill(app[0] as i32, libc::SIGKILL);
    let told = loop {
        match next_event(&mut stream).await {
            StreamEvent::Chunk(..) => continue,
            StreamEvent::Error(error) => break error,
            other => panic!("a dead app must not end the stream normally: {other:?}"),
        }
    };
    assert!(!told.error_type.is_empty(), "{told:?}");
    assert!(!told.error_message.is_empty(), "{told:?}");

    // The supervisor restarts the app; the function itself never restarted.
    serves_root(&emulator).await;
    assert_eq!(emulator.init_count(), 1);
    let restarted = children_of(adapter);
    assert_eq!(restarted.len(), 1);
    assert_ne!(restarted, app, "a new app process");
    shutdown(emulator).await;
}

#[tokio::test]
async fn the_app_hangs_past_the_deadline() {
    for mode in ["buffered", "response_stream"] {
        let emulator = supervised(mode, Duration::from_secs(2)).await;
        let hung = invoke(&emulator, events::get("/sleep", "ms=10000")).await;
        // The proxy answers 504 before the deadline, so Lambda gets an answer, not a timeout.
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
        assert_eq!(emulator.init_count(), 1, "{mode}: no restart was needed");
        shutdown(emulator).await;
    }
}

/// An app that closes every connection shortly after answering on it (a short keep-alive,
/// without saying so), counting connections and answers.
async fn closing_app() -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let (count, served) = (connections.clone(), answered.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let served = served.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer =
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
                if stream.write_all(answer.as_bytes()).await.is_ok() {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            });
        }
    });
    (port, connections, answered)
}

#[tokio::test]
async fn the_app_closes_kept_alive_connections() {
    let (port, connections, answered) = closing_app().await;
    let mut command = Command::new(binary("lambda-adapter"));
    command
        .env("AWS_LWA_PORT", port.to_string())
        .env("RUST_LOG", "error");
    let emulator = ready(Emulator::builder().command(command)).await;
    let before = answered.load(Ordering::SeqCst); // readiness checks
    for round in 0..6 {
        let method = if round % 2 == 0 { "GET" } else { "POST" };
        let event = events::url(method, "/x").body("payload");
        let invocation = invoke(&emulator, event).await;
        let answer = invocation
            .http()
            .unwrap_or_else(|e| panic!("round {round}: {e}: {:?}", invocation.outcome));
        assert_eq!((answer.status, answer.text().as_str()), (200, "ok"));
        // Let the app close the kept-alive connection before the next one is sent.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        answered.load(Ordering::SeqCst) - before,
        6,
        "each invocation answered exactly once"
    );
    assert!(connections.load(Ordering::SeqCst) >= 6);
    shutdown(emulator).await;
}

#[tokio::test]
async fn the_runtime_api_resets_during_next_and_during_a_streamed_answer() {
    // The relay needs the emulator's Runtime API address, known once it started: start the
    // emulator without a command and run lambda-adapter ourselves with Lambda's environment.
    let emulator = bounded(Emulator::builder().quiet(true).start())
        .await
        .expect("the emulator starts");
    let relay = Relay::start(emulator.runtime_api()).await;
    let mut command = builds::supervisor(free_port());
    command
        .envs(emulator.lambda_env())
        .env("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", relay.addr())
        .env("AWS_LWA_INVOKE_MODE", "response_stream")
        .env("RUST_LOG", "error");
    let mut function = ChildGuard::spawn(command);
    emulator
        .wait_ready(serverless_adapter_e2e::LIMIT)
        .await
        .expect("the function polls");
    survives_runtime_api_resets(&emulator, &relay).await;
    // SIGTERM, so that lambda-adapter stops the app it supervises (its own process group).
    // Waiting must not block this runtime: the relay and the emulator run on it, and the
    // function first finishes what it has in flight with them.
    kill(function.id() as i32, libc::SIGTERM);
    assert!(
        function
            .exited_within(Duration::from_secs(10))
            .await
            .is_some(),
        "lambda-adapter exits on SIGTERM"
    );
    shutdown(emulator).await;
}

/// SIGTERM mid-invocation is graceful: no new invocation is taken, the one in flight is
/// answered, then the supervised app is stopped and the adapter exits.
#[tokio::test]
async fn sigterm_mid_invocation() {
    let emulator = supervised("buffered", Duration::from_secs(30)).await;
    let adapter = emulator.function_pid().unwrap();
    let app = children_of(adapter);
    let pending = invoke(&emulator, events::get("/sleep", "ms=1500"));
    let signal = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill(adapter as i32, libc::SIGTERM);
    };
    let (invocation, ()) = tokio::join!(pending, signal);
    match &invocation.outcome {
        Outcome::Buffered(_) => {
            let answer = invocation.http().unwrap();
            assert_eq!((answer.status, answer.text().as_str()), (200, "slept"));
        }
        other => panic!("the invocation in flight is answered before exiting: {other:?}"),
    }
    // The supervised app was stopped with it.
    for pid in app {
        assert!(
            wait_gone(pid, Duration::from_secs(2)),
            "the app {pid} is stopped too"
        );
    }
    // The emulator starts the function again for the next invocation, like Lambda would.
    serves_root(&emulator).await;
    shutdown(emulator).await;
}
