//! `lambda-adapter` + a real app under the local emulator, in each way Lambda runs it:
//! supervisor (`lambda-adapter -- CMD`), external extension beside the function's command, and
//! the zip layer's exec wrapper (`AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap` with the layer's
//! `bootstrap` script and `/opt/extensions/lambda-adapter`), buffered and streaming: every
//! reference route, multi-value headers and cookies, compression, a late app, async init,
//! crashes, idle connections closed by the app, a hung app, and concurrent invocations.
//!
//! Every step is bounded by a generous liveness limit; the only timing assertion is that
//! streamed events arrive spread out (at least half the app's interval apart).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use serverless_adapter_e2e::emulated::{self, ready};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::process::{children_of, kill};
use serverless_adapter_e2e::temp::{write_executable, TempDir};
use serverless_adapter_e2e::{binary, bounded, events, workspace_root, Echo};
use serverless_adapter_emulator::{CollectedResponse, Emulator};

/// How Lambda starts the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `lambda-adapter -- APP`, the function's command.
    Supervisor,
    /// `lambda-adapter --extension` beside the app as the function's command.
    Extension,
    /// The zip layer: `/opt/extensions/lambda-adapter` and `/opt/bootstrap` as the exec
    /// wrapper, starting `$LAMBDA_TASK_ROOT/run.sh`.
    ExecWrapper,
}

/// Quotes `text` for `sh`.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The app, as a command line.
struct App {
    argv: Vec<String>,
}

impl App {
    /// The reference app.
    fn reference() -> Self {
        Self {
            argv: vec![binary("reference-server").to_string_lossy().into_owned()],
        }
    }

    /// The reference app, started after `delay`.
    fn reference_after(delay: Duration) -> Self {
        let script = format!(
            "sleep {}; exec {}",
            delay.as_secs_f64(),
            sh_quote(&binary("reference-server").to_string_lossy())
        );
        Self {
            argv: vec!["/bin/sh".into(), "-c".into(), script],
        }
    }

    /// A Python app (the kind users run behind the adapter).
    fn python(script: &Path) -> Self {
        Self {
            argv: vec!["python3".into(), script.to_string_lossy().into_owned()],
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.argv[0]);
        command.args(&self.argv[1..]);
        command
    }

    fn shell_line(&self) -> String {
        let words: Vec<String> = self.argv.iter().map(|w| sh_quote(w)).collect();
        format!("exec {}", words.join(" "))
    }
}

/// A function under the emulator, and what it needs to stay alive.
struct Function {
    emulator: Emulator,
    _dir: Option<TempDir>,
}

impl Function {
    async fn start(mode: Mode, invoke_mode: &str, app: App, env: &[(&str, &str)]) -> Self {
        Self::start_with(mode, invoke_mode, app, env, |builder| builder).await
    }

