//! A build running under a Runtime API: started, invoked, reached through its Function URL,
//! and stopped with every process it started.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use serverless_adapter_emulator::{Emulator, Outcome};

use crate::answer::Answer;
use crate::builds::{binary, workspace_root, Build, Mode};
use crate::http_client::{self, Pace, Reply};
use crate::ports::free_port;
use crate::process::{wait_for_port, ChildGuard};
use crate::relay::Relay;
use crate::temp::{write_executable, TempDir};
use crate::{bounded, tools};

/// The Runtime API a function runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The project's emulator (`serverless-adapter-emulator`).
    Emulator,
    /// cargo-lambda's emulator (`cargo lambda watch --only-lambda-apis`), pinned.
    CargoLambda,
}

impl Api {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Api::Emulator => "emulator",
            Api::CargoLambda => "cargo-lambda",
        }
    }
}

/// One row of the matrix: a build, an invoke mode, a Runtime API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The build under test.
    pub build: Build,
    /// Its invoke mode.
    pub mode: Mode,
    /// The Runtime API it runs under.
    pub api: Api,
}

impl Target {
    /// The adapters the table composes this build of (`SERVERLESS_ADAPTER_ADAPTERS`).
    pub fn adapters(&self) -> String {
        if self.build.is_proxy() {
            format!("{ADAPTERS},pass-through")
        } else {
            ADAPTERS.to_owned()
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} under {}",
            self.build.name(),
            self.mode.setting(),
            self.api.name()
        )
    }
}

/// The adapters the plugin function and the drop-in are composed of in the table (their default
/// lists have no batch sources). API Gateway v1 comes before v2 on purpose: adapter order must
/// not matter.
pub const ADAPTERS: &str =
    "api-gateway-v1,alb,api-gateway-v2,api-gateway-websocket,sqs,sns,s3,eventbridge,kinesis,dynamodb";

/// The function's timeout under the project's emulator in the table (cargo-lambda sends no
/// usable deadline).
pub const TIMEOUT: Duration = Duration::from_secs(4);

/// Settings of a function other than the table's.
#[derive(Debug, Clone)]
pub struct Options {
    /// Extra environment variables of the function.
    pub env: Vec<(String, String)>,
    /// The timeout the project's emulator enforces.
    pub timeout: Duration,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances when above 1).
    pub max_concurrency: u32,
    /// How much later than the enforced timeout the deadline the function is told lies.
    pub deadline_skew: Duration,
    /// Puts a [`Relay`] between the function and its Runtime API (see [`Function::relay`]).
    pub relay_runtime_api: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            timeout: TIMEOUT,
            max_concurrency: 1,
            deadline_skew: Duration::ZERO,
            relay_runtime_api: false,
        }
    }
}

enum Runtime {
    Ours(Emulator),
    CargoLambda {
        port: u16,
        /// The function's processes, then cargo-lambda last (dropped in this order).
        processes: Vec<ChildGuard>,
    },
}

