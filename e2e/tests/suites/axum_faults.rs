//! Faults end to end with `reference-axum` under the emulator: what Lambda is told, and that the
//! next invocation succeeds without a restart. (The in-process function behind a cut Runtime
//! API connection is in `examples/tests/examples/in_process.rs`; the proxy's faults are in
//! `proxy_faults`; SIGTERM mid-invocation is a case of the conformance table.)

use std::process::Command;
use std::time::Duration;

use serverless_adapter_e2e::emulated::{invoke, next_event, ready, serves_root, shutdown};
use serverless_adapter_e2e::{binary, events};
use serverless_adapter_emulator::{Emulator, StreamEvent};

#[tokio::test]
async fn the_app_hangs_past_the_deadline() {
    for mode in ["buffered", "response_stream"] {
        let mut command = Command::new(binary("reference-axum"));
        command
            .env("AWS_LWA_INVOKE_MODE", mode)
            .env("RUST_LOG", "error");
        let emulator = ready(
            Emulator::builder()
                .command(command)
                .timeout(Duration::from_secs(2)),
        )
        .await;
        let hung = invoke(&emulator, events::get("/sleep", "ms=10000")).await;
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
                .invoke_stream(
                    events::get("/stream", "chunks=100&interval_ms=100&size=16").to_vec(),
                )
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
        shutdown(emulator).await;
    }
}