    async fn start_with(
        mode: Mode,
        invoke_mode: &str,
        app: App,
        env: &[(&str, &str)],
        configure: impl FnOnce(
            serverless_adapter_emulator::EmulatorBuilder,
        ) -> serverless_adapter_emulator::EmulatorBuilder,
    ) -> Self {
        let app_port = free_port();
        let port = app_port.to_string();
        let mut settings: Vec<(String, String)> = vec![
            ("AWS_LWA_PORT".into(), port.clone()),
            ("PORT".into(), port.clone()),
            ("AWS_LWA_INVOKE_MODE".into(), invoke_mode.into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        settings.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let adapter = binary("lambda-adapter");
        let mut builder = Emulator::builder();
        let mut dir = None;
        match mode {
            Mode::Supervisor => {
                let mut command = Command::new(&adapter);
                command.arg("--").args(&app.argv);
                command.envs(settings.iter().map(|(k, v)| (k, v)));
                builder = builder.command(command);
            }
            Mode::Extension => {
                let mut extension = Command::new(&adapter);
                extension.arg("--extension");
                extension.envs(settings.iter().map(|(k, v)| (k, v)));
                let mut command = app.command();
                command.env("PORT", &port);
                builder = builder.extension(extension).command(command);
            }
            Mode::ExecWrapper => {
                // The layer, as Lambda unpacks it in /opt, and the function's code.
                let root = TempDir::new("layer");
                let opt = root.join("opt");
                let extensions = opt.join("extensions");
                let task = root.join("task");
                std::fs::create_dir_all(&extensions).unwrap();
                std::fs::create_dir_all(&task).unwrap();
                let bootstrap = opt.join("bootstrap");
                std::fs::copy(
                    workspace_root().join("frameworks/proxy/layer/bootstrap"),
                    &bootstrap,
                )
                .unwrap();
                std::os::unix::fs::symlink(&adapter, extensions.join("lambda-adapter")).unwrap();
                write_executable(
                    &task.join("run.sh"),
                    &format!("#!/bin/sh\n{}\n", app.shell_line()),
                );
                for (key, value) in &settings {
                    builder = builder.env(key.clone(), value.clone());
                }
                // The managed runtime's own start command: the wrapper is handed it and
                // starts the app instead.
                let runtime = Command::new("/var/runtime/bootstrap-that-is-never-run");
                builder = builder
                    .env("AWS_LAMBDA_EXEC_WRAPPER", bootstrap.to_string_lossy())
                    .extensions_dir(&extensions)
                    .handler("run.sh")
                    .task_root(&task)
                    .command(runtime);
                dir = Some(root);
            }
        }
        let emulator = ready(configure(builder)).await;
        Self {
            emulator,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> CollectedResponse {
        emulated::get(&self.emulator, path).await
    }

    async fn send(&self, request: http::Request<Bytes>) -> CollectedResponse {
        let response = bounded(self.emulator.request(request)).await.unwrap();
        bounded(response.collect()).await
    }

    async fn shutdown(self) {
        emulated::shutdown(self.emulator).await;
    }
}

/// Every route of the reference app, through the Function URL (and a pass-through event).
async fn every_reference_route(function: &Function, streaming: bool) {
    let what = if streaming { "streaming" } else { "buffered" };
    let root = function.get("/").await;
    assert_eq!(
        (root.status.as_u16(), root.text().as_str()),
        (200, "ok"),
        "{what}"
    );

    // Multi-value headers and cookies, both ways, and a binary body.
    let body: Vec<u8> = (0..=255u8).collect();
    let request = http::Request::post("/echo/a/b%20c?x=1&x=2&y=")
        .header("x-multi-in", "one")
        .header("x-multi-in", "two")
        .header("cookie", "c=1")
        .header("cookie", "d=2")
        .header("x-amzn-request-context", "spoofed")
        .header("content-type", "application/octet-stream")
        .body(Bytes::from(body.clone()))
        .unwrap();
    let echo = function.send(request).await;
    assert_eq!(echo.status, 200, "{what}: {}", echo.text());
    assert_eq!(
        echo.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"],
        "{what}: every cookie kept"
    );
    // A Function URL answer holds one value per header name: repeated values are joined
    // (the same header, by HTTP's rules), never cut to the first one.
    let multi: Vec<&str> = echo
        .header_all("x-multi")
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    assert_eq!(multi, ["one", "two"], "{what}");
    let json = Echo::parse(&echo.body());
    assert_eq!(json.method, "POST");
    assert_eq!(json.path, "/echo/a/b%20c");
    assert_eq!(json.query, "x=1&x=2&y=");
    let multi: Vec<&str> = json
        .header_all("x-multi-in")
        .iter()
        .flat_map(|value| value.split(',').map(str::trim))
        .collect();
    assert_eq!(
        multi,
        ["one", "two"],
        "{what}: both request values reach the app"
    );
    let cookies = json.header_all("cookie").join("; ");
    assert!(
        cookies.contains("c=1") && cookies.contains("d=2"),
        "{what}: {cookies:?}"
    );
    assert_eq!(json.body, body, "{what}: the binary body arrives intact");
    let context = json.header_all("x-amzn-request-context");
    assert_eq!(context.len(), 1, "{what}");
    assert!(
        context[0].starts_with('{'),
        "{what}: the client's value was replaced: {context:?}"
    );
    assert_eq!(json.header_all("x-amzn-lambda-context").len(), 1);

    let stream = function
        .get("/stream?chunks=3&interval_ms=20&size=24")
        .await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.text().matches("\n\n").count(), 3, "{what}");
    assert!(stream.text().starts_with("data: 0 "), "{what}");

    let size = 300_000;
    let bytes = function.get(&format!("/bytes?size={size}")).await;
    assert_eq!(bytes.status, 200);
    assert_eq!(
        bytes.header("content-type"),
        Some("application/octet-stream")
    );
    let data = bytes.body();
    assert_eq!(data.len(), size, "{what}");
    assert!(
        data.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8),
        "{what}"
    );

    let status = function.get("/status/418").await;
    assert_eq!(status.status, 418, "{what}");
    assert!(status.body().is_empty());

    let slept = function.get("/sleep?ms=30").await;
    assert_eq!(
        (slept.status.as_u16(), slept.text().as_str()),
        (200, "slept")
    );

    let failed = function.get("/fail-mid-stream").await;
    // Over HTTP the reference server may fail before its head leaves (hyper sends the head
    // with the first chunk): then the app failed before answering, a 5xx. Had the head left
    // while streaming, the body ends abnormally after `partial`. Never a clean 200.
    if streaming && failed.status == 200 {
        assert!(failed.text().starts_with("partial"), "{what}");
        assert!(
            !failed.complete(),
            "{what}: a failed stream is not a clean end"
        );
    } else {
        // Nothing was sent yet: the whole answer is an error, never a truncated 200.
        assert!(failed.status.is_server_error(), "{what}: {}", failed.status);
        assert!(!failed.text().starts_with("partial"), "{what}");
    }

    let panicked = function.get("/panic").await;
    assert!(
        panicked.status.is_server_error() || !panicked.complete(),
        "{what}: {} {:?}",
        panicked.status,
        panicked.text()
    );

    let event = http::Request::post("/events")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let event = function.send(event).await;
    assert_eq!(
        (event.status.as_u16(), event.text().as_str()),
        (200, r#"{"ok":true}"#)
    );

    // A non-HTTP event goes to the pass-through path, answered buffered even when streaming.
    let sqs = br#"{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"x"}]}"#;
    let answer = bounded(function.emulator.invoke(&sqs[..])).await.unwrap();
    assert!(!answer.is_error(), "{what}: {:?}", answer.error());
    assert!(answer.streamed().is_none(), "{what}: answered buffered");
    assert_eq!(
        answer.json::<Value>().unwrap(),
        serde_json::json!({"ok": true})
    );
    let failing =
        br#"{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"please fail"}]}"#;
    let failed = bounded(function.emulator.invoke(&failing[..]))
        .await
        .unwrap();
    assert!(
        failed.is_error(),
        "{what}: a 500 from the app fails the invocation, never a silent success"
    );
}

#[tokio::test]
async fn supervisor_mode_serves_every_route() {
    for invoke_mode in ["buffered", "response_stream"] {
        let function = Function::start(Mode::Supervisor, invoke_mode, App::reference(), &[]).await;
        every_reference_route(&function, invoke_mode == "response_stream").await;
        function.shutdown().await;
    }
}

#[tokio::test]
async fn extension_mode_serves_every_route() {
    for invoke_mode in ["buffered", "response_stream"] {
        let function = Function::start(Mode::Extension, invoke_mode, App::reference(), &[]).await;
        every_reference_route(&function, invoke_mode == "response_stream").await;
        function.shutdown().await;
    }
}

#[tokio::test]
async fn exec_wrapper_layer_serves_every_route() {
    for invoke_mode in ["buffered", "response_stream"] {
        let function = Function::start(Mode::ExecWrapper, invoke_mode, App::reference(), &[]).await;
        every_reference_route(&function, invoke_mode == "response_stream").await;
        function.shutdown().await;
    }
}

/// An incremental decoder for a `content-encoding` (or none, `identity`): compressed bytes
/// in, the whole decoded text so far out.
enum Decoder {
    Identity(Vec<u8>),
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

impl Decoder {
    fn new(encoding: &str) -> Self {
        match encoding {
            "gzip" => Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            "identity" => Decoder::Identity(Vec::new()),
            "br" => Decoder::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096))),
            "zstd" => Decoder::Zstd(zstd::stream::write::Decoder::new(Vec::new()).unwrap()),
            other => panic!("unexpected content-encoding {other:?}"),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let writer: &mut dyn std::io::Write = match self {
            Decoder::Identity(d) => d,
            Decoder::Gzip(d) => d,
            Decoder::Brotli(d) => d.as_mut(),
            Decoder::Zstd(d) => d,
        };
        writer.write_all(bytes).unwrap();
        writer.flush().unwrap();
        match self {
            Decoder::Identity(d) => d.clone(),
            Decoder::Gzip(d) => d.get_ref().clone(),
            Decoder::Brotli(d) => d.get_ref().clone(),
            Decoder::Zstd(d) => d.get_ref().clone(),
        }
    }
}

fn request(path: &str, accept_encoding: &str) -> http::Request<Bytes> {
    http::Request::get(path)
        .header("accept-encoding", accept_encoding)
        .body(Bytes::new())
        .unwrap()
}

#[tokio::test]
async fn compressed_streams_still_arrive_event_by_event() {
    let function = Function::start(
        Mode::Extension,
        "response_stream",
        App::reference(),
        &[("AWS_LWA_ENABLE_COMPRESSION", "true")],
    )
    .await;
    let interval = Duration::from_millis(150);
    for (accept, encoding) in [
        ("identity", "identity"),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("zstd, gzip;q=0.5", "zstd"),
    ] {
        let path = format!(
            "/stream?chunks=4&interval_ms={}&size=64",
            interval.as_millis()
        );
        let mut response = bounded(function.emulator.request(request(&path, accept)))
            .await
            .unwrap();
        assert_eq!(response.status, 200);
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if encoding == "identity" {
            assert_eq!(header("content-encoding"), None);
        } else {
            assert_eq!(header("content-encoding").as_deref(), Some(encoding));
            assert_eq!(header("vary").as_deref(), Some("accept-encoding"));
        }
        assert_eq!(header("content-length"), None);
        let mut decoder = Decoder::new(encoding);
        // When each event became decodable on the client.
        let mut arrivals: Vec<Instant> = Vec::new();
        let mut text = Vec::new();
        while let Some((at, chunk)) = bounded(response.chunk()).await.unwrap() {
            text = decoder.feed(&chunk);
            let events = text.windows(2).filter(|w| w == b"\n\n").count();
            while arrivals.len() < events {
                arrivals.push(at);
            }
        }
        let text = String::from_utf8(text).unwrap();
        assert_eq!(arrivals.len(), 4, "{encoding}: {text:?}");
        assert!(text.starts_with("data: 0 "), "{encoding}: {text:?}");
        for pair in arrivals.windows(2) {
            assert!(
                pair[1] - pair[0] >= interval / 2,
                "{encoding}: events decodable {:?} apart: the stream was held back",
                pair[1] - pair[0]
            );
        }
    }
    function.shutdown().await;
}

#[tokio::test]
async fn buffered_answers_are_compressed_when_they_should_be() {
    let function = Function::start(
        Mode::Supervisor,
        "buffered",
        App::reference(),
        &[("AWS_LWA_ENABLE_COMPRESSION", "true")],
    )
    .await;
    for (accept, encoding) in [("br", "br"), ("zstd", "zstd"), ("x-gzip", "gzip")] {
        let echo = function.send(request("/echo/compressed", accept)).await;
        assert_eq!(echo.status, 200);
        assert_eq!(echo.header("content-encoding"), Some(encoding));
        assert_eq!(echo.header_all("set-cookie").len(), 2, "cookies kept");
        let json = Decoder::new(encoding).feed(&echo.body());
        let json: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["path"], "/echo/compressed", "{encoding}");
        let stream = function
            .send(request("/stream?chunks=3&interval_ms=10&size=40", accept))
            .await;
        assert_eq!(stream.header("content-encoding"), Some(encoding));
        let text = Decoder::new(encoding).feed(&stream.body());
        assert_eq!(text.windows(2).filter(|w| w == b"\n\n").count(), 3);
    }
    // Not asked for, not compressible, or too small: as the app sent it.
    let plain = function.send(request("/echo/plain", "identity")).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert!(serde_json::from_slice::<Value>(&plain.body()).is_ok());
    let binary = function.send(request("/bytes?size=1000", "gzip, br")).await;
    assert_eq!(binary.header("content-encoding"), None);
    assert_eq!(binary.body().len(), 1000);
    let tiny = function.send(request("/", "gzip")).await;
    assert_eq!(tiny.header("content-encoding"), None);
    assert_eq!(tiny.text(), "ok");
    function.shutdown().await;

    // An app status listed in AWS_LWA_ERROR_STATUS_CODES fails the invocation with the start
    // of the app's body in the error: that body is not compressed. (200 is listed here so
    // that the reference app's large JSON echo is such an answer.)
    let function = Function::start(
        Mode::Supervisor,
        "buffered",
        App::reference(),
        &[
            ("AWS_LWA_ENABLE_COMPRESSION", "true"),
            ("AWS_LWA_ERROR_STATUS_CODES", "200"),
        ],
    )
    .await;
    let event = events::get("/echo/readable", "").header("accept-encoding", "gzip");
    let failed = emulated::invoke(&function.emulator, event).await;
    let error = failed.error().expect("the invocation failed");
    assert_eq!(error.error_type, "App.ErrorStatus", "{error:?}");
    assert!(
        error.error_message.contains("/echo/readable"),
        "the app's body is quoted as text: {error:?}"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn an_app_that_starts_late_is_waited_for() {
    for mode in [Mode::Supervisor, Mode::Extension, Mode::ExecWrapper] {
        let app = App::reference_after(Duration::from_millis(1500));
        let function = Function::start(mode, "buffered", app, &[]).await;
        let root = function.get("/").await;
        assert_eq!(
            (root.status.as_u16(), root.text().as_str()),
            (200, "ok"),
            "{mode:?}"
        );
        assert_eq!(function.emulator.init_count(), 1, "{mode:?}");
        function.shutdown().await;
    }
}

/// With `AWS_LWA_ASYNC_INIT`, an app slower than Lambda's 10 s init still gets its first
/// invocation: the init ends at 9.8 s and the invocation waits for the app.
#[tokio::test]
async fn async_init_outlasts_the_init_phase() {
    let app = App::reference_after(Duration::from_secs(11));
    let function = Function::start_with(
        Mode::Supervisor,
        "buffered",
        app,
        &[("AWS_LWA_ASYNC_INIT", "true")],
        |builder| {
            builder
                .init_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
        },
    )
    .await;
    let root = function.get("/").await;
    assert_eq!((root.status.as_u16(), root.text().as_str()), (200, "ok"));
    assert_eq!(
        function.emulator.init_count(),
        1,
        "no init timeout, no re-init"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn the_supervisor_restarts_a_crashed_app() {
    let function = Function::start(Mode::Supervisor, "buffered", App::reference(), &[]).await;
    assert_eq!(function.get("/").await.status, 200);
    let adapter = function.emulator.function_pid().unwrap();
    let before = children_of(adapter);
    assert_eq!(before.len(), 1, "the adapter runs the app: {before:?}");
    kill(before[0] as i32, libc::SIGKILL);
    // The next invocations wait for the restarted app.
    for _ in 0..3 {
        let root = function.get("/").await;
        assert_eq!((root.status.as_u16(), root.text().as_str()), (200, "ok"));
    }
    let after = children_of(adapter);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before, "a new app process");
    assert_eq!(
        function.emulator.init_count(),
        1,
        "the function itself kept running"
    );
    function.shutdown().await;
}

/// Without the supervisor (the app started beside the adapter, as a container's start script
/// does), a dead app is a clear error for each invocation, and the function keeps serving.
#[tokio::test]
async fn without_the_supervisor_a_dead_app_is_a_clear_error() {
    let app_port = free_port();
    let script = format!(
        "{} & exec {}",
        sh_quote(&binary("reference-server").to_string_lossy()),
        sh_quote(&binary("lambda-adapter").to_string_lossy())
    );
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", &script])
        .env("PORT", app_port.to_string())
        .env("AWS_LWA_PORT", app_port.to_string())
        .env("RUST_LOG", "warn");
    let emulator = ready(Emulator::builder().command(command)).await;
    assert_eq!(emulated::get(&emulator, "/").await.status, 200);
    let adapter = emulator.function_pid().unwrap();
    let apps = children_of(adapter);
    assert_eq!(apps.len(), 1, "{apps:?}");
    kill(apps[0] as i32, libc::SIGKILL);
    for _ in 0..2 {
        let answer = emulated::get(&emulator, "/").await;
        // The caller gets a 502 naming the kind of failure (the details, with the app's
        // address, are logged: they are not the caller's business).
        assert_eq!(answer.status, 502, "{}", answer.text());
        let json: Value = serde_json::from_slice(&answer.body()).unwrap();
        assert_eq!(json["errorType"], "App.Error", "{json}");
    }
    assert_eq!(emulator.init_count(), 1);
    emulated::shutdown(emulator).await;
}

/// A Python app whose kept-alive connections are closed after 200 ms idle (a short
/// keep-alive timeout): `GET /` answers how many connections it accepted so far.
const IDLE_CLOSING_APP: &str = r#"
import http.server, os, threading
lock = threading.Lock()
accepted = 0
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 0.2
    def setup(self):
        global accepted
        with lock:
            accepted += 1
        super().setup()
    def do_GET(self):
        body = str(accepted).encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

#[tokio::test]
async fn an_app_closing_idle_connections_costs_no_failed_request() {
    let dir = TempDir::new("idle-app");
    let script = dir.join("app.py");
    std::fs::write(&script, IDLE_CLOSING_APP).unwrap();
    let function = Function::start(Mode::Supervisor, "buffered", App::python(&script), &[]).await;
    let mut counts = Vec::new();
    for _ in 0..4 {
        let answer = function.get("/").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        counts.push(answer.text().parse::<u32>().unwrap());
        // Longer than the app's keep-alive: the pooled connection is closed by the app.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        counts.windows(2).all(|pair| pair[1] > pair[0]),
        "the app closed each idle connection and every request still succeeded: {counts:?}"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn a_hung_app_gets_a_504_before_the_lambda_timeout() {
    let function = Function::start_with(
        Mode::Supervisor,
        "buffered",
        App::reference(),
        &[],
        |builder| builder.timeout(Duration::from_secs(3)),
    )
    .await;
    let hung = function.get("/sleep?ms=30000").await;
    assert_eq!(hung.status, 504, "{}", hung.text());
    let json: Value = serde_json::from_slice(&hung.body()).unwrap();
    assert_eq!(
        json["errorType"], "App.Timeout",
        "the proxy's answer: {json}"
    );
    // The function answered in time: it was not stopped and re-initialized.
    assert_eq!(function.get("/").await.status, 200);
    assert_eq!(function.emulator.init_count(), 1);
    function.shutdown().await;
}

/// A Python app whose `GET /together` answers only once four such requests are inside it at
/// the same time (or fails after 20 s): proof that invocations ran concurrently.
const BARRIER_APP: &str = r#"
import http.server, os, threading
barrier = threading.Barrier(4, timeout=20)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        status, body = 200, b"ok"
        if self.path == "/together":
            try:
                barrier.wait()
                body = b"together"
            except threading.BrokenBarrierError:
                status, body = 500, b"alone"
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

#[tokio::test]
async fn max_concurrency_runs_invocations_at_once() {
    let dir = TempDir::new("barrier-app");
    let script = dir.join("app.py");
    std::fs::write(&script, BARRIER_APP).unwrap();
    for invoke_mode in ["buffered", "response_stream"] {
        let function = Function::start_with(
            Mode::Supervisor,
            invoke_mode,
            App::python(&script),
            &[],
            |builder| builder.max_concurrency(4),
        )
        .await;
        let answers =
            futures_util::future::join_all((0..4).map(|_| function.get("/together"))).await;
        for answer in answers {
            assert_eq!(
                (answer.status.as_u16(), answer.text().as_str()),
                (200, "together"),
                "{invoke_mode}: four invocations were inside the app at once"
            );
        }
        function.shutdown().await;
    }
}
