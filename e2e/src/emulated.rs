//! A function under the project's emulator, driven the way most suites drive it: started
//! quietly, every step bounded by [`LIMIT`](crate::LIMIT), events invoked, answers checked.

use bytes::Bytes;
use serverless_adapter_emulator::{
    CollectedResponse, Emulator, EmulatorBuilder, Invocation, InvocationStream, StreamEvent,
};

use crate::echo::Echo;
use crate::relay::Relay;
use crate::{bounded, events};

/// Starts the emulator `builder` describes (quiet), without waiting for the function: what a
/// suite checking an init failure needs.
pub async fn start(builder: EmulatorBuilder) -> Emulator {
    bounded(builder.quiet(true).start())
        .await
        .expect("the emulator starts")
}

/// As [`start`], then waits until the function polls for its first event.
pub async fn ready(builder: EmulatorBuilder) -> Emulator {
    let emulator = start(builder).await;
    emulator
        .wait_ready(crate::LIMIT)
        .await
        .expect("the function polls for its first event");
    emulator
}

/// Invokes `event` and returns the completed invocation.
pub async fn invoke(emulator: &Emulator, event: impl Into<Bytes>) -> Invocation {
    bounded(emulator.invoke(event.into()))
        .await
        .expect("the invocation completes")
}

/// The next event of a streamed invocation.
pub async fn next_event(stream: &mut InvocationStream) -> StreamEvent {
    bounded(stream.next_event())
        .await
        .expect("the stream goes on")
}

/// `GET path` through the Function URL, the whole answer read.
pub async fn get(emulator: &Emulator, path: &str) -> CollectedResponse {
    bounded(emulator.get(path))
        .await
        .expect("the Function URL answers")
}

/// Stops the emulator and the function.
pub async fn shutdown(emulator: Emulator) {
    bounded(emulator.shutdown())
        .await
        .expect("the emulator shuts down");
}

/// The function still serves: a Function URL event for `GET /` is answered `ok`.
pub async fn serves_root(emulator: &Emulator) {
    let ok = invoke(emulator, events::get("/", "")).await;
    let answer = ok
        .http()
        .unwrap_or_else(|err| panic!("{err}: {:?}", ok.outcome));
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (200, "ok"),
        "still serving"
    );
}

/// The invocation failed with `error_type` and a message; returns the message.
pub fn failed_with(invocation: &Invocation, error_type: &str) -> String {
    let error = invocation
        .error()
        .unwrap_or_else(|| panic!("expected {error_type}, got {:?}", invocation.outcome));
    assert_eq!(error.error_type, error_type, "{}", error.error_message);
    assert!(
        !error.error_message.is_empty(),
        "{error_type} has a message"
    );
    error.error_message.clone()
}

/// The function's init failed on its configuration: the first invocation (a `GET /`) fails
/// with `Runtime.InvalidConfig`; returns the message, which names what was wrong.
pub async fn invalid_config(emulator: &Emulator) -> String {
    failed_with(
        &invoke(emulator, events::get("/", "")).await,
        "Runtime.InvalidConfig",
    )
}

/// What the reference app's `/echo` received, from an invocation answered `200`.
pub fn echoed(invocation: &Invocation) -> Echo {
    let answer = invocation
        .http()
        .unwrap_or_else(|err| panic!("{err}: {:?}", invocation.outcome));
    assert_eq!(answer.status, 200, "{}", answer.text());
    Echo::parse(&answer.body)
}

/// A function reaching the emulator through `relay` survives the Runtime API resetting its
/// connection: while it long-polls `/next` (it reconnects and serves the next invocation), and
/// in the middle of a streamed answer (the invocation is reported failed, never complete, and
/// the next one is served).
pub async fn survives_runtime_api_resets(emulator: &Emulator, relay: &Relay) {
    serves_root(emulator).await;
    let before = relay.accepted();
    relay.cut();
    serves_root(emulator).await;
    assert!(relay.accepted() > before, "reconnected");

    let mut stream = emulator
        .invoke_stream(events::get("/stream", "chunks=30&interval_ms=100&size=16"))
        .expect("the invocation is queued");
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
    serves_root(emulator).await;
}
