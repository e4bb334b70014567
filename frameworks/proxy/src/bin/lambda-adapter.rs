//! `lambda-adapter`: runs a web app listening on a local port as an AWS Lambda function, a
//! drop-in for the Lambda Web Adapter. See `lambda-adapter --help`.

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serverless_adapter_adapters::{
    AlbAdapter, ApiGatewayV1Adapter, ApiGatewayV2Adapter, PassThroughAdapter,
};
use serverless_adapter_core::runtime::Endpoint;
use serverless_adapter_core::{
    init_failed, report_init_error, Adapters, DefaultHandler, DefaultResolver, Error,
    FunctionConfig, Handler, ServerlessAdapter,
};
use serverless_adapter_handlers::AwsStreamHandler;
use serverless_adapter_proxy::extension::{is_extension_path, ExtensionClient};
use serverless_adapter_proxy::{
    logging, InvokeMode, ProxyFramework, ProxySettings, ReadinessCheck, ReadinessGate, Supervisor,
};
use serverless_adapter_resolvers::ErrorStatusResolver;

const USAGE: &str = "\
lambda-adapter: run a web app listening on a local port as an AWS Lambda function
(a drop-in for the Lambda Web Adapter).

Usage:
  lambda-adapter [--extension | --no-extension]             proxy to an app started elsewhere
  lambda-adapter [--extension | --no-extension] -- CMD ARGS  start CMD, supervise it, proxy to it
  lambda-adapter --help | --version

Modes:
  extension   when started from a directory named `extensions` (Lambda starts every file in
              /opt/extensions/) or with --extension: registers with the Extensions API (events:
              SHUTDOWN), polls the Runtime API itself, and exits cleanly on SHUTDOWN. The app is
              the function's own command (Docker CMD, or the zip layer's /opt/bootstrap wrapper).
  runtime     otherwise: polls the Runtime API as the function's runtime.
  supervisor  with `-- CMD ARGS`: also starts CMD in a process group of its own, restarts it
              when it dies (invocations wait for it to be ready again), and passes SIGTERM on to
              the group at shutdown or on an init error (SIGKILL after 1 s). A watchdog process
              in the group (this binary again) kills the group should the adapter be killed.

Settings (environment; booleans are exactly `true` or `false`, bad values fail the init):
  AWS_LWA_PORT (PORT)                          app port [8080]
  AWS_LWA_HOST (HOST)                          app host [127.0.0.1]
  AWS_LWA_READINESS_CHECK_PORT                 readiness port [the app port]
  AWS_LWA_READINESS_CHECK_PATH                 readiness GET path [/]
  AWS_LWA_READINESS_CHECK_PROTOCOL             http or tcp [http]
  AWS_LWA_READINESS_CHECK_HEALTHY_STATUS       healthy statuses, e.g. 200-399,404 [100-499]
  AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS older form: healthy is 100 to this minus 1
  AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS      give up waiting for the app [no limit]
  AWS_LWA_ASYNC_INIT                           cap the init wait at 9.8 s [false]
  AWS_LWA_REMOVE_BASE_PATH                     path prefix removed at a segment boundary
  AWS_LWA_PASS_THROUGH_PATH                    where non-HTTP events are POSTed [/events]
  AWS_LWA_INVOKE_MODE                          buffered or response_stream [buffered]
  AWS_LWA_AUTHORIZATION_SOURCE                 header renamed to authorization
  AWS_LWA_ERROR_STATUS_CODES                   app statuses that fail the invocation, e.g. 500-599
  AWS_LWA_LAMBDA_RUNTIME_API_PROXY             Runtime API to poll instead of AWS_LAMBDA_RUNTIME_API
  SERVERLESS_ADAPTER_ADAPTERS                  adapters by name, in order, e.g. api-gateway-v2,sqs
                                               [api-gateway-v1,api-gateway-v2,alb,pass-through]
  AWS_LWA_ENABLE_COMPRESSION                   compress answers (br, zstd, gzip per accept-encoding),
                                               streamed ones too, flushed as the app writes [false]
  Legacy names READINESS_CHECK_PORT, READINESS_CHECK_PATH, READINESS_CHECK_PROTOCOL,
  REMOVE_BASE_PATH and ASYNC_INIT are read too. Also: AWS_LAMBDA_MAX_CONCURRENCY,
  AWS_LAMBDA_LOG_FORMAT (JSON for JSON logs), AWS_LAMBDA_LOG_LEVEL, RUST_LOG.
";

