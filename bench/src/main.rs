//! Side-by-side benchmark of the project's Lambda functions against their peers, on a mock
//! Runtime API.
//!
//! Run with `cargo run --release -p serverless-adapter-bench -- [--iterations N]`.
//!
//! The bench pins itself to core 0 (`taskset`) before starting any thread, so every contestant
//! it starts inherits the pinning. It builds the workspace's binaries, installs the Lambda Web
//! Adapter into `target/bench-cache/` (once; `--no-lwa` skips it), then for each contestant
//! starts a minimal Runtime API of its own (hyper 1, `TCP_NODELAY` on accepted sockets), hands
//! out one event at a time and measures the time from handing out the event to receiving the
//! complete answer (and, for streamed answers, to the first body byte after the 8-NUL
//! separator), the peak RSS of each process per workload, the cold start (spawn → first
//! `/next`), for proxies the readiness delay (app port open → first `/next`), and the binary
//! sizes. The floor is `reference-server` called directly over one kept-alive connection;
//! `reference-actix-server` (the actix app behind actix-web's `HttpServer`) is called the same
//! way, and put behind `lambda-adapter`, to compare with `reference-actix` in process. The
//! results are printed as Markdown and written into `BENCHMARKS.md` between the
//! generated-section markers.

mod events;
mod mock;
mod procs;
mod report;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::mock::{MockRuntime, Outcome};
use crate::procs::{free_port, wait_for_port, Processes, Sizes};
use crate::report::{median, render, write_benchmarks_md, Report, Samples};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Upper bound on the measured time of one workload for one contestant (keeps the run short
/// when a contestant is pathologically slow; the achieved count is reported).
const WORKLOAD_BUDGET: Duration = Duration::from_secs(25);
/// How long the bench waits after starting a proxy before it starts the app, when it measures
/// the readiness delay.
const READINESS_APP_DELAY: Duration = Duration::from_millis(30);
/// Longest wait for a contestant's first `/next`.
const FIRST_NEXT_LIMIT: Duration = Duration::from_secs(10);
/// Size of the `/echo` request body.
const ECHO_BODY: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Workloads and contestants

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    Root,
    Echo64K,
    Stream5,
    Ttfb,
    Bytes1M,
    Bytes20M,
    Sqs10,
}

impl Workload {
    const ALL: [Workload; 7] = [
        Workload::Root,
        Workload::Echo64K,
        Workload::Stream5,
        Workload::Ttfb,
        Workload::Bytes1M,
        Workload::Bytes20M,
        Workload::Sqs10,
    ];

    fn label(self) -> &'static str {
        match self {
            Workload::Root => "GET /",
            Workload::Echo64K => "POST /echo with a 64 KiB text body",
            Workload::Stream5 => "GET /stream?chunks=5&interval_ms=0&size=16",
            Workload::Ttfb => "GET /stream?chunks=3&interval_ms=50",
            Workload::Bytes1M => "GET /bytes?size=1000000",
            Workload::Bytes20M => "GET /bytes?size=20000000",
            Workload::Sqs10 => "SQS batch of 10",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Workload::Root => "GET /",
            Workload::Echo64K => "echo 64 KiB",
            Workload::Stream5 => "stream 5×16 B",
            Workload::Ttfb => "stream 3×50 ms",
            Workload::Bytes1M => "bytes 1 MB",
            Workload::Bytes20M => "bytes 20 MB",
            Workload::Sqs10 => "SQS ×10",
        }
    }

    /// (method, path, raw query string) of the HTTP workloads.
    fn target(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Workload::Root => Some(("GET", "/", "")),
            Workload::Echo64K => Some(("POST", "/echo", "")),
            Workload::Stream5 => Some(("GET", "/stream", "chunks=5&interval_ms=0&size=16")),
            Workload::Ttfb => Some(("GET", "/stream", "chunks=3&interval_ms=50")),
            Workload::Bytes1M => Some(("GET", "/bytes", "size=1000000")),
            Workload::Bytes20M => Some(("GET", "/bytes", "size=20000000")),
            Workload::Sqs10 => None,
        }
    }

    /// The request body of the HTTP workload.
    fn body(self) -> Option<String> {
        (self == Workload::Echo64K).then(|| events::text_body(ECHO_BODY))
    }

    /// The complete body size the app sends, where it is known and checked.
    fn body_len(self) -> Option<usize> {
        match self {
            Workload::Bytes1M => Some(1_000_000),
            Workload::Bytes20M => Some(20_000_000),
            _ => None,
        }
    }

    fn iterations(self, n: usize) -> usize {
        match self {
            Workload::Root | Workload::Sqs10 => n,
            Workload::Stream5 => (n / 4).max(10),
            Workload::Echo64K => (n / 5).max(10),
            Workload::Bytes1M => (n / 10).max(10),
            Workload::Ttfb => (n / 50).max(10),
            Workload::Bytes20M => (n / 40).max(5),
        }
    }

    fn warmup(self, n: usize) -> usize {
        (self.iterations(n) / 20).clamp(3, 100)
    }
}

