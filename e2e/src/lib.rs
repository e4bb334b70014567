//! Support for the end-to-end tests of serverless-adapter (`tests/conformance`, the table, and
//! `tests/suites`, one module per behaviour): the builds under test, the Runtime APIs they run
//! under (the project's emulator and cargo-lambda's), and what a test needs to drive them over
//! loopback — free ports, child processes that are always stopped (with their descendants), a
//! small HTTP client that records when each frame arrived, one view of an answer whatever its
//! format, events as Lambda sends them, the reference app's echo, and a TCP relay whose
//! connections can be cut.
//!
//! The table of cases itself lives in `tests/conformance/cases.rs`. Crates with in-process
//! tests use this library too (ports, processes, the relay), as a dev-dependency.

pub mod answer;
pub mod builds;
pub mod echo;
pub mod emulated;
pub mod events;
pub mod function;
pub mod http_client;
pub mod ports;
pub mod process;
pub mod relay;
pub mod temp;
pub mod tools;

pub use answer::{Answer, HttpView};
pub use builds::{binary, workspace_root, Build, Mode};
pub use echo::Echo;
pub use function::{Api, Function, Options, Target};
pub use http_client::Reply;
pub use relay::Relay;

/// A generous bound for every step of a test: a liveness limit, never a measure.
pub const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `future`, failing the test if it outlives [`LIMIT`].
pub async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("the step finished within the liveness limit")
}