/// A running function.
pub struct Function {
    /// What runs.
    pub target: Target,
    runtime: Runtime,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<Bytes>,
    >,
    relay: Option<Relay>,
    _dir: Option<TempDir>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// How Lambda would start a build: the function's command, external extensions, and the
/// environment (what the function's configuration sets).
struct Launch {
    command: Command,
    extensions: Vec<Command>,
    env: Vec<(String, String)>,
    dir: Option<TempDir>,
    exec_wrapper: Option<ExecWrapper>,
}

struct ExecWrapper {
    bootstrap: PathBuf,
    extensions_dir: PathBuf,
    task_root: PathBuf,
}

fn launch(target: Target, extra_env: &[(&str, &str)]) -> Launch {
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LWA_INVOKE_MODE".into(), target.mode.setting().into()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    let app_port = free_port().to_string();
    if target.build.is_proxy() {
        env.push(("AWS_LWA_PORT".into(), app_port.clone()));
        env.push(("PORT".into(), app_port.clone()));
    }
    // Every build is composed of the same adapters, by name from the registry (the drop-in's
    // default list is LWA's: HTTP sources, then every other event to `/events`; the plugin
    // function's has no batch sources), WebSocket routes under `/echo/ws` so that the echo
    // shows which route the app was asked for.
    env.push(("SERVERLESS_ADAPTER_ADAPTERS".into(), target.adapters()));
    env.push((
        "SERVERLESS_ADAPTER_WEBSOCKET_PATH".into(),
        "/echo/ws".into(),
    ));
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let adapter = binary("lambda-adapter");
    let server = binary("reference-server");
    let mut extensions = Vec::new();
    let mut dir = None;
    let mut exec_wrapper = None;
    let command = match target.build {
        Build::Axum => Command::new(binary("reference-axum")),
        Build::Actix => Command::new(binary("reference-actix")),
        Build::Poem => Command::new(binary("poem-function")),
        Build::ProxySupervisor => {
            let mut command = Command::new(&adapter);
            command.arg("--").arg(&server);
            command
        }
        Build::ProxyExtension => {
            let mut extension = Command::new(&adapter);
            extension.arg("--extension");
            extensions.push(extension);
            Command::new(&server)
        }
        Build::ProxyExecWrapper => {
            // The layer as Lambda unpacks it in /opt, and the function's code.
            let root = TempDir::new("layer");
            let opt = root.join("opt");
            let extensions_dir = opt.join("extensions");
            let task_root = root.join("task");
            std::fs::create_dir_all(&extensions_dir).expect("opt/extensions");
            std::fs::create_dir_all(&task_root).expect("the task root");
            let bootstrap = opt.join("bootstrap");
            std::fs::copy(
                workspace_root().join("frameworks/proxy/layer/bootstrap"),
                &bootstrap,
            )
            .expect("the layer's bootstrap is copied");
            std::os::unix::fs::symlink(&adapter, extensions_dir.join("lambda-adapter"))
                .expect("the extension is linked");
            write_executable(
                &task_root.join("run.sh"),
                &format!("#!/bin/sh\nexec '{}'\n", server.display()),
            );
            dir = Some(root);
            exec_wrapper = Some(ExecWrapper {
                bootstrap,
                extensions_dir,
                task_root,
            });
            // The managed runtime's own start command: the wrapper is handed it and starts the
            // app instead.
            Command::new("/var/runtime/bootstrap-that-is-never-run")
        }
    };
    Launch {
        command,
        extensions,
        env,
        dir,
        exec_wrapper,
    }
}

impl Function {
    /// Starts `target` with the table's settings.
    pub async fn start(target: Target) -> Self {
        Self::start_with(target, Options::default()).await
    }

    /// Starts `target` with other settings.
    pub async fn start_with(target: Target, options: Options) -> Self {
        let env: Vec<(&str, &str)> = options
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let launch = launch(target, &env);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let (runtime, dir, relay) = match target.api {
            Api::Emulator => start_ours(launch, &options).await,
            Api::CargoLambda => start_cargo_lambda(launch, &options).await,
        };
        Self {
            target,
            runtime,
            client,
            relay,
            _dir: dir,
        }
    }

    /// The relay between the function and its Runtime API, when [`Options::relay_runtime_api`]
    /// asked for one.
    pub fn relay(&self) -> Option<&Relay> {
        self.relay.as_ref()
    }

    /// The project's emulator, when the function runs under it.
    pub fn emulator(&self) -> Option<&Emulator> {
        match &self.runtime {
            Runtime::Ours(emulator) => Some(emulator),
            Runtime::CargoLambda { .. } => None,
        }
    }

    /// The pid of the function's command (the runtime process).
    pub fn pid(&self) -> Option<u32> {
        match &self.runtime {
            Runtime::Ours(emulator) => emulator.function_pid(),
            Runtime::CargoLambda { processes, .. } => processes.first().map(ChildGuard::id),
        }
    }