/// Which proxy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProxyKind {
    /// This project's `lambda-adapter`.
    Ours,
    /// The Lambda Web Adapter, installed with `cargo install lambda_web_adapter`.
    Lwa,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// The contestant's app server (`reference-server`, or `reference-actix-server`) over one
    /// kept-alive connection.
    Direct,
    /// One of our in-process function binaries (`reference-axum`, `reference-actix`).
    Ours(&'static str),
    /// `lambda_http` serving the same axum router (a binary of this package).
    LambdaHttp(&'static str),
    /// A proxy in front of the contestant's app server, started by the bench.
    Proxy(ProxyKind),
}

#[derive(Clone, Debug)]
struct Contestant {
    name: String,
    kind: Kind,
    /// `AWS_LWA_INVOKE_MODE` (`buffered` or `response_stream`), for function contestants.
    mode: Option<&'static str>,
    /// The app server binary the bench starts for a direct or proxy contestant:
    /// [`AXUM_SERVER`] (the floor, and the proxies' app unless said) or [`ACTIX_SERVER`].
    app: &'static str,
}

/// The axum reference app as a plain HTTP server: the floor, and the app behind the proxies.
const AXUM_SERVER: &str = "reference-server";
/// The actix reference app behind actix-web's own `HttpServer` (issue #7: actix in process
/// against actix behind a loopback socket).
const ACTIX_SERVER: &str = "reference-actix-server";

impl Contestant {
    fn streams(&self) -> bool {
        self.mode == Some("response_stream")
    }

    /// Whether the contestant can run `workload` at all (the rest are shown as n/a).
    fn runs(&self, workload: Workload) -> bool {
        match workload {
            // Only our in-process functions answer SQS through the router (lambda_http
            // accepts HTTP events only; the proxies post it to a pass-through route).
            Workload::Sqs10 => matches!(self.kind, Kind::Ours(_)),
            // Over Lambda's 6 MB buffered limit: streaming only.
            Workload::Bytes20M => self.kind == Kind::Direct || self.streams(),
            _ => true,
        }
    }

    fn workloads(&self) -> Vec<Workload> {
        Workload::ALL
            .into_iter()
            .filter(|w| self.runs(*w))
            .collect()
    }

    /// The name of our contestant this one is compared with (`None` for ours and the floor).
    fn ours(&self) -> Option<String> {
        let mode = self.mode.unwrap_or("buffered");
        match self.kind {
            Kind::LambdaHttp(_) => Some(format!("reference-axum {mode}")),
            Kind::Proxy(ProxyKind::Lwa) => Some(format!("lambda-adapter {mode}")),
            _ => None,
        }
    }

    /// The binaries of the contestant, as (label, path): the function (or adapter) first.
    fn binaries(&self, paths: &Paths) -> Vec<(String, PathBuf)> {
        let app = (self.app.to_owned(), paths.bins.join(self.app));
        match self.kind {
            Kind::Direct => vec![app],
            Kind::Ours(bin) | Kind::LambdaHttp(bin) => vec![(bin.into(), paths.bins.join(bin))],
            Kind::Proxy(ProxyKind::Ours) => vec![
                ("lambda-adapter".into(), paths.bins.join("lambda-adapter")),
                app,
            ],
            Kind::Proxy(ProxyKind::Lwa) => match &paths.lwa {
                Ok((bin, _)) => vec![("LWA lambda-adapter".into(), bin.clone()), app],
                Err(_) => vec![app],
            },
        }
    }
}

fn contestants(paths: &Paths) -> Vec<Contestant> {
    let mut list = vec![Contestant {
        name: "reference-server direct (floor)".into(),
        kind: Kind::Direct,
        mode: None,
        app: AXUM_SERVER,
    }];
    for bin in ["reference-axum", "reference-actix"] {
        for mode in ["buffered", "response_stream"] {
            list.push(Contestant {
                name: format!("{bin} {mode}"),
                kind: Kind::Ours(bin),
                mode: Some(mode),
                app: AXUM_SERVER,
            });
        }
    }
    for (bin, mode) in [
        ("lambda-http-buffered", "buffered"),
        ("lambda-http-stream", "response_stream"),
    ] {
        list.push(Contestant {
            name: format!("lambda_http {mode}"),
            kind: Kind::LambdaHttp(bin),
            mode: Some(mode),
            app: AXUM_SERVER,
        });
    }
    for mode in ["buffered", "response_stream"] {
        list.push(Contestant {
            name: format!("lambda-adapter {mode}"),
            kind: Kind::Proxy(ProxyKind::Ours),
            mode: Some(mode),
            app: AXUM_SERVER,
        });
    }
    // Issue #7: the actix app behind a loopback socket, to set beside `reference-actix`.
    list.push(Contestant {
        name: format!("{ACTIX_SERVER} direct (actix floor)"),
        kind: Kind::Direct,
        mode: None,
        app: ACTIX_SERVER,
    });
    for mode in ["buffered", "response_stream"] {
        list.push(Contestant {
            name: format!("lambda-adapter + {ACTIX_SERVER} {mode}"),
            kind: Kind::Proxy(ProxyKind::Ours),
            mode: Some(mode),
            app: ACTIX_SERVER,
        });
    }
    if let Some(lwa) = &paths.lwa_wanted {
        for mode in ["buffered", "response_stream"] {
            list.push(Contestant {
                name: format!("LWA {lwa} {mode}"),
                kind: Kind::Proxy(ProxyKind::Lwa),
                mode: Some(mode),
                app: AXUM_SERVER,
            });
        }
    }
    list
}

fn event_for(workload: Workload) -> Bytes {
    match workload.target() {
        Some((method, path, query)) => {
            events::function_url_event(method, path, query, workload.body().as_deref())
        }
        None => events::sqs_event(10),
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring

fn check(workload: Workload, outcome: &Outcome) -> Result<(), String> {
    if let Some(e) = &outcome.error {
        return Err(e.clone());
    }
    let head = String::from_utf8_lossy(&outcome.head);
    let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    if workload == Workload::Sqs10 {
        if compact.contains("\"batchItemFailures\":[]") {
            return Ok(());
        }
        return Err(format!("unexpected SQS answer: {}", truncate(&head, 200)));
    }
    if !compact.contains("\"statusCode\":200") {
        return Err(format!("not a 200 answer: {}", truncate(&head, 200)));
    }
    if let Some(len) = workload.body_len() {
        if outcome.streamed && outcome.len < len {
            return Err(format!("short streamed body: {} bytes", outcome.len));
        }
    }
    // The echo answer holds the 64 KiB body in base64: a shorter answer lost part of it.
    if workload == Workload::Echo64K && outcome.len < ECHO_BODY * 4 / 3 {
        return Err(format!("short echo answer: {} bytes", outcome.len));
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

async fn run_function_workload(
    runtime: &MockRuntime,
    workload: Workload,
    n: usize,
    counter: &mut u64,
) -> Samples {
    let event = event_for(workload);
    let mut samples = Samples::default();
    let warmup = workload.warmup(n);
    let iterations = workload.iterations(n);
    let mut measured_since = None;
    for i in 0..warmup + iterations {
        *counter += 1;
        samples.count += 1;
        let id = format!("bench-{counter:08}");
        let outcome = match runtime.invoke(id, event.clone()).await {
            Ok(outcome) => outcome,
            Err(e) => {
                samples.aborted = Some(e.to_string());
                break;
            }
        };
        if let Err(e) = check(workload, &outcome) {
            samples.note_error(e);
        }
        if i < warmup {
            continue;
        }
        let since = *measured_since.get_or_insert_with(Instant::now);
        samples.total.push(outcome.total);
        if let Some(t) = outcome.first_byte {
            samples.first_byte.push(t);
        }
        if since.elapsed() > WORKLOAD_BUDGET {
            break;
        }
    }
    samples
}

async fn run_direct_workload(port: u16, workload: Workload, n: usize) -> Result<Samples, BoxError> {
    let (method, path, query) = workload.target().ok_or("no direct form")?;
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let body = Bytes::from(workload.body().unwrap_or_default());
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    let mut samples = Samples::default();
    let warmup = workload.warmup(n);
    let iterations = workload.iterations(n);
    let mut measured_since = None;
    for i in 0..warmup + iterations {
        let mut request = Request::builder()
            .method(method)
            .uri(uri.as_str())
            .header("host", format!("127.0.0.1:{port}"));
        if !body.is_empty() {
            request = request.header("content-type", "text/plain");
        }
        let request = request.body(Full::new(body.clone()))?;
        samples.count += 1;
        sender.ready().await?;
        let start = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut first = None;
        let mut len = 0;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if first.is_none() && !data.is_empty() {
                    first = Some(start.elapsed());
                }
                len += data.len();
            }
        }
        let total = start.elapsed();
        if status != StatusCode::OK {
            samples.note_error(format!("status {status}"));
        } else if workload.body_len().is_some_and(|expected| len != expected) {
            samples.note_error(format!("body of {len} bytes"));
        } else if workload == Workload::Echo64K && len < ECHO_BODY * 4 / 3 {
            samples.note_error(format!("short echo answer: {len} bytes"));
        }
        if i < warmup {
            continue;
        }
        let since = *measured_since.get_or_insert_with(Instant::now);
        samples.total.push(total);
        if let Some(first) = first {
            samples.first_byte.push(first);
        }
        if since.elapsed() > WORKLOAD_BUDGET {
            break;
        }
    }
    drop(sender);
    connection.abort();
    Ok(samples)
}

fn common_env(runtime: &MockRuntime) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", "bench".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("RUST_LOG", "error".into()),
        ("AWS_LAMBDA_LOG_LEVEL", "error".into()),
    ]
}

/// The environment of a function or proxy contestant (not the app behind a proxy).
fn function_env(
    runtime: &MockRuntime,
    contestant: &Contestant,
    app_port: Option<u16>,
) -> Vec<(&'static str, String)> {
    let mut env = common_env(runtime);
    env.push((
        "AWS_LWA_INVOKE_MODE",
        contestant.mode.unwrap_or("buffered").into(),
    ));
    if let Some(port) = app_port {
        env.push(("AWS_LWA_PORT", port.to_string()));
    }
    env
}

/// The function or proxy binary of a contestant.
fn function_bin(paths: &Paths, contestant: &Contestant) -> Result<PathBuf, BoxError> {
    Ok(match contestant.kind {
        Kind::Direct => return Err("the floor has no function".into()),
        Kind::Ours(bin) | Kind::LambdaHttp(bin) => paths.bins.join(bin),
        Kind::Proxy(ProxyKind::Ours) => paths.bins.join("lambda-adapter"),
        Kind::Proxy(ProxyKind::Lwa) => match &paths.lwa {
            Ok((bin, _)) => bin.clone(),
            Err(e) => return Err(format!("unavailable: {e}").into()),
        },
    })
}

fn function_label(contestant: &Contestant) -> &'static str {
    match contestant.kind {
        Kind::Ours(bin) | Kind::LambdaHttp(bin) => bin,
        Kind::Proxy(ProxyKind::Lwa) => "LWA lambda-adapter",
        _ => "lambda-adapter",
    }
}

