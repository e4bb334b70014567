//! Soak: many invocations over mixed routes through `reference-axum` and through
//! `lambda-adapter` + `reference-server`, all real processes under the emulator, checking
//! that memory (RSS) stays flat after warm-up and no file descriptor leaks.
//!
//! The short version runs with the tests. The full one (100 000 invocations per function):
//!
//! ```text
//! cargo test --release -p serverless-adapter-e2e --test suites -- --ignored --nocapture soak::
//! ```
//!
//! It prints each process's RSS and descriptor count before and after. It currently fails on
//! a known finding (RELIABILITY.md): the core sets `_X_AMZN_TRACE_ID` with `setenv` on every
//! invocation, and glibc never frees replaced values (≈ 150 bytes per invocation).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{ready, shutdown};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::process::children_of;
use serverless_adapter_e2e::{binary, builds, events};
use serverless_adapter_emulator::Emulator;

/// RSS may grow this much after warm-up (allocator caches, lazily grown buffers).
const RSS_GROWTH_LIMIT_KIB: u64 = 8 * 1024;
/// Open descriptors may differ this much from the baseline (a pooled connection or two).
const FD_SLACK: i64 = 2;

/// VmRSS in KiB and the number of open descriptors of `pid`.
fn usage(pid: u32) -> (u64, i64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as i64;
    (rss, fds)
}

fn url_event(method: &str, path: &str, query: &str, body: &str) -> Vec<u8> {
    events::url(method, path)
        .query(query)
        .header("content-type", "application/octet-stream")
        .header("cookie", "a=1")
        .field("cookies", json!(["a=1"]))
        .body(body)
        .to_vec()
}

/// The mixed routes, each with the status it must answer.
fn routes(sqs: bool) -> Vec<(Vec<u8>, Option<u16>)> {
    let mut routes = vec![
        (url_event("GET", "/", "", ""), Some(200)),
        (
            url_event("POST", "/echo/soak", "a=1&a=2", "hello soak"),
            Some(200),
        ),
        (url_event("GET", "/bytes", "size=20000", ""), Some(200)),
        (url_event("GET", "/status/404", "", ""), Some(404)),
        (
            url_event("GET", "/stream", "chunks=3&interval_ms=0&size=32", ""),
            Some(200),
        ),
        (url_event("POST", "/events", "", "fail"), Some(500)),
        (url_event("GET", "/fail-mid-stream", "", ""), None),
    ];
    if sqs {
        routes.push((
            events::sqs(&[
                ("m0", "ok"),
                ("m1", "ok"),
                ("m2", "ok"),
                ("m3", "fail"),
                ("m4", "ok"),
            ]),
            None,
        ));
    }
    routes
}

/// Invokes the routes round-robin `count` times, checking every answer.
async fn drive(emulator: &Emulator, routes: &[(Vec<u8>, Option<u16>)], count: usize) {
    for i in 0..count {
        let (event, status) = &routes[i % routes.len()];
        let invocation =
            tokio::time::timeout(Duration::from_secs(30), emulator.invoke(event.clone()))
                .await
                .expect("answered in time")
                .expect("the invocation completes");
        match status {
            Some(status) => {
                let answer = invocation
                    .http()
                    .unwrap_or_else(|e| panic!("invocation {i}: {e}: {:?}", invocation.outcome));
                assert_eq!(answer.status, *status, "invocation {i}");
            }
            None => {
                // A failing stream (error trailers) or an SQS batch with one failure: either
                // way an answer arrived; what it says is checked by the other tests.
                if let Ok(answer) = invocation.json::<Value>() {
                    if let Some(failures) = answer.get("batchItemFailures") {
                        assert_eq!(failures, &json!([{"itemIdentifier": "m3"}]));
                    }
                }
            }
        }
    }
}

/// Soaks one function: warm-up, baseline, `count` invocations, final figures. Returns
/// (pid, label, start, end) per process measured.
async fn soak(emulator: &Emulator, routes: &[(Vec<u8>, Option<u16>)], count: usize, label: &str) {
    let function = emulator.function_pid().expect("the function runs");
    let mut pids = vec![(function, label.to_owned())];
    for child in children_of(function) {
        pids.push((child, format!("{label}/app")));
    }
    drive(emulator, routes, 500).await;
    let start: Vec<(u64, i64)> = pids.iter().map(|(pid, _)| usage(*pid)).collect();
    let started = Instant::now();
    drive(emulator, routes, count).await;
    let elapsed = started.elapsed();
    // Let idle connections settle before counting descriptors.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        emulator.init_count(),
        1,
        "{label}: the function never restarted"
    );
    for ((pid, name), (rss0, fds0)) in pids.iter().zip(start) {
        let (rss1, fds1) = usage(*pid);
        println!(
            "soak {name}: {count} invocations in {:.1} s; RSS {rss0} KiB -> {rss1} KiB; fds {fds0} -> {fds1}",
            elapsed.as_secs_f64()
        );
        assert!(
            rss1 <= rss0 + RSS_GROWTH_LIMIT_KIB,
            "{name}: RSS grew from {rss0} KiB to {rss1} KiB"
        );
        assert!(
            (fds1 - fds0).abs() <= FD_SLACK,
            "{name}: descriptors went from {fds0} to {fds1}"
        );
    }
}

async fn reference_axum() -> Emulator {
    let mut command = Command::new(binary("reference-axum"));
    command.env("RUST_LOG", "off");
    ready(Emulator::builder().command(command)).await
}

async fn lambda_adapter() -> Emulator {
    let mut command = builds::supervisor(free_port());
    command.env("RUST_LOG", "off");
    ready(Emulator::builder().command(command)).await
}

async fn run(count: usize) {
    let axum = reference_axum().await;
    soak(&axum, &routes(true), count, "reference-axum").await;
    shutdown(axum).await;
    let proxy = lambda_adapter().await;
    soak(&proxy, &routes(false), count, "lambda-adapter").await;
    shutdown(proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_keeps_memory_and_descriptors_flat() {
    run(2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "100 000 invocations per function: run it on purpose (see the module docs)"]
async fn full_soak_keeps_memory_and_descriptors_flat() {
    run(100_000).await;
}
