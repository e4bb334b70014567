//! The end-to-end suites: the workspace's binaries (`reference-axum`, `reference-actix`,
//! `reference-server`, `lambda-adapter`, `poem-function`) driven as real processes, each module
//! one behaviour the conformance table (`tests/conformance`) does not check across every build.
//! Binaries come from [`serverless_adapter_e2e::binary`] (built once per run, in this profile),
//! cargo-lambda from [`serverless_adapter_e2e::tools::cargo_lambda`] (fetched, pinned).

/// `reference-axum`: an app hanging past the deadline.
mod axum_faults;
/// `reference-axum`: exact streamed bytes, stream errors, empty bodies, default WebSockets.
mod axum_function;
/// `reference-axum`: hostile events.
mod axum_hostile;
/// `reference-axum`'s logs, as Lambda's settings ask for them.
mod logging;
/// `poem-function`: the third-party plugins.
mod poem_function;
/// `lambda-adapter` against a mock Runtime and Extensions API.
mod proxy_binary;
/// The deploy examples (container image, zip + layer, supervisor), as deployed.
mod proxy_deploy;
/// `lambda-adapter` in each way Lambda runs it: every route, compression, crashes, concurrency.
mod proxy_emulator;
/// `lambda-adapter`: the app dying, hanging, closing connections; the Runtime API resetting.
mod proxy_faults;
/// `lambda-adapter`: hostile events.
mod proxy_hostile;
/// `lambda-adapter`: adapters chosen by name.
mod proxy_registry;
/// `lambda-adapter`: each `AWS_LWA_*` setting.
mod proxy_settings;
/// `reference-axum` and `reference-actix`: adapters chosen by name, the plugins linked.
mod registry;
/// Many invocations: memory and descriptors stay flat.
mod soak;