    /// Sends `event` to the invoke endpoint and returns what the function answered.
    pub async fn invoke(&self, event: impl Into<Bytes>) -> Answer {
        let event = event.into();
        match &self.runtime {
            Runtime::Ours(emulator) => {
                let invocation = bounded(emulator.invoke(event))
                    .await
                    .expect("the invocation completes");
                match invocation.outcome {
                    Outcome::Buffered(body) => Answer::Buffered(body.to_vec()),
                    Outcome::Error(error) => Answer::Error {
                        error_type: error.error_type,
                        error_message: error.error_message,
                    },
                    Outcome::Streamed(streamed) => Answer::Streamed {
                        prelude: streamed
                            .prelude
                            .as_ref()
                            .and_then(|p| serde_json::from_slice(&p.raw).ok())
                            .unwrap_or(serde_json::Value::Null),
                        body: streamed.body().to_vec(),
                        error: streamed
                            .error
                            .map(|error| (error.error_type, error.error_message)),
                    },
                }
            }
            Runtime::CargoLambda { port, .. } => {
                let request = http::Request::post(format!(
                    "http://127.0.0.1:{port}/2015-03-31/functions/_/invocations"
                ))
                .header("content-type", "application/json")
                .body(event)
                .expect("a valid request");
                let reply = self.send(request).await;
                if reply
                    .headers
                    .contains_key("lambda-runtime-function-response-mode")
                {
                    // cargo-lambda hands a streamed answer on as HTTP: the prelude's status,
                    // headers and cookies become the response's.
                    return Answer::Streamed {
                        prelude: prelude_of(&reply),
                        body: reply.body(),
                        error: reply.error.clone().map(|e| ("Stream".to_owned(), e)),
                    };
                }
                if reply.status == 200 {
                    return Answer::Buffered(reply.body());
                }
                let error = reply.json();
                Answer::Error {
                    error_type: error["errorType"].as_str().unwrap_or_default().to_owned(),
                    error_message: error["errorMessage"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                }
            }
        }
    }

    /// The Function URL's base (no trailing slash).
    pub fn url(&self) -> String {
        match &self.runtime {
            Runtime::Ours(emulator) => emulator.function_url().trim_end_matches('/').to_owned(),
            Runtime::CargoLambda { port, .. } => format!("http://127.0.0.1:{port}/lambda-url/_"),
        }
    }

    /// Sends `request` (its URI a path and query) through the Function URL.
    pub async fn request(&self, request: http::Request<Bytes>) -> Reply {
        self.request_paced(request, Pace::Full, |_| {}).await
    }

    /// `GET path` through the Function URL.
    pub async fn get(&self, path: &str) -> Reply {
        self.request(
            http::Request::get(path)
                .body(Bytes::new())
                .expect("a request"),
        )
        .await
    }

    /// Sends `request` through the Function URL and reads the answer at `pace`.
    pub async fn request_paced(
        &self,
        request: http::Request<Bytes>,
        pace: Pace,
        progress: impl FnMut(usize),
    ) -> Reply {
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        parts.uri = format!("{}{path}", self.url())
            .parse()
            .expect("a valid URL");
        http_client::send(http::Request::from_parts(parts, body), pace, progress).await
    }

    async fn send(&self, request: http::Request<Bytes>) -> Reply {
        use http_body_util::BodyExt as _;
        let sent = std::time::Instant::now();
        let response = bounded(self.client.request(request.map(http_body_util::Full::new)))
            .await
            .expect("the request succeeds");
        let (head, body) = response.into_parts();
        let body = bounded(body.collect())
            .await
            .expect("the whole body")
            .to_bytes();
        Reply {
            status: head.status.as_u16(),
            headers: head.headers,
            sent,
            frames: vec![(std::time::Instant::now(), body)],
            error: None,
        }
    }

    /// Stops the function and its Runtime API.
    pub async fn stop(self) {
        if let Runtime::Ours(emulator) = self.runtime {
            bounded(emulator.shutdown())
                .await
                .expect("the emulator shuts down");
        }
    }
}

/// The prelude a streamed answer had, rebuilt from the HTTP response cargo-lambda made of it.
fn prelude_of(reply: &Reply) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &reply.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match name.as_str() {
            "set-cookie" => cookies.push(serde_json::Value::String(value)),
            "transfer-encoding"
            | "date"
            | "vary"
            | "lambda-runtime-function-response-mode"
            | "access-control-allow-credentials" => {}
            name => {
                headers.insert(name.to_owned(), serde_json::Value::String(value));
            }
        }
    }
    serde_json::json!({"statusCode": reply.status, "headers": headers, "cookies": cookies})
}

