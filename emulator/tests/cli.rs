//! The `lambda-emulator` binary: `serve` with a command, and the `invoke` client.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use common::{alive, function_loop, Rt, LIMIT};
use serverless_adapter_emulator::{send, Emulator};
use tokio::time::timeout;

const BIN: &str = env!("CARGO_BIN_EXE_lambda-emulator");

#[test]
fn child_entry() {
    common::child_entry();
}

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
