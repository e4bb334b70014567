//! The `lambda-emulator` binary: `serve` with a command, and the `invoke` client.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use common::{alive, descendants, free_port, function_loop, Rt, LIMIT};
use serde_json::Value;
use serverless_adapter_emulator::{send, Emulator};
use tokio::time::timeout;

const BIN: &str = env!("CARGO_BIN_EXE_lambda-emulator");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_client() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let task = tokio::spawn(function_loop(Rt::new(emu.runtime_api())));
        let url = emu.function_url();
        let run = |args: Vec<String>| {
            tokio::task::spawn_blocking(move || Command::new(BIN).args(args).output().unwrap())
        };
        let out = run(vec![
            "invoke".into(),
            "--url".into(),
            url.clone(),
            "--data".into(),
            r#"{"action":"echo","k":1}"#.into(),
        ])
        .await
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            r#"{"action":"echo","k":1}"#
        );

        let out = run(vec![
            "invoke".into(),
            "--url".into(),
            url.clone(),
            "--example".into(),
            "sqs".into(),
        ])
        .await
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("statusCode"));

        let out = run(vec![
            "invoke".into(),
            "--url".into(),
            url.clone(),
            "--data".into(),
            r#"{"action":"error"}"#.into(),
        ])
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Handler.Failed"));

        let out = run(vec!["invoke".into(), "--example".into(), "nope".into()])
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        task.abort();
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_command_and_stops_it_on_sigterm() {
    timeout(LIMIT, async {
        let exe = std::env::current_exe().unwrap();
        let mut emu = Command::new(BIN)
            .args([
                "serve",
                "--port",
                "0",
                "--timeout",
                "5",
                "--quiet",
                "--env",
                "EMU_TEST_ROLE=function",
                "--",
            ])
            .arg(&exe)
            .args([
                "--exact",
                "child_entry",
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = emu.stdout.take().unwrap();
        let (banner, authority) = tokio::task::spawn_blocking(move || {
            let mut banner = String::new();
            let mut authority = None;
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                banner.push_str(&line);
                banner.push('\n');
                if let Some(url) = line.trim().strip_prefix("Function URL:") {
                    let url = url
                        .trim()
                        .trim_start_matches("http://")
                        .trim_end_matches('/');
                    authority = Some(url.to_owned());
                }
                if line.starts_with("Ctrl-C") {
                    break;
                }
            }
            (banner, authority.unwrap())
        })
        .await
        .unwrap();
        assert!(banner.contains("curl -N"), "{banner}");
        assert!(
            banner.contains("/stream?chunks=5&interval_ms=300"),
            "{banner}"
        );
        assert!(banner.contains("invoke --url"), "{banner}");

        let req = http::Request::get("/hello").body(Bytes::new()).unwrap();
        let resp = send(&authority, req).await.unwrap().collect().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "hello");

        let req = http::Request::post("/2015-03-31/functions/function/invocations")
            .body(Bytes::from_static(br#"{"action":"pid"}"#))
            .unwrap();
        let resp = send(&authority, req).await.unwrap().collect().await;
        let pid: u32 = resp.text().trim().parse().unwrap();
        assert!(alive(pid));

        let status = Command::new("kill")
            .args(["-TERM", &emu.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::task::spawn_blocking(move || emu.wait().unwrap())
            .await
            .unwrap();
        assert!(exit.success(), "{exit:?}");
        for _ in 0..100 {
            if !alive(pid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(pid), "the function outlived the emulator");
    })
    .await
    .unwrap();
}

/// The longest the nested `cargo build --release` of `serve --example` may take (a cold
/// release build of the examples on a small machine).
const BUILD_LIMIT: Duration = Duration::from_secs(25 * 60);

/// A `lambda-emulator` process, stopped (SIGTERM, then SIGKILL) if the test ends early.
struct Running(Option<std::process::Child>);

impl Running {
    fn pid(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status();
    }

    /// Waits for the process to exit, at most `within`.
    async fn wait(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.0.as_mut().unwrap().try_wait().unwrap() {
                self.0 = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let pid = child.id();
            let family = descendants(pid);
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..100 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            for p in family {
                let _ = Command::new("kill")
                    .args(["-KILL", &p.to_string()])
                    .status();
            }
        }
    }
}

/// The README's quick start, for real: `lambda-emulator serve --example reference-axum`
/// builds the reference function with a nested `cargo build --release`, runs it behind a
/// Function URL and prints how to call it; the printed calls work; Ctrl-C stops the
/// emulator and the function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_example_builds_and_serves_the_reference_function() {
    let port = free_port();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--example", "reference-axum", "--quiet"])
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut running = Running(Some(command.spawn().unwrap()));
    let child = running.0.as_mut().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // The build's and the emulator's log, kept to explain a failure.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log_writer = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = log_writer.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let log_text = || log.lock().unwrap().clone();

    // The banner, after the build: the Function URL line first, "Ctrl-C" last.
    let banner = timeout(BUILD_LIMIT, async {
        let mut banner = Vec::new();
        while let Some(line) = lines.recv().await {
            let last = line.starts_with("Ctrl-C");
            banner.push(line);
            if last {
                return Some(banner);
            }
        }
        None
    })
    .await;
    let banner = match banner {
        Ok(Some(banner)) => banner,
        Ok(None) => panic!(
            "the emulator ended before printing its banner:\n{}",
            log_text()
        ),
        Err(_) => panic!("no banner within {BUILD_LIMIT:?}:\n{}", log_text()),
    };
    let text = banner.join("\n");
    let url = banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("Function URL:"))
        .map(|u| u.trim().to_owned())
        .unwrap_or_else(|| panic!("no Function URL line in\n{text}"));
    assert_eq!(url, format!("http://127.0.0.1:{port}/"), "{text}");
    assert!(
        log_text().contains("cargo build --release -p serverless-adapter-examples"),
        "the example is built first:\n{}",
        log_text()
    );
    let authority = format!("127.0.0.1:{port}");
    let base = format!("http://{authority}");

    timeout(LIMIT, async {
        // `curl -i {base}/`
        assert!(text.contains(&format!("curl -i {base}/")), "{text}");
        let get = |path: &str| {
            let req = http::Request::get(path).body(Bytes::new()).unwrap();
            send(&authority, req)
        };
        let root = get("/").await.unwrap().collect().await;
        assert_eq!(root.status, 200, "{}", log_text());
        assert_eq!(root.text(), "ok");

        // `curl -i '{base}/echo/hello?a=1&a=2'`
        assert!(
            text.contains(&format!("'{base}/echo/hello?a=1&a=2'")),
            "{text}"
        );
        let echo = get("/echo/hello?a=1&a=2").await.unwrap().collect().await;
        assert_eq!(echo.status, 200);
        let echoed: Value = serde_json::from_slice(&echo.body()).unwrap();
        assert_eq!(echoed["path"], "/echo/hello");
        assert_eq!(echoed["query"], "a=1&a=2");
        assert_eq!(echo.header_all("x-multi"), ["one", "two"]);

        // `curl -N '{base}/stream?chunks=5&interval_ms=300'` (shorter here).
        assert!(text.contains(&format!("curl -N '{base}/stream?chunks=5&interval_ms=300'")));
        let stream = get("/stream?chunks=3&interval_ms=50")
            .await
            .unwrap()
            .collect()
            .await;
        assert_eq!(stream.status, 200);
        assert!(stream.complete());
        assert_eq!(stream.header("content-type"), Some("text/event-stream"));
        assert_eq!(
            stream.text().matches("data: ").count(),
            3,
            "{}",
            stream.text()
        );

        // `lambda-emulator invoke --url {base} --example sqs`, as printed.
        let invoke_line = banner
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with("lambda-emulator invoke"))
            .unwrap_or_else(|| panic!("no invoke line in\n{text}"));
        let args: Vec<String> = invoke_line
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect();
        assert!(args.contains(&"sqs".to_owned()), "{invoke_line}");
        let out =
            tokio::task::spawn_blocking(move || Command::new(BIN).args(args).output().unwrap())
                .await
                .unwrap();
        assert!(out.status.success(), "{out:?}");
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        // The sample batch has one record whose body asks the app to fail.
        let failures = answer["batchItemFailures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{answer}");
        assert_eq!(
            failures[0]["itemIdentifier"],
            "c80e8021-a70a-42c7-a470-796e1186f753"
        );

        // Ctrl-C stops the emulator and the function.
        let family = descendants(running.pid());
        assert!(
            !family.is_empty(),
            "the function runs as a child of the emulator"
        );
        running.signal("-INT");
        let status = running.wait(Duration::from_secs(20)).await;
        let status = status.unwrap_or_else(|| panic!("the emulator did not stop:\n{}", log_text()));
        assert!(status.success(), "{status:?}\n{}", log_text());
        for _ in 0..100 {
            if family.iter().all(|p| !alive(*p)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left: Vec<u32> = family.into_iter().filter(|p| alive(*p)).collect();
        assert!(left.is_empty(), "processes left behind: {left:?}");
    })
    .await
    .unwrap();
}