async fn start_ours(
    launch: Launch,
    options: &Options,
) -> (Runtime, Option<TempDir>, Option<Relay>) {
    let Launch {
        mut command,
        extensions,
        env,
        dir,
        exec_wrapper,
    } = launch;
    let mut builder = Emulator::builder()
        .quiet(true)
        .timeout(options.timeout)
        .max_concurrency(options.max_concurrency)
        .deadline_skew(options.deadline_skew);
    let mut relay = None;
    if options.relay_runtime_api {
        let port = free_port();
        let started = Relay::start(format!("127.0.0.1:{port}")).await;
        builder = builder
            .runtime_port(port)
            .advertised_runtime_api(started.addr());
        relay = Some(started);
    }
    match exec_wrapper {
        Some(wrapper) => {
            for (key, value) in &env {
                builder = builder.env(key.clone(), value.clone());
            }
            builder = builder
                .env(
                    "AWS_LAMBDA_EXEC_WRAPPER",
                    wrapper.bootstrap.to_string_lossy(),
                )
                .extensions_dir(&wrapper.extensions_dir)
                .handler("run.sh")
                .task_root(&wrapper.task_root);
        }
        None => {
            command.envs(env.iter().map(|(k, v)| (k, v)));
            for mut extension in extensions {
                extension.envs(env.iter().map(|(k, v)| (k, v)));
                builder = builder.extension(extension);
            }
        }
    }
    let emulator = bounded(builder.command(command).start())
        .await
        .expect("the emulator starts");
    bounded(emulator.wait_ready(crate::LIMIT))
        .await
        .expect("the function polls for its first event");
    (Runtime::Ours(emulator), dir, relay)
}

/// cargo-lambda's emulator on a free port, retried on another port when the port was taken
/// before cargo-lambda bound it (it then exits and the port answers for someone else).
pub fn cargo_lambda_watch() -> (ChildGuard, u16) {
    let binary = tools::cargo_lambda();
    for _ in 0..3 {
        let port = free_port();
        let mut command = Command::new(&binary);
        command
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .current_dir(workspace_root().join("e2e"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut guard = ChildGuard::spawn(command);
        wait_for_port(port, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(100));
        if guard.is_running() {
            return (guard, port);
        }
    }
    panic!("cargo-lambda did not stay up on three free ports in a row");
}

async fn start_cargo_lambda(
    launch: Launch,
    options: &Options,
) -> (Runtime, Option<TempDir>, Option<Relay>) {
    let Launch {
        mut command,
        extensions,
        env,
        dir,
        exec_wrapper,
    } = launch;
    let (watch, port) = cargo_lambda_watch();
    let relay = if options.relay_runtime_api {
        Some(Relay::start(format!("127.0.0.1:{port}")).await)
    } else {
        None
    };
    let runtime_api = relay
        .as_ref()
        .map_or_else(|| format!("127.0.0.1:{port}"), |r| r.addr().to_owned());
    let mut lambda_env: Vec<(String, String)> = vec![
        (
            "AWS_LAMBDA_RUNTIME_API".into(),
            format!("http://{runtime_api}/.rt"),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), "_".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "1024".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
    ];
    lambda_env.extend(env);
    let mut processes = Vec::new();
    // As Lambda does: external extensions first, then the function's command (through the
    // exec wrapper when there is one).
    let mut extension_commands = extensions;
    if let Some(wrapper) = &exec_wrapper {
        extension_commands.push(Command::new(wrapper.extensions_dir.join("lambda-adapter")));
        let mut wrapped = Command::new(&wrapper.bootstrap);
        wrapped
            .arg(command.get_program())
            .env("_HANDLER", "run.sh")
            .env("LAMBDA_TASK_ROOT", &wrapper.task_root)
            .current_dir(&wrapper.task_root);
        command = wrapped;
    }
    command.envs(lambda_env.iter().map(|(k, v)| (k, v)));
    processes.push(ChildGuard::spawn(command));
    for mut extension in extension_commands {
        extension.envs(lambda_env.iter().map(|(k, v)| (k, v)));
        processes.push(ChildGuard::spawn(extension));
    }
    processes.push(watch);
    (Runtime::CargoLambda { port, processes }, dir, relay)
}