/// Lambda's init phase lasts 10 s; with async init the adapter stops waiting a little before.
const ASYNC_INIT_CAP: Duration = Duration::from_millis(9_800);
/// How long a supervised app gets between SIGTERM and SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq, Eq)]
enum Cli {
    Help,
    Version,
    Run {
        extension: Option<bool>,
        command: Option<Vec<OsString>>,
    },
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, String> {
    let mut extension = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(Cli::Help),
            Some("-V" | "--version") => return Ok(Cli::Version),
            Some("--extension") => extension = Some(true),
            Some("--no-extension") => extension = Some(false),
            Some("--") => {
                let command: Vec<OsString> = args.collect();
                if command.is_empty() {
                    return Err("`--` must be followed by the command that starts the app".into());
                }
                return Ok(Cli::Run {
                    extension,
                    command: Some(command),
                });
            }
            _ => {
                return Err(format!(
                    "unexpected argument {arg:?} (put the app's command after `--`)"
                ))
            }
        }
    }
    Ok(Cli::Run {
        extension,
        command: None,
    })
}

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = PathBuf::from(args.next().unwrap_or_else(|| "lambda-adapter".into()));
    let mut args = args.peekable();
    // The supervisor starts this binary again as the app's watchdog (see `Supervisor`).
    if args
        .peek()
        .is_some_and(|arg| arg.as_os_str() == Supervisor::WATCHDOG_ARG)
    {
        args.next();
        return Supervisor::run_watchdog(args.next().as_deref());
    }
    let (extension, command) = match parse_args(args) {
        Ok(Cli::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Version) => {
            println!("lambda-adapter {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Run { extension, command }) => (extension, command),
        Err(message) => {
            eprintln!("lambda-adapter: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    logging::init();
    let workers = FunctionConfig::from_env().map_or(1, |config| config.max_concurrency);
    let mut builder = if workers > 1 {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lambda-adapter: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let as_extension = extension.unwrap_or_else(|| is_extension_path(&argv0));
    match runtime.block_on(run(&argv0, as_extension, command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error_type = error.error_type(),
                error = error.message(),
                "lambda-adapter stops"
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(
    argv0: &Path,
    as_extension: bool,
    command: Option<Vec<OsString>>,
) -> Result<(), Error> {
    let started = Instant::now();
    // Listening from the very start: unhandled, SIGTERM or SIGINT would end the adapter at
    // once (as Lambda does right after an init error is reported) and leave the app running.
    let mut stop_signals = StopSignals::listen();
    let settings = match ProxySettings::from_env() {
        Ok(settings) => settings,
        Err(error) => return Err(init_failed(error).await),
    };
    let config = match FunctionConfig::from_env() {
        Ok(config) => config,
        Err(error) => return Err(init_failed(error).await),
    };
    let endpoint = match &settings.runtime_api_proxy {
        Some(proxy) => Endpoint::parse(proxy)?,
        None => Endpoint::from_env()?,
    };
    let mut extension = None;
    if as_extension {
        let name = argv0
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("lambda-adapter");
        let extensions_api = Endpoint::from_env()?;
        extension = Some(ExtensionClient::register(&extensions_api, name, &["SHUTDOWN"]).await?);
    }

    let gate = ReadinessGate::pending();
    // The function is put together before the app is started, so that a bad setting fails the
    // init with no app to stop.
    let proxy = ProxyFramework::builder(&settings)
        .gate(gate.clone())
        .build();
    let function = match select_adapters(proxy, &settings) {
        Ok(function) => function,
        Err(error) => {
            report_init_error(&endpoint, &error).await;
            return Err(error);
        }
    };
    let check = ReadinessCheck::new(&settings);
    tracing::info!(app = %check.target(), "waiting for the app to be ready");
    let supervisor = match command {
        Some(command) => {
            let started = match std::env::current_exe() {
                // This binary is the app's watchdog, should the adapter die abruptly.
                Ok(watchdog) => Supervisor::start_watched(
                    watchdog,
                    command,
                    check,
                    gate.clone(),
                    settings.readiness_timeout,
                ),
                Err(error) => {
                    tracing::warn!(error = %error, "cannot find the adapter's own executable to watch the app with: the app may outlive a killed adapter");
                    Supervisor::start(command, check, gate.clone(), settings.readiness_timeout)
                }
            };
            match started {
                Ok(supervisor) => Some(supervisor),
                Err(error) => {
                    report_init_error(&endpoint, &error).await;
                    return Err(error);
                }
            }
        }
        None => {
            let gate = gate.clone();
            let timeout = settings.readiness_timeout;
            tokio::spawn(async move {
                match check.wait(timeout).await {
                    Ok(_) => gate.set_ready(),
                    Err(error) => gate.fail(error.message().to_owned()),
                }
            });
            None
        }
    };

    let wait_ready = async {
        if settings.async_init {
            let cap = ASYNC_INIT_CAP.saturating_sub(started.elapsed());
            tokio::time::timeout(cap, gate.wait()).await.ok()
        } else {
            Some(gate.wait().await)
        }
    };
    let waited = tokio::select! {
        waited = wait_ready => waited,
        reason = stop_signals.recv() => {
            tracing::info!(reason, "stopped during the init");
            if let Some(supervisor) = supervisor {
                supervisor.shutdown(SHUTDOWN_GRACE).await;
            }
            return Ok(());
        }
    };
    match waited {
        Some(Ok(())) => {}
        Some(Err(reason)) => {
            // The app is stopped before the init error is reported: Lambda ends the adapter
            // as soon as it hears of it.
            if let Some(supervisor) = supervisor {
                supervisor.shutdown(SHUTDOWN_GRACE).await;
            }
            let error = Error::config(reason);
            report_init_error(&endpoint, &error).await;
            return Err(error);
        }
        None => tracing::info!("the app is not ready yet; init goes on (AWS_LWA_ASYNC_INIT) and invocations wait for it"),
    }

    // On SIGTERM, SIGINT or SHUTDOWN the function takes no new invocation but answers the one
    // in flight (bounded by its deadline); then the app is stopped.
    let shutdown = async move {
        let reason = shutdown_requested(stop_signals, extension).await;
        tracing::info!(reason = %reason, "shutting down");
    };
    let result = serve(function, &settings, endpoint, config, shutdown).await;
    if let Some(supervisor) = supervisor {
        supervisor.shutdown(SHUTDOWN_GRACE).await;
    }
    result
}

/// SIGTERM and SIGINT, listened for from the adapter's start (a signal that came before
/// [`recv`](Self::recv) is kept for it).
struct StopSignals {
    terminate: Option<tokio::signal::unix::Signal>,
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::warn!(error = %error, signal = name, "cannot listen for the signal");
                None
            }
        };
        Self {
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
        }
    }

    /// Resolves with the signal's name when one arrives.
    async fn recv(&mut self) -> &'static str {
        async fn one(stream: &mut Option<tokio::signal::unix::Signal>) {
            match stream {
                Some(stream) => {
                    stream.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = one(&mut self.terminate) => "SIGTERM",
            () = one(&mut self.interrupt) => "SIGINT",
        }
    }
}

/// Resolves when the function is told to stop: SIGTERM, SIGINT, or the extension's SHUTDOWN.
async fn shutdown_requested(
    mut signals: StopSignals,
    extension: Option<ExtensionClient>,
) -> String {
    let extension_events = async move {
        let Some(mut extension) = extension else {
            return std::future::pending().await;
        };
        match extension.until_shutdown().await {
            Ok(reason) => format!("SHUTDOWN event ({reason})"),
            Err(error) => {
                tracing::error!(error = %error, "the Extensions API failed; no SHUTDOWN event will be seen");
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        reason = signals.recv() => reason.to_owned(),
        reason = extension_events => reason,
    }
}

/// The function's adapters: SERVERLESS_ADAPTER_ADAPTERS picks them by name (the pass-through
/// adapter reads AWS_LWA_PASS_THROUGH_PATH); unset, the Lambda Web Adapter's list: API Gateway
/// REST, HTTP API / Function URL and ALB events, in that order, then everything else to the
/// pass-through path.
fn select_adapters(
    proxy: ProxyFramework,
    settings: &ProxySettings,
) -> Result<ServerlessAdapter<ProxyFramework, Adapters>, Error> {
    ServerlessAdapter::new(proxy).adapters_from_env_or(|function| {
        function
            .adapter(ApiGatewayV1Adapter)
            .adapter(ApiGatewayV2Adapter)
            .adapter(AlbAdapter)
            .adapter(PassThroughAdapter::configure().path(settings.pass_through_path.clone()))
    })
}

/// The function, with the handler of the invoke mode.
async fn serve(
    function: ServerlessAdapter<ProxyFramework, Adapters>,
    settings: &ProxySettings,
    endpoint: Endpoint,
    config: FunctionConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    match settings.invoke_mode {
        InvokeMode::ResponseStream => {
            with_resolver(
                function.handler(AwsStreamHandler),
                settings,
                endpoint,
                config,
                shutdown,
            )
            .await
        }
        _ => {
            with_resolver(
                function.handler(DefaultHandler),
                settings,
                endpoint,
                config,
                shutdown,
            )
            .await
        }
    }
}

async fn with_resolver<H: Handler>(
    function: ServerlessAdapter<ProxyFramework, Adapters, H, DefaultResolver>,
    settings: &ProxySettings,
    endpoint: Endpoint,
    config: FunctionConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    match &settings.error_status_codes {
        Some(codes) => {
            let resolver = ErrorStatusResolver::new(codes.clone());
            function
                .resolver(resolver)
                .build()
                .run_until(endpoint, config, shutdown)
                .await
        }
        None => function.build().run_until(endpoint, config, shutdown).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Cli, String> {
        parse_args(list.iter().map(OsString::from))
    }

    #[test]
    fn command_lines() {
        assert_eq!(args(&["--help"]), Ok(Cli::Help));
        assert_eq!(args(&["-h"]), Ok(Cli::Help));
        assert_eq!(args(&["--version"]), Ok(Cli::Version));
        assert_eq!(
            args(&[]),
            Ok(Cli::Run {
                extension: None,
                command: None
            })
        );
        assert_eq!(
            args(&["--extension", "--", "node", "--inspect", "app.js"]),
            Ok(Cli::Run {
                extension: Some(true),
                command: Some(vec!["node".into(), "--inspect".into(), "app.js".into()])
            })
        );
        assert_eq!(
            args(&["--no-extension"]),
            Ok(Cli::Run {
                extension: Some(false),
                command: None
            })
        );
        assert!(args(&["--"]).is_err());
        assert!(args(&["node", "app.js"]).is_err());
        assert!(args(&["--port", "3000"]).is_err());
    }
}
