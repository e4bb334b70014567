//! `lambda-emulator`: run a Lambda function locally behind a Function URL, or invoke one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use serverless_adapter_emulator::{
    sample_event, send, split_url, Emulator, InvokeMode, SAMPLE_EVENTS,
};

const USAGE: &str = "\
lambda-emulator: a local AWS Lambda (Runtime API, Extensions API, Function URL, invoke endpoint)

USAGE:
    lambda-emulator serve [OPTIONS] [-- CMD ARGS...]
    lambda-emulator invoke [--url URL] (--data JSON | --data-file FILE | --example NAME)
    lambda-emulator help

SERVE OPTIONS:
    --example NAME          run the release binary NAME of this workspace's examples (built or
                            brought up to date first with cargo build --release),
                            e.g. reference-axum
    --port PORT             Function URL and invoke endpoint port [default: 9000]
    --runtime-port PORT     Runtime API port [default: 0, a free port]
    --timeout SECONDS       function timeout [default: 30]
    --memory MB             memory size [default: 128]
    --invoke-mode MODE      buffered | response_stream [default: response_stream; buffered
                            answers are accepted either way]
    --max-concurrency N     AWS_LAMBDA_MAX_CONCURRENCY [default: 1]
    --function-name NAME    [default: function]
    --region REGION         [default: us-east-1]
    --env K=V               environment variable for the function (repeatable)
    --extensions-dir DIR    start every executable in DIR as an external extension first
    --stream-limit BYTES    streamed answer limit [default: 209715200]
    --throttle-after-6mb    stream at most 2 MB/s after the first 6 MB, as Lambda does
    --init-timeout SECONDS  [default: 10]
    --quiet                 discard the function's stdout and stderr

    Without a command, the emulator only serves the APIs: start the function yourself with
    AWS_LAMBDA_RUNTIME_API set to the printed address.

INVOKE OPTIONS:
    --url URL               the emulator [default: http://127.0.0.1:9000]
    --data JSON             the event
    --data-file FILE        the event, from a file (- for stdin)
    --example NAME          a built-in sample event: sqs, sns, apigw-v2, apigw-v1, alb,
                            function-url, eventbridge, s3, kinesis, dynamodb
    --function-name NAME    [default: function]
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        Some("serve") => ("serve", &args[1..]),
        Some("invoke") => ("invoke", &args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("lambda-emulator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(_) => ("serve", &args[..]),
    };
    let before_command = rest.iter().take_while(|a| a.as_str() != "--");
    if before_command
        .into_iter()
        .any(|a| a == "--help" || a == "-h")
    {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lambda-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cmd {
        "serve" => runtime.block_on(serve(rest)),
        _ => runtime.block_on(invoke(rest)),
    };
    // Everything the emulator started has been stopped by now; do not linger.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lambda-emulator: {e}");
            ExitCode::from(2)
        }
    }
}

/// Splits `--name value` / `--name=value` options from the arguments after `--`.
struct Args {
    opts: Vec<(String, Option<String>)>,
    command: Vec<String>,
}

const FLAGS: &[&str] = &["--throttle-after-6mb", "--quiet"];

fn parse(args: &[String]) -> Result<Args, String> {
    let mut opts = Vec::new();
    let mut it = args.iter();
    let mut command = Vec::new();
    while let Some(a) = it.next() {
        if a == "--" {
            command.extend(it.by_ref().cloned());
            break;
        }
        if !a.starts_with("--") {
            // A command without `--`.
            command.push(a.clone());
            command.extend(it.by_ref().cloned());
            break;
        }
        if let Some((k, v)) = a.split_once('=') {
            opts.push((k.to_owned(), Some(v.to_owned())));
        } else if FLAGS.contains(&a.as_str()) {
            opts.push((a.clone(), None));
        } else {
            let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            opts.push((a.clone(), Some(v.clone())));
        }
    }
    Ok(Args { opts, command })
}

fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{name}: `{v}` is not a valid number"))
}

