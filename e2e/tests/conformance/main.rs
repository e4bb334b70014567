//! The conformance table: every case against every build under test — `reference-axum`,
//! `reference-actix`, `lambda-adapter` in front of `reference-server` (supervisor, extension,
//! exec wrapper) and the poem plugin function — in both invoke modes, under the project's
//! emulator and cargo-lambda's.
//!
//! One test per row of the matrix (build × mode × Runtime API) starts the function once and runs
//! every case that applies to it; a case that does not apply says why in the report. Each case
//! runs to the end even when an earlier one failed, and the test fails listing every failed case.

mod cases;
mod events;

use std::future::Future;
use std::pin::Pin;

use futures_util::FutureExt as _;
use serverless_adapter_e2e::{Api, Build, Function, Mode, Target};

/// A case's body.
type Run = for<'a> fn(&'a Function) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// One row of the table.
struct Case {
    /// What it checks.
    name: &'static str,
    /// `Err(why)` when the case does not apply to a target.
    applies: fn(Target) -> Result<(), &'static str>,
    /// The check itself: it panics (asserts) on a failure.
    run: Run,
}

async fn run_table(target: Target) {
    let function = Function::start(target).await;
    let mut failures = Vec::new();
    let mut report = vec![format!("conformance: {target}")];
    for case in cases::ALL {
        match (case.applies)(target) {
            Err(why) => report.push(format!("  skip {:<36} {why}", case.name)),
            Ok(()) => {
                let outcome = std::panic::AssertUnwindSafe((case.run)(&function))
                    .catch_unwind()
                    .await;
                match outcome {
                    Ok(()) => report.push(format!("  pass {}", case.name)),
                    Err(panic) => {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        report.push(format!("  FAIL {}: {message}", case.name));
                        failures.push(case.name);
                    }
                }
            }
        }
    }
    function.stop().await;
    println!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{target}: {} case(s) failed: {failures:?}\n{}",
        failures.len(),
        report.join("\n")
    );
}

macro_rules! matrix {
    ($($test:ident: $build:ident, $mode:ident, $api:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            run_table(Target { build: Build::$build, mode: Mode::$mode, api: Api::$api }).await;
        }
    )*};
}

matrix! {
    axum_buffered_emulator: Axum, Buffered, Emulator;
    axum_streamed_emulator: Axum, Streamed, Emulator;
    axum_buffered_cargo_lambda: Axum, Buffered, CargoLambda;
    axum_streamed_cargo_lambda: Axum, Streamed, CargoLambda;
    actix_buffered_emulator: Actix, Buffered, Emulator;
    actix_streamed_emulator: Actix, Streamed, Emulator;
    actix_buffered_cargo_lambda: Actix, Buffered, CargoLambda;
    actix_streamed_cargo_lambda: Actix, Streamed, CargoLambda;
    proxy_supervisor_buffered_emulator: ProxySupervisor, Buffered, Emulator;
    proxy_supervisor_streamed_emulator: ProxySupervisor, Streamed, Emulator;
    proxy_supervisor_buffered_cargo_lambda: ProxySupervisor, Buffered, CargoLambda;
    proxy_supervisor_streamed_cargo_lambda: ProxySupervisor, Streamed, CargoLambda;
    proxy_extension_buffered_emulator: ProxyExtension, Buffered, Emulator;
    proxy_extension_streamed_emulator: ProxyExtension, Streamed, Emulator;
    proxy_extension_buffered_cargo_lambda: ProxyExtension, Buffered, CargoLambda;
    proxy_extension_streamed_cargo_lambda: ProxyExtension, Streamed, CargoLambda;
    proxy_exec_wrapper_buffered_emulator: ProxyExecWrapper, Buffered, Emulator;
    proxy_exec_wrapper_streamed_emulator: ProxyExecWrapper, Streamed, Emulator;
    proxy_exec_wrapper_buffered_cargo_lambda: ProxyExecWrapper, Buffered, CargoLambda;
    proxy_exec_wrapper_streamed_cargo_lambda: ProxyExecWrapper, Streamed, CargoLambda;
    poem_buffered_emulator: Poem, Buffered, Emulator;
    poem_streamed_emulator: Poem, Streamed, Emulator;
    poem_buffered_cargo_lambda: Poem, Buffered, CargoLambda;
    poem_streamed_cargo_lambda: Poem, Streamed, CargoLambda;
}
