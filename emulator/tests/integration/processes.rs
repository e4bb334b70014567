//! Process management: the function and its extensions run as child processes (this test
//! binary re-executed in a role), with Lambda's environment, restarts and clean stops.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::{alive, child, LIMIT};
use serde_json::Value;
use serverless_adapter_emulator::{Emulator, Outcome};
use tokio::time::timeout;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("emu-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_script(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The function's process id, as the function itself reports it.
async fn pid_of(emu: &Emulator) -> u32 {
    let inv = emu.invoke(r#"{"action":"pid"}"#).await.unwrap();
    inv.json().unwrap()
}

async fn wait_dead(pid: u32) -> bool {
    for _ in 0..100 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_environment() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .function_name("env-fn")
            .memory_mb(256)
            .max_concurrency(2)
            .env("EMU_EXTRA", "yes")
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let inv = emu.invoke(r#"{"action":"env"}"#).await.unwrap();
        let env: Value = inv.json().unwrap();
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], emu.runtime_api());
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env-fn");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
        assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/env-fn");
        assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("[$LATEST]"));
        assert_eq!(env["AWS_REGION"], "us-east-1");
        assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
        assert!(env["AWS_EXECUTION_ENV"]
            .as_str()
            .unwrap()
            .starts_with("AWS_Lambda_"));
        assert_eq!(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
        assert_eq!(env["AWS_LAMBDA_MAX_CONCURRENCY"], "2");
        assert_eq!(env["TZ"], ":UTC");
        assert!(env["LAMBDA_TASK_ROOT"].is_string());
        assert!(env["LAMBDA_RUNTIME_DIR"].is_string());
        assert!(env["_HANDLER"].as_str().unwrap().starts_with("integration"));
        assert_eq!(env["EMU_EXTRA"], "yes");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_fails_the_invocation_and_restarts() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let first_pid = pid_of(&emu).await;
        let inv = emu.invoke(r#"{"action":"crash"}"#).await.unwrap();
        let e = inv.error().expect("error");
        assert_eq!(e.error_type, "Runtime.ExitError");
        assert!(e.error_message.contains(&inv.request_id), "{e}");
        assert!(e.error_message.contains("exit status: 3"), "{e}");
        // The next invocation gets a fresh process (a new init).
        let inv = emu.invoke(r#"{"action":"echo","n":2}"#).await.unwrap();
        assert_eq!(inv.json::<Value>().unwrap()["n"], 2);
        assert_eq!(emu.init_count(), 2);
        let second_pid = pid_of(&emu).await;
        assert_ne!(second_pid, first_pid);
        assert_eq!(emu.function_pid(), Some(second_pid));
        assert!(wait_dead(first_pid).await);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_and_restarts_the_function() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .timeout(Duration::from_millis(700))
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let first_pid = pid_of(&emu).await;
        let resp = emu.get("/sleep?ms=30000").await.unwrap();
        assert_eq!(resp.status, 504);
        assert!(resp.text().contains("Sandbox.Timedout"));
        assert!(
            wait_dead(first_pid).await,
            "the timed-out process must be stopped"
        );
        let inv = emu
            .invoke(r#"{"action":"echo","after":"timeout"}"#)
            .await
            .unwrap();
        assert_eq!(inv.json::<Value>().unwrap()["after"], "timeout");
        assert_eq!(emu.init_count(), 2);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_max_concurrency_a_timeout_leaves_the_function_running() {
    timeout(LIMIT, async {
        // Lambda Managed Instances: the timed-out invocation fails, the process goes on (it
        // shares the sandbox with other invocations) and its late answer gets 410.
        let emu = Emulator::builder()
            .quiet(true)
            .timeout(Duration::from_millis(500))
            .max_concurrency(2)
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let first_pid = pid_of(&emu).await;
        let inv = emu.invoke(r#"{"action":"sleep","ms":1500}"#).await.unwrap();
        assert!(inv.error().unwrap().is_timeout(), "{inv:?}");
        // The same process answers the next invocation, once it is done sleeping.
        assert_eq!(pid_of(&emu).await, first_pid);
        assert!(alive(first_pid));
        assert_eq!(emu.init_count(), 1);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_error_and_exit_at_start() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .command(child("init-error"))
            .start()
            .await
            .unwrap();
        for _ in 0..2 {
            // Each invocation triggers a new init, which fails the same way.
            let inv = emu.invoke("{}").await.unwrap();
            let e = inv.error().expect("error");
            assert_eq!(e.error_type, "Runtime.ConfigError", "{e}");
            assert_eq!(e.error_message, "missing setting");
        }
        emu.shutdown().await.unwrap();

        let emu = Emulator::builder()
            .quiet(true)
            .command(child("exit-at-start"))
            .start()
            .await
            .unwrap();
        let inv = emu.invoke("{}").await.unwrap();
        let e = inv.error().expect("error");
        assert_eq!(e.error_type, "Runtime.ExitError");
        assert!(e.error_message.contains("exit status: 7"), "{e}");
        emu.shutdown().await.unwrap();

        let emu = Emulator::builder()
            .quiet(true)
            .command(std::process::Command::new("/nonexistent/bootstrap"))
            .start()
            .await
            .unwrap();
        let inv = emu.invoke("{}").await.unwrap();
        assert_eq!(inv.error().unwrap().error_type, "Runtime.InvalidEntrypoint");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_stop_the_whole_process_group() {
    timeout(LIMIT, async {
        let dir = TempDir::new("group");
        for use_drop in [false, true] {
            let pid_file = dir.0.join(format!("pid-{use_drop}"));
            let mut cmd = child("with-grandchild");
            cmd.env("EMU_PID_FILE", &pid_file);
            let emu = Emulator::builder()
                .quiet(true)
                .command(cmd)
                .start()
                .await
                .unwrap();
            let function = pid_of(&emu).await;
            let grandchild: u32 = std::fs::read_to_string(&pid_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert!(alive(grandchild));
            if use_drop {
                drop(emu);
            } else {
                emu.shutdown().await.unwrap();
            }
            assert!(wait_dead(function).await, "function still alive");
            assert!(wait_dead(grandchild).await, "grandchild orphaned");
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_extension_that_polls_the_runtime_api() {
    timeout(LIMIT, async {
        // Like the Lambda Web Adapter: the extension is the runtime client; the "function"
        // command is an app that never talks to Lambda.
        let emu = Emulator::builder()
            .quiet(true)
            .extension(child("lwa-like-extension"))
            .command(child("idle"))
            .start()
            .await
            .unwrap();
        let resp = emu.get("/hello").await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "hello");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_dir_and_events() {
    timeout(LIMIT, async {
        let dir = TempDir::new("ext");
        let exts = dir.0.join("extensions");
        std::fs::create_dir_all(&exts).unwrap();
        let log = dir.0.join("events.log");
        let exe = std::env::current_exe().unwrap();
        write_script(
            &exts.join("logger"),
            &format!(
                "#!/bin/sh\nEMU_TEST_ROLE=logging-extension EMU_EXT_NAME=logger EMU_LOG='{}' exec '{}' --exact child_entry --nocapture --test-threads=1 --quiet\n",
                log.display(),
                exe.display()
            ),
        );
        // Not executable: ignored.
        std::fs::write(exts.join("README"), "not an extension").unwrap();
        let emu = Emulator::builder()
            .quiet(true)
            .extensions_dir(&exts)
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let inv = emu.invoke(r#"{"action":"echo"}"#).await.unwrap();
        assert!(matches!(inv.outcome, Outcome::Buffered(_)));
        emu.shutdown().await.unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 2, "{text}");
        assert_eq!(events[0]["eventType"], "INVOKE");
        assert_eq!(events[0]["requestId"], inv.request_id.as_str());
        assert_eq!(events[1]["eventType"], "SHUTDOWN");
        assert_eq!(events[1]["shutdownReason"], "spindown");
        assert!(events[1]["deadlineMs"].as_u64().unwrap() > 0);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_wrapper_runs_the_command() {
    timeout(LIMIT, async {
        let dir = TempDir::new("wrapper");
        let wrapper = dir.0.join("wrapper.sh");
        write_script(&wrapper, "#!/bin/sh\nexport EMU_WRAPPED=yes\nexec \"$@\"\n");
        let emu = Emulator::builder()
            .quiet(true)
            .env("AWS_LAMBDA_EXEC_WRAPPER", wrapper.to_string_lossy())
            .command(child("function"))
            .start()
            .await
            .unwrap();
        let inv = emu.invoke(r#"{"action":"env"}"#).await.unwrap();
        let env: Value = inv.json().unwrap();
        assert_eq!(env["EMU_WRAPPED"], "yes");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}