/// Starts the contestant's app server on a free port and waits until it accepts connections.
async fn start_app(
    processes: &mut Processes,
    paths: &Paths,
    contestant: &Contestant,
) -> Result<u16, BoxError> {
    let port = free_port()?;
    processes.spawn(
        contestant.app,
        &paths.bins.join(contestant.app),
        &[("PORT", port.to_string()), ("RUST_LOG", "error".into())],
    )?;
    wait_for_port(port).await?;
    Ok(port)
}

async fn run_contestant(
    paths: &Paths,
    contestant: &Contestant,
    n: usize,
    only_workload: Option<&str>,
    counter: &mut u64,
) -> Report {
    let mut report = Report::new(contestant.clone());
    let mut processes = Processes::default();
    let outcome: Result<(), BoxError> = async {
        let runtime = MockRuntime::start().await?;
        let direct_port = match contestant.kind {
            Kind::Direct => Some(start_app(&mut processes, paths, contestant).await?),
            Kind::Ours(_) | Kind::LambdaHttp(_) => {
                let env = function_env(&runtime, contestant, None);
                let bin = function_bin(paths, contestant)?;
                processes.spawn(function_label(contestant), &bin, &env)?;
                None
            }
            Kind::Proxy(_) => {
                let bin = function_bin(paths, contestant)?;
                let port = start_app(&mut processes, paths, contestant).await?;
                let env = function_env(&runtime, contestant, Some(port));
                processes.spawn(function_label(contestant), &bin, &env)?;
                None
            }
        };
        report.note_rss(None, processes.peak_rss());
        processes.reset_peaks();
        for workload in contestant.workloads() {
            if only_workload.is_some_and(|w| !workload.short().contains(w)) {
                continue;
            }
            let cpu_before = processes.cpu_ns();
            let mut samples = match direct_port {
                Some(port) => run_direct_workload(port, workload, n).await?,
                None => run_function_workload(&runtime, workload, n, counter).await,
            };
            samples.cpu_ns = processes
                .cpu_ns()
                .into_iter()
                .zip(cpu_before)
                .map(|((label, after), (_, before))| (label, after.saturating_sub(before)))
                .collect();
            report.note_rss(Some(workload), processes.peak_rss());
            processes.reset_peaks();
            report.results.push((workload, samples));
            if let Some(exited) = processes.exited() {
                return Err(exited.into());
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        report.failed = Some(e.to_string());
    }
    processes.kill_all();
    report
}

/// Cold starts: spawn → first `/next`, `reps` times, each against a fresh Runtime API (for a
/// proxy, with the app already up). For a proxy also the readiness delay: the proxy is started
/// first, the app [`READINESS_APP_DELAY`] later, and the time from the app's port accepting
/// connections (the app prints its "listening" line right after `listen`; the bench stamps the
/// line's arrival) to the first `/next` is taken.
async fn cold_starts(paths: &Paths, contestant: &Contestant, reps: usize, report: &mut Report) {
    let outcome: Result<(), BoxError> = async {
        let bin = function_bin(paths, contestant)?;
        let label = function_label(contestant);
        let mut app = Processes::default();
        let app_port = match contestant.kind {
            Kind::Proxy(_) => Some(start_app(&mut app, paths, contestant).await?),
            _ => None,
        };
        for _ in 0..reps {
            let runtime = MockRuntime::start().await?;
            let env = function_env(&runtime, contestant, app_port);
            let mut processes = Processes::default();
            let spawned = Instant::now();
            processes.spawn(label, &bin, &env)?;
            let first = runtime.first_next(FIRST_NEXT_LIMIT).await?;
            report.cold.push(first - spawned);
            processes.kill_all();
        }
        app.kill_all();
        if app_port.is_none() {
            return Ok(());
        }
        for _ in 0..reps {
            let runtime = MockRuntime::start().await?;
            let port = free_port()?;
            let env = function_env(&runtime, contestant, Some(port));
            let mut processes = Processes::default();
            processes.spawn(label, &bin, &env)?;
            tokio::time::sleep(READINESS_APP_DELAY).await;
            let (_, stderr) = processes.spawn_with(
                contestant.app,
                &paths.bins.join(contestant.app),
                &[("PORT", port.to_string()), ("RUST_LOG", "error".into())],
                true,
            )?;
            let stderr = stderr.ok_or("no stderr pipe")?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let reader = std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("listening on") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(Instant::now());
                        }
                    }
                }
            });
            let first = runtime.first_next(FIRST_NEXT_LIMIT).await?;
            let open = tokio::time::timeout(FIRST_NEXT_LIMIT, rx)
                .await
                .map_err(|_| "the app did not print its listening line")?
                .map_err(|_| "the app exited before listening")?;
            // Signed: a proxy polling before its app is ready would show as negative.
            let delay = if first >= open {
                (first - open).as_secs_f64()
            } else {
                -(open - first).as_secs_f64()
            };
            report.readiness.push(delay);
            processes.kill_all();
            let _ = reader.join();
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        report.cold_error = Some(e.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// Main

struct Args {
    iterations: usize,
    cold: usize,
    only: Option<String>,
    workload: Option<String>,
    write: bool,
    lwa: bool,
    build: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        iterations: 2000,
        cold: 20,
        only: None,
        workload: None,
        write: true,
        lwa: true,
        build: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--iterations" | "-n" => {
                args.iterations = it.next().ok_or("--iterations needs a value")?.parse()?;
            }
            "--cold" => args.cold = it.next().ok_or("--cold needs a value")?.parse()?,
            "--only" => args.only = Some(it.next().ok_or("--only needs a value")?),
            "--workload" => {
                args.workload = Some(it.next().ok_or("--workload needs a value")?);
            }
            "--no-write" => args.write = false,
            "--no-lwa" => args.lwa = false,
            "--no-build" => args.build = false,
            "-h" | "--help" => {
                println!(
                    "usage: serverless-adapter-bench [--iterations N] [--cold N] [--only SUBSTRING] [--workload SUBSTRING] [--no-lwa] [--no-build] [--no-write]\n\
                     \n  --iterations N  invocations per workload (scaled down for the slow ones; default 2000)\
                     \n  --cold N        cold starts (and readiness waits) per contestant (default 20)\
                     \n  --only S        only the contestants whose name contains S (and the floor)\
                     \n  --workload S    only the workloads whose short name contains S (e.g. \"GET /\", \"20 MB\")\
                     \n  --no-lwa        do not install or run the Lambda Web Adapter\
                     \n  --no-build      do not run `cargo build --release --workspace --bins` first\
                     \n  --no-write      print the tables without rewriting BENCHMARKS.md"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    Ok(args)
}

fn pin_self() {
    // Before any other thread exists: threads and processes started later inherit it.
    let status = Command::new("taskset")
        .args(["-a", "-cp", "0", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("warning: could not pin the bench to core 0 (taskset)");
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn bins_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .filter(|dir| dir.join("reference-server").exists() || dir.ends_with("release"))
        .unwrap_or_else(|| workspace_root().join("target/release"))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn ensure_built(bins: &Path, build: bool) -> Result<(), BoxError> {
    let needed = [
        AXUM_SERVER,
        ACTIX_SERVER,
        "reference-axum",
        "reference-actix",
        "lambda-adapter",
        "lambda-http-buffered",
        "lambda-http-stream",
    ];
    if !build && needed.iter().all(|b| bins.join(b).exists()) {
        return Ok(());
    }
    eprintln!("building the contestants: cargo build --release --workspace --bins");
    let status = Command::new(cargo())
        .args(["build", "--release", "--workspace", "--bins"])
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        return Err("building the contestants failed".into());
    }
    Ok(())
}

/// Where the bench keeps what it installs.
fn cache_dir() -> PathBuf {
    workspace_root().join("target/bench-cache")
}

/// The installed Lambda Web Adapter's binary and version, installing it if needed.
fn ensure_lwa() -> Result<(PathBuf, String), String> {
    let root = cache_dir();
    let bin = root.join("bin/lambda-adapter");
    if !bin.exists() {
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        eprintln!(
            "installing the Lambda Web Adapter: cargo install lambda_web_adapter --locked --root {}",
            root.display()
        );
        let output = Command::new(cargo())
            .args(["install", "lambda_web_adapter", "--locked", "--root"])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run cargo install: {e}"))?;
        if !output.status.success() || !bin.exists() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            return Err(format!(
                "cargo install lambda_web_adapter failed ({}): {}",
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ));
        }
    }
    // `.crates2.json` records what `cargo install` put in this root.
    let version = std::fs::read_to_string(root.join(".crates2.json"))
        .ok()
        .and_then(|text| {
            let start = text.find("lambda_web_adapter ")? + "lambda_web_adapter ".len();
            let rest = &text[start..];
            Some(rest[..rest.find(' ')?].to_owned())
        })
        .unwrap_or_else(|| "(version unknown)".into());
    Ok((bin, version))
}

/// Where the contestants' binaries are.
struct Paths {
    /// `target/release`.
    bins: PathBuf,
    /// The Lambda Web Adapter, if it is wanted: its binary and version, or why it is missing.
    lwa: Result<(PathBuf, String), String>,
    /// The label of the LWA contestants (its version), `None` with `--no-lwa`.
    lwa_wanted: Option<String>,
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    // Build and install before pinning: the compilers should use every core.
    let bins = bins_dir();
    ensure_built(&bins, args.build)?;
    let (lwa, lwa_wanted) = if args.lwa {
        let lwa = ensure_lwa();
        let label = match &lwa {
            Ok((_, version)) => version.clone(),
            Err(e) => {
                eprintln!("the Lambda Web Adapter is unavailable: {e}");
                "(unavailable)".into()
            }
        };
        (lwa, Some(label))
    } else {
        (Err("skipped (--no-lwa)".into()), None)
    };
    pin_self();
    let paths = Paths {
        bins,
        lwa,
        lwa_wanted,
    };
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let load_before = load_average();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut sizes = Sizes::default();
    let reports = runtime.block_on(async {
        let mut reports = Vec::new();
        let mut counter = 0u64;
        for contestant in contestants(&paths) {
            if let Some(only) = &args.only {
                // The floor always runs; the actix floor only when asked for.
                let floor = contestant.kind == Kind::Direct && contestant.app == AXUM_SERVER;
                if !floor && !contestant.name.contains(only.as_str()) {
                    continue;
                }
            }
            let started = Instant::now();
            eprintln!("== {}", contestant.name);
            let mut report = run_contestant(
                &paths,
                &contestant,
                args.iterations,
                args.workload.as_deref(),
                &mut counter,
            )
            .await;
            if contestant.kind != Kind::Direct && report.failed.is_none() && args.cold > 0 {
                cold_starts(&paths, &contestant, args.cold, &mut report).await;
            }
            for (label, path) in contestant.binaries(&paths) {
                report.sizes.push((label, sizes.of(&path)));
            }
            for (w, s) in &report.results {
                eprintln!(
                    "   {:<16} n={:<5} p50={:<10} first-byte p50={:<10} errors={}{}",
                    w.short(),
                    s.total.len(),
                    report::fmt_opt(median(&s.total)),
                    report::fmt_opt(median(&s.first_byte)),
                    s.errors,
                    s.first_error
                        .as_deref()
                        .map(|e| format!(" ({})", truncate(e, 120)))
                        .unwrap_or_default()
                );
            }
            if !report.cold.is_empty() {
                eprintln!(
                    "   cold start p50={} readiness p50={}",
                    report::fmt_opt(median(&report.cold)),
                    report::fmt_signed_ms(report::median_f64(&report.readiness)),
                );
            }
            if let Some(failed) = &report.failed {
                eprintln!("   failed: {failed}");
            }
            if let Some(failed) = &report.cold_error {
                eprintln!("   cold start failed: {failed}");
            }
            eprintln!("   ({:.1} s)", started.elapsed().as_secs_f64());
            reports.push(report);
        }
        reports
    });
    let machine = format!(
        "{}; load average before the run {}, after {}",
        machine_description(),
        load_before,
        load_average()
    );
    let section = render(&reports, args.iterations, args.cold, &date, &machine);
    println!("{section}");
    if args.write {
        let path = workspace_root().join("BENCHMARKS.md");
        write_benchmarks_md(&path, &section)?;
        eprintln!("written to {}", path.display());
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

fn machine_description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{model}, {cpus} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(head: &str, len: usize, streamed: bool) -> Outcome {
        Outcome {
            total: Duration::from_micros(10),
            first_byte: None,
            streamed,
            error: None,
            head: head.as_bytes().to_vec(),
            len,
        }
    }

    #[test]
    fn answers_are_checked() {
        let ok = r#"{"statusCode": 200, "body": "ok"}"#;
        assert!(check(Workload::Root, &outcome(ok, ok.len(), false)).is_ok());
        let not_found = r#"{"statusCode":404}"#;
        assert!(check(Workload::Root, &outcome(not_found, 18, false)).is_err());
        // A streamed 20 MB answer must carry the whole body.
        let prelude = "{\"statusCode\":200}\0\0\0\0\0\0\0\0";
        assert!(check(Workload::Bytes20M, &outcome(prelude, 20_000_100, true)).is_ok());
        assert!(check(Workload::Bytes20M, &outcome(prelude, 1_000_000, true)).is_err());
        // The echo answer holds the 64 KiB body in base64.
        assert!(check(Workload::Echo64K, &outcome(ok, 1000, false)).is_err());
        assert!(check(Workload::Echo64K, &outcome(ok, 90_000, false)).is_ok());
        let sqs = r#"{"batchItemFailures":[]}"#;
        assert!(check(Workload::Sqs10, &outcome(sqs, sqs.len(), false)).is_ok());
        let mut failed = outcome(ok, ok.len(), false);
        failed.error = Some("/error: boom".into());
        assert!(check(Workload::Root, &failed).is_err());
    }

    #[test]
    fn events_carry_the_request() {
        let event: serde_json::Value =
            serde_json::from_slice(&event_for(Workload::Echo64K)).expect("JSON");
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["rawPath"], "/echo");
        assert_eq!(event["body"].as_str().map(str::len), Some(ECHO_BODY));
        let event: serde_json::Value =
            serde_json::from_slice(&event_for(Workload::Bytes20M)).expect("JSON");
        assert_eq!(event["queryStringParameters"]["size"], "20000000");
        let event: serde_json::Value =
            serde_json::from_slice(&event_for(Workload::Sqs10)).expect("JSON");
        assert_eq!(event["Records"].as_array().map(Vec::len), Some(10));
    }

    #[test]
    fn buffered_contestants_skip_20_mb_and_only_ours_answer_sqs() {
        let paths = Paths {
            bins: PathBuf::from("/nonexistent"),
            lwa: Err("skipped".into()),
            lwa_wanted: Some("0.0.0".into()),
        };
        let all = contestants(&paths);
        let by_name = |name: &str| {
            all.iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name} is a contestant"))
        };
        assert!(!by_name("reference-axum buffered").runs(Workload::Bytes20M));
        assert!(by_name("reference-axum response_stream").runs(Workload::Bytes20M));
        assert!(by_name("reference-axum buffered").runs(Workload::Sqs10));
        assert!(!by_name("lambda_http buffered").runs(Workload::Sqs10));
        assert!(!by_name("lambda-adapter response_stream").runs(Workload::Sqs10));
        assert_eq!(
            by_name("lambda_http response_stream").ours().as_deref(),
            Some("reference-axum response_stream")
        );
        assert_eq!(
            by_name("LWA 0.0.0 buffered").ours().as_deref(),
            Some("lambda-adapter buffered")
        );
    }

    #[test]
    fn the_actix_app_runs_direct_and_behind_lambda_adapter() {
        let paths = Paths {
            bins: PathBuf::from("/bins"),
            lwa: Err("skipped".into()),
            lwa_wanted: None,
        };
        let all = contestants(&paths);
        let by_name = |name: &str| {
            all.iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name} is a contestant"))
        };
        let proxy = by_name("lambda-adapter + reference-actix-server response_stream");
        assert_eq!(proxy.kind, Kind::Proxy(ProxyKind::Ours));
        assert_eq!(
            proxy.binaries(&paths),
            [
                (
                    "lambda-adapter".to_owned(),
                    PathBuf::from("/bins/lambda-adapter")
                ),
                (
                    "reference-actix-server".to_owned(),
                    PathBuf::from("/bins/reference-actix-server")
                ),
            ]
        );
        assert!(proxy.runs(Workload::Bytes20M));
        assert!(!proxy.runs(Workload::Sqs10));
        let direct = by_name("reference-actix-server direct (actix floor)");
        assert_eq!(direct.kind, Kind::Direct);
        assert_eq!(direct.app, ACTIX_SERVER);
        // The existing contestants keep the axum app, and the axum floor comes first.
        assert_eq!(by_name("lambda-adapter buffered").app, AXUM_SERVER);
        let floor = all
            .iter()
            .find(|c| c.kind == Kind::Direct)
            .expect("a floor");
        assert_eq!(floor.app, AXUM_SERVER);
    }

    /// The mock Runtime API against a real HTTP client: `/next` hands out the event with the
    /// context headers, a streamed `/response` is timed to its first body byte.
    #[test]
    fn the_mock_runtime_times_a_streamed_answer() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let runtime = MockRuntime::start().await.expect("mock starts");
            let addr = runtime.addr;
            let function = tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .expect("handshake");
                tokio::spawn(connection);
                let next = sender
                    .send_request(
                        Request::get("/2018-06-01/runtime/invocation/next")
                            .header("host", "runtime")
                            .body(Full::new(Bytes::new()))
                            .expect("request"),
                    )
                    .await
                    .expect("/next");
                let id = next.headers()["lambda-runtime-aws-request-id"]
                    .to_str()
                    .expect("id")
                    .to_owned();
                let event = next.into_body().collect().await.expect("event").to_bytes();
                assert_eq!(&event[..], b"{\"hello\":1}");
                let answer = Request::post(format!("/2018-06-01/runtime/invocation/{id}/response"))
                    .header("host", "runtime")
                    .header("lambda-runtime-function-response-mode", "streaming")
                    .body(Full::new(Bytes::from_static(
                        b"{\"statusCode\":200}\0\0\0\0\0\0\0\0body",
                    )))
                    .expect("request");
                let status = sender
                    .send_request(answer)
                    .await
                    .expect("/response")
                    .status();
                assert_eq!(status, StatusCode::ACCEPTED);
            });
            let outcome = runtime
                .invoke("bench-1".into(), Bytes::from_static(b"{\"hello\":1}"))
                .await
                .expect("answered");
            function.await.expect("function side");
            assert!(outcome.streamed);
            assert_eq!(outcome.len, 18 + 8 + 4);
            assert!(outcome.first_byte.is_some());
            assert!(check(Workload::Root, &outcome).is_ok());
            assert!(runtime.first_next(Duration::from_secs(5)).await.is_ok());
        });
    }
}
