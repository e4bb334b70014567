//! The emulator's integration tests, in one binary: the Runtime API, the Function URL and the
//! invoke endpoint over real sockets, back-pressure, process management, `lambda_http`
//! interoperability, and the `lambda-emulator` command line.
//!
//! Child processes are this binary re-executed in a role (`EMU_TEST_ROLE`), through the one
//! `child_entry` test below.

mod backpressure;
mod cli;
mod common;
mod lambda_http;
mod processes;
mod runtime_api;

/// The entry of child roles: `lambda_http` functions, then the common roles; a no-op in a
/// normal test run.
#[test]
fn child_entry() {
    lambda_http::child_entry();
}