async fn serve(args: &[String]) -> Result<ExitCode, String> {
    let args = parse(args)?;
    init_tracing();
    let mut builder = Emulator::builder().port(9000);
    let mut example: Option<String> = None;
    let mut invoke_mode: Option<InvokeMode> = None;
    let mut user_env: Vec<String> = Vec::new();
    for (k, v) in &args.opts {
        let v = v.as_deref().unwrap_or("");
        builder = match k.as_str() {
            "--example" => {
                example = Some(v.to_owned());
                builder
            }
            "--port" => builder.port(num(k, v)?),
            "--runtime-port" => builder.runtime_port(num(k, v)?),
            "--timeout" => builder.timeout(Duration::from_secs_f64(num(k, v)?)),
            "--init-timeout" => builder.init_timeout(Duration::from_secs_f64(num(k, v)?)),
            "--memory" => builder.memory_mb(num(k, v)?),
            "--invoke-mode" => {
                let mode: InvokeMode = v.parse()?;
                invoke_mode = Some(mode);
                builder.invoke_mode(mode)
            }
            "--max-concurrency" => builder.max_concurrency(num(k, v)?),
            "--function-name" => builder.function_name(v),
            "--region" => builder.region(v),
            "--env" => {
                let (key, value) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--env expects K=V, got `{v}`"))?;
                user_env.push(key.to_owned());
                builder.env(key, value)
            }
            "--extensions-dir" => builder.extensions_dir(v),
            "--stream-limit" => builder.stream_limit(num(k, v)?),
            "--throttle-after-6mb" => builder.throttle_after_6mb(true),
            "--quiet" => builder.quiet(true),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        };
    }
    let command: Option<std::process::Command> = match (&example, args.command.split_first()) {
        (Some(_), Some(_)) => return Err("give either --example or a command, not both".into()),
        (Some(name), None) => {
            let path = example_binary(name)?;
            if !user_env.iter().any(|k| k == "AWS_LWA_INVOKE_MODE") {
                let mode = match invoke_mode {
                    Some(InvokeMode::Buffered) => "buffered",
                    _ => "response_stream",
                };
                builder = builder.env("AWS_LWA_INVOKE_MODE", mode);
            }
            Some(std::process::Command::new(path))
        }
        (None, Some((program, rest))) => {
            let mut cmd = std::process::Command::new(program);
            cmd.args(rest);
            Some(cmd)
        }
        (None, None) => None,
    };
    let has_command = command.is_some();
    if let Some(cmd) = command {
        builder = builder.command(cmd);
    }
    let emu = builder.start().await.map_err(|e| e.to_string())?;
    banner(&emu, has_command);
    wait_for_signal().await;
    eprintln!("\nlambda-emulator: stopping the function");
    emu.shutdown().await.map_err(|e| e.to_string())?;
    tracing::debug!("emulator stopped");
    Ok(ExitCode::SUCCESS)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("serverless_adapter_emulator=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

fn banner(emu: &Emulator, has_command: bool) {
    let url = emu.function_url();
    let base = url.trim_end_matches('/');
    println!("lambda-emulator is running");
    println!("  Function URL:  {url}");
    println!("  Invoke:        {}", emu.invoke_url());
    println!(
        "  Runtime API:   {}  (AWS_LAMBDA_RUNTIME_API)",
        emu.runtime_api()
    );
    if !has_command {
        println!();
        println!("No command given: start your function with");
        for (k, v) in emu.lambda_env() {
            println!("  export {k}='{v}'");
        }
    }
    println!();
    println!("Try:");
    println!("  curl -i {base}/");
    println!("  curl -i '{base}/echo/hello?a=1&a=2'");
    println!("  curl -N '{base}/stream?chunks=5&interval_ms=300'");
    let url_opt = if emu.function_url_addr().port() == 9000 {
        String::new()
    } else {
        format!(" --url {base}")
    };
    println!("  lambda-emulator invoke{url_opt} --example sqs");
    println!("  (or: cargo run --release -p serverless-adapter-emulator -- invoke{url_opt} --example sqs)");
    println!("Ctrl-C stops the emulator and the function.");
}

/// The release binary NAME of the examples package, built (or brought up to date) first with
/// `cargo build --release` when this emulator runs from its workspace; an already built
/// `target/release/NAME` when cargo or the workspace is not there.
fn example_binary(name: &str) -> Result<PathBuf, String> {
    if name.is_empty() || name.contains('/') {
        return Err(format!("invalid example name `{name}`"));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let mut candidates = vec![target.join("release").join(name)];
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if dir.ends_with("release") {
            candidates.insert(0, dir.join(name));
        }
    }
    let existing = || candidates.iter().find(|p| p.is_file()).cloned();
    if !workspace.join("Cargo.toml").is_file() {
        return existing().ok_or_else(|| {
            format!(
                "{name} is not built and the workspace ({}) is not there to build it",
                workspace.display()
            )
        });
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("lambda-emulator: building {name} (cargo build --release -p serverless-adapter-examples --bin {name})");
    let output = std::process::Command::new(&cargo)
        .args([
            "build",
            "--release",
            "-p",
            "serverless-adapter-examples",
            "--bin",
            name,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(&workspace)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            // No cargo here: run what was built before, if anything.
            return existing().ok_or_else(|| format!("cannot run {cargo}: {e}"));
        }
    };
    if !output.status.success() {
        return Err(format!("building {name} failed ({})", output.status));
    }
    built_executable(&output.stdout, name)
        .or_else(existing)
        .ok_or_else(|| {
            format!(
                "{name} was built but not found in {}",
                target.join("release").display()
            )
        })
}

/// The executable cargo reports for the binary target `name`, from `--message-format=json`
/// lines.
fn built_executable(messages: &[u8], name: &str) -> Option<PathBuf> {
    String::from_utf8_lossy(messages)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .filter(|p| p.is_file())
}

async fn invoke(args: &[String]) -> Result<ExitCode, String> {
    let args = parse(args)?;
    if !args.command.is_empty() {
        return Err(format!("unexpected argument `{}`", args.command[0]));
    }
    let mut url = "http://127.0.0.1:9000".to_owned();
    let mut function = "function".to_owned();
    let mut event: Option<Vec<u8>> = None;
    for (k, v) in &args.opts {
        let v = v.clone().unwrap_or_default();
        match k.as_str() {
            "--url" => url = v,
            "--function-name" => function = v,
            "--data" => event = Some(v.into_bytes()),
            "--data-file" => {
                let data = if v == "-" {
                    let mut buf = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                        .map_err(|e| format!("reading stdin: {e}"))?;
                    buf
                } else {
                    std::fs::read(&v).map_err(|e| format!("reading {v}: {e}"))?
                };
                event = Some(data);
            }
            "--example" => {
                let text = sample_event(&v).ok_or_else(|| {
                    format!(
                        "unknown example `{v}`; one of: {}",
                        SAMPLE_EVENTS.join(", ")
                    )
                })?;
                event = Some(text.as_bytes().to_vec());
            }
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    let event = event.ok_or("give an event: --data, --data-file or --example")?;
    let (authority, base) = split_url(&url).map_err(|e| e.to_string())?;
    let path = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        base.trim_end_matches('/')
    );
    let req = http::Request::post(path)
        .header("content-type", "application/json")
        .body(Bytes::from(event))
        .map_err(|e| e.to_string())?;
    let mut resp = send(&authority, req)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let function_error = resp.headers.get("x-amz-function-error").is_some();
    let status = resp.status;
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let mut ended_badly = None;
    loop {
        match resp.chunk().await {
            Ok(Some((_, data))) => {
                let _ = out.write_all(&data);
                let _ = out.flush();
            }
            Ok(None) => break,
            Err(e) => {
                ended_badly = Some(e.to_string());
                break;
            }
        }
    }
    let _ = writeln!(out);
    if let Some(e) = ended_badly {
        eprintln!("lambda-emulator: the answer ended abnormally: {e}");
        return Ok(ExitCode::FAILURE);
    }
    if !status.is_success() {
        eprintln!("lambda-emulator: HTTP {status}");
        return Ok(ExitCode::FAILURE);
    }
    if function_error {
        eprintln!("lambda-emulator: the function failed (X-Amz-Function-Error: Unhandled)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
