//! Support for the end-to-end tests of serverless-adapter (`tests/conformance`): the builds
//! under test, the Runtime APIs they run under (the project's emulator and cargo-lambda's), and
//! what a case needs to drive them over loopback — free ports, child processes that are always
//! stopped (with their descendants), a small HTTP client that records when each frame arrived,
//! and one view of an answer whatever its format.
//!
//! The table of cases itself lives in `tests/conformance/table.rs`.

pub mod answer;
pub mod builds;
pub mod function;
pub mod http_client;
pub mod ports;
pub mod process;
pub mod tools;

pub use answer::{Answer, HttpView};
pub use builds::{Build, Mode};
pub use function::{Api, Function, Target};
pub use http_client::Reply;

/// A generous bound for every step of a test: a liveness limit, never a measure.
pub const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `future`, failing the test if it outlives [`LIMIT`].
pub async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("the step finished within the liveness limit")
}
