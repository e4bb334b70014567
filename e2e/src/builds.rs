//! The builds under test and where their binaries are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A function build under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `reference-axum`: the reference app in process, axum.
    Axum,
    /// `reference-actix`: the reference app in process, actix-web.
    Actix,
    /// `lambda-adapter -- reference-server`: the drop-in supervising the app.
    ProxySupervisor,
    /// `lambda-adapter --extension` beside `reference-server`, the function's command.
    ProxyExtension,
    /// The zip layer: `/opt/extensions/lambda-adapter` and `/opt/bootstrap` as the exec
    /// wrapper, starting `reference-server` from the function's `run.sh`.
    ProxyExecWrapper,
    /// `poem-function`: a third-party framework plugin, composed from the registry.
    Poem,
}

impl Build {
    /// Every build, in the order the table reports them.
    pub const ALL: [Build; 6] = [
        Build::Axum,
        Build::Actix,
        Build::ProxySupervisor,
        Build::ProxyExtension,
        Build::ProxyExecWrapper,
        Build::Poem,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Build::Axum => "reference-axum",
            Build::Actix => "reference-actix",
            Build::ProxySupervisor => "lambda-adapter(supervisor)",
            Build::ProxyExtension => "lambda-adapter(extension)",
            Build::ProxyExecWrapper => "lambda-adapter(exec-wrapper)",
            Build::Poem => "poem-function",
        }
    }

    /// True for the builds that proxy to `reference-server` on a port.
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            Build::ProxySupervisor | Build::ProxyExtension | Build::ProxyExecWrapper
        )
    }
}

/// How the function answers HTTP events (`AWS_LWA_INVOKE_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `buffered`: the event source's JSON answer.
    Buffered,
    /// `response_stream`: the HTTP-integration stream (prelude, 8 NULs, body).
    Streamed,
}

impl Mode {
    /// The value of `AWS_LWA_INVOKE_MODE`.
    pub fn setting(self) -> &'static str {
        match self {
            Mode::Buffered => "buffered",
            Mode::Streamed => "response_stream",
        }
    }
}

/// Every adapter the function binaries link (the facade's default features), by name, as
/// `--list-plugins` sorts them.
pub const LINKED_ADAPTERS: [&str; 14] = [
    "alb",
    "api-gateway-v1",
    "api-gateway-v2",
    "api-gateway-websocket",
    "dynamodb",
    "dynamodb-batch",
    "eventbridge",
    "kinesis",
    "kinesis-batch",
    "pass-through",
    "s3",
    "sns",
    "sqs",
    "sqs-batch",
];

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ sits in the workspace")
        .to_path_buf()
}

/// The path of a workspace binary in the running test's profile, built once per test process.
///
/// `cargo test --workspace` has built them already (the packages that own them have integration
/// tests of their own); running `cargo test -p serverless-adapter-e2e` alone builds them here.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile = crate::tools::profile_dir();
        let mut command = Command::new(env!("CARGO"));
        command.args([
            "build",
            "--quiet",
            "-p",
            "serverless-adapter-examples",
            "-p",
            "serverless-adapter-proxy",
            "-p",
            "serverless-adapter-plugin-poem",
            "--bins",
        ]);
        if profile.file_name().is_some_and(|name| name == "release") {
            command.arg("--release");
        }
        let status = command
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the function binaries build");
    });
    let path = crate::tools::profile_dir().join(name);
    assert!(path.exists(), "{path:?} exists");
    path
}

/// `lambda-adapter -- reference-server`: the drop-in supervising the reference app, as the
/// function's command, the app on `port` (`AWS_LWA_PORT` and `PORT`).
pub fn supervisor(port: u16) -> Command {
    let mut command = Command::new(binary("lambda-adapter"));
    command
        .arg("--")
        .arg(binary("reference-server"))
        .env("AWS_LWA_PORT", port.to_string())
        .env("PORT", port.to_string());
    command
}
