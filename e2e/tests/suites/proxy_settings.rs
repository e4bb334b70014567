//! The effect of each `AWS_LWA_*` setting (and legacy name) not already proven elsewhere, end
//! to end: `lambda-adapter -- reference-server` (supervisor mode, buffered) as real processes
//! under the emulator.
//!
//! Every step is bounded by a generous liveness limit; nothing is timed. Readiness settings
//! are proven by pointing the check at a route that is healthy only under the setting: were the
//! setting ignored, the function would never become ready and the step would hit the limit.

mod support;

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_emulator::{Emulator, Invocation};
use support::{free_port, reference_server_bin};

/// A generous bound for every step: a liveness limit, not a measure.
const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("the step finished within the liveness limit")
}

/// `lambda-adapter -- reference-server` under the emulator, with `env` on top of the port and
/// the buffered invoke mode; not yet waited for.
async fn start(env: &[(&str, &str)]) -> Emulator {
    let port = free_port().to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-adapter"));
    command
        .arg("--")
        .arg(reference_server_bin())
        .env("AWS_LWA_PORT", &port)
        .env("PORT", &port)
        .env("AWS_LWA_INVOKE_MODE", "buffered")
        .env("RUST_LOG", "error");
    for (key, value) in env {
        command.env(key, value);
    }
    Emulator::builder()
        .command(command)
        .quiet(true)
        .start()
        .await
        .expect("the emulator starts")
}

/// As [`start`], and waits until the function polls for its first invocation (which it does
/// only once the app passed the readiness check).
async fn ready(env: &[(&str, &str)]) -> Emulator {
    let emulator = start(env).await;
    emulator
        .wait_ready(LIMIT)
        .await
        .expect("the function becomes ready");
    emulator
}

async fn invoke(emulator: &Emulator, event: Vec<u8>) -> Invocation {
    bounded(emulator.invoke(Bytes::from(event)))
        .await
        .expect("the invocation completes")
}

/// A Function URL event.
fn url_event(method: &str, path: &str, headers: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "domainName": "abc.lambda-url.us-east-1.on.aws", "requestId": "r",
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}
        },
        "isBase64Encoded": false
    }))
    .unwrap()
}

fn sqs_event() -> Vec<u8> {
    serde_json::to_vec(&json!({"Records": [{
        "messageId": "m-1", "receiptHandle": "rh", "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"
    }]}))
    .unwrap()
}

/// The echo of an answer that must be `200` from `/echo/...`.
fn echo_json(invocation: &Invocation) -> Value {
    let answer = invocation
        .http()
        .unwrap_or_else(|e| panic!("{e}: {:?}", invocation.outcome));
    assert_eq!(answer.status, 200, "{}", answer.text());
    serde_json::from_slice(&answer.body).unwrap()
}

fn header_values(json: &Value, name: &str) -> Vec<String> {
    json["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .collect()
}

/// `GET /` answers `ok` through the Function URL.
async fn serves_root(emulator: &Emulator) {
    let root = bounded(emulator.get("/")).await.unwrap();
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");
}

/// Checks the base path is removed at a segment boundary only.
async fn base_path_is_removed(emulator: &Emulator) {
    let stripped = invoke(emulator, url_event("GET", "/prod/echo/x", json!({}))).await;
    assert_eq!(echo_json(&stripped)["path"], "/echo/x");
    // `/production` does not start with the segment `/prod`: left alone (and not found).
    let other = invoke(emulator, url_event("GET", "/production/echo/x", json!({}))).await;
    let answer = other.http().unwrap();
    assert_eq!(answer.status, 404, "{}", answer.text());
    // A path without the prefix reaches the app unchanged.
    let plain = invoke(emulator, url_event("GET", "/echo/y", json!({}))).await;
    assert_eq!(echo_json(&plain)["path"], "/echo/y");
}

#[tokio::test]
async fn remove_base_path_strips_the_prefix_before_the_app() {
    let emulator = ready(&[("AWS_LWA_REMOVE_BASE_PATH", "/prod/")]).await;
    base_path_is_removed(&emulator).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn legacy_remove_base_path_is_honoured() {
    let emulator = ready(&[("REMOVE_BASE_PATH", "/prod")]).await;
    base_path_is_removed(&emulator).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn readiness_path_and_healthy_status_decide_readiness() {
    // `/` answers 200, outside 500-599: only a check of `/status/503` ever passes.
    let emulator = ready(&[
        ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
        ("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "500-599"),
    ])
    .await;
    serves_root(&emulator).await;
    assert_eq!(emulator.init_count(), 1);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn legacy_readiness_check_path_is_honoured() {
    // `/` answers 200, not 204: only a check of `/status/204` ever passes.
    let emulator = ready(&[
        ("READINESS_CHECK_PATH", "/status/204"),
        ("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "204"),
    ])
    .await;
    serves_root(&emulator).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn min_unhealthy_status_widens_the_healthy_range() {
    // 503 is unhealthy by default (100-499); with a minimum unhealthy status of 600 it passes.
    let emulator = ready(&[
        ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
        ("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "600"),
    ])
    .await;
    serves_root(&emulator).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn tcp_readiness_ignores_the_http_status() {
    // Over HTTP, `/status/503` is never healthy (default 100-499); over TCP, the open port is.
    for name in [
        "AWS_LWA_READINESS_CHECK_PROTOCOL",
        "READINESS_CHECK_PROTOCOL",
    ] {
        let emulator = ready(&[
            ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
            (name, "tcp"),
        ])
        .await;
        serves_root(&emulator).await;
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn readiness_check_port_is_the_port_checked() {
    // Nothing listens on that port: the app on its own port is never found ready there.
    let unused = free_port().to_string();
    let emulator = start(&[
        ("AWS_LWA_READINESS_CHECK_PORT", &unused),
        ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let invocation = invoke(&emulator, url_event("GET", "/", json!({}))).await;
    let error = invocation
        .error()
        .unwrap_or_else(|| panic!("the init fails: {:?}", invocation.outcome));
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error:?}");
    assert!(
        error.error_message.contains(&format!(":{unused}")),
        "the error names the checked port: {error:?}"
    );
    let _ = bounded(emulator.shutdown()).await;
}

#[tokio::test]
async fn readiness_timeout_fails_an_app_that_never_becomes_healthy() {
    let emulator = start(&[
        ("AWS_LWA_READINESS_CHECK_PATH", "/status/503"),
        ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let invocation = invoke(&emulator, url_event("GET", "/", json!({}))).await;
    let error = invocation
        .error()
        .unwrap_or_else(|| panic!("the init fails: {:?}", invocation.outcome));
    // Without the timeout the init would wait for ever (and this step hit the liveness limit).
    assert_eq!(error.error_type, "Runtime.InvalidConfig", "{error:?}");
    assert!(
        error.error_message.contains("/status/503")
            && error
                .error_message
                .contains("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS"),
        "the error names the check and the setting: {error:?}"
    );
    let _ = bounded(emulator.shutdown()).await;
}

#[tokio::test]
async fn error_status_codes_fail_listed_statuses_only() {
    let emulator = ready(&[("AWS_LWA_ERROR_STATUS_CODES", "500-599")]).await;
    let failed = invoke(&emulator, url_event("GET", "/status/503", json!({}))).await;
    let error = failed
        .error()
        .unwrap_or_else(|| panic!("a listed status fails: {:?}", failed.outcome));
    assert_eq!(error.error_type, "App.ErrorStatus", "{error:?}");
    assert!(error.error_message.contains("503"), "{error:?}");
    // Unlisted statuses are answers, as the app sent them.
    let missing = invoke(&emulator, url_event("GET", "/status/404", json!({}))).await;
    assert_eq!(missing.http().expect("an HTTP answer").status, 404);
    let ok = invoke(&emulator, url_event("GET", "/status/200", json!({}))).await;
    assert_eq!(ok.http().expect("an HTTP answer").status, 200);
    assert_eq!(emulator.init_count(), 1, "a failed status is no crash");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn pass_through_path_receives_non_http_events() {
    let emulator = ready(&[("AWS_LWA_PASS_THROUGH_PATH", "/echo/custom")]).await;
    let event = sqs_event();
    let invocation = invoke(&emulator, event.clone()).await;
    assert!(!invocation.is_error(), "{:?}", invocation.outcome);
    let echo: Value = invocation
        .json()
        .unwrap_or_else(|e| panic!("{e}: {:?}", invocation.body()));
    assert_eq!(echo["method"], "POST", "{echo}");
    assert_eq!(echo["path"], "/echo/custom", "{echo}");
    let body = base64::engine::general_purpose::STANDARD
        .decode(echo["body_base64"].as_str().unwrap())
        .unwrap();
    let received: Value = serde_json::from_slice(&body).unwrap();
    let sent: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(received, sent, "the event is posted as it came");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn authorization_source_is_renamed_to_authorization() {
    let emulator = ready(&[("AWS_LWA_AUTHORIZATION_SOURCE", "x-custom-auth")]).await;
    let invocation = invoke(
        &emulator,
        url_event(
            "GET",
            "/echo/auth",
            json!({"x-custom-auth": "Bearer token-1", "x-other": "kept"}),
        ),
    )
    .await;
    let echo = echo_json(&invocation);
    assert_eq!(
        header_values(&echo, "authorization"),
        ["Bearer token-1"],
        "{echo}"
    );
    assert!(
        header_values(&echo, "x-custom-auth").is_empty(),
        "moved: {echo}"
    );
    assert_eq!(header_values(&echo, "x-other"), ["kept"], "{echo}");
    // The source header replaces an `authorization` sent beside it.
    let both = invoke(
        &emulator,
        url_event(
            "GET",
            "/echo/auth",
            json!({"x-custom-auth": "Bearer token-2", "authorization": "Basic old"}),
        ),
    )
    .await;
    let echo = echo_json(&both);
    assert_eq!(
        header_values(&echo, "authorization"),
        ["Bearer token-2"],
        "{echo}"
    );
    // Without the source header, a sent `authorization` is left alone.
    let only = invoke(
        &emulator,
        url_event("GET", "/echo/auth", json!({"authorization": "Basic kept"})),
    )
    .await;
    let echo = echo_json(&only);
    assert_eq!(
        header_values(&echo, "authorization"),
        ["Basic kept"],
        "{echo}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_authorization_source_headers_are_left_alone() {
    let emulator = ready(&[]).await;
    let invocation = invoke(
        &emulator,
        url_event(
            "GET",
            "/echo/auth",
            json!({"x-custom-auth": "Bearer token-1"}),
        ),
    )
    .await;
    let echo = echo_json(&invocation);
    assert!(header_values(&echo, "authorization").is_empty(), "{echo}");
    assert_eq!(
        header_values(&echo, "x-custom-auth"),
        ["Bearer token-1"],
        "{echo}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_values_fail_the_init_naming_the_variable() {
    for (name, value) in [
        ("AWS_LWA_ERROR_STATUS_CODES", "five-hundred"),
        ("AWS_LWA_REMOVE_BASE_PATH", "prod"),
        ("AWS_LWA_READINESS_CHECK_PROTOCOL", "udp"),
        ("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "abc"),
        ("AWS_LWA_PASS_THROUGH_PATH", "events"),
        ("AWS_LWA_AUTHORIZATION_SOURCE", "bad header"),
        ("AWS_LWA_ENABLE_COMPRESSION", "yes"),
        ("READINESS_CHECK_PATH", "health"),
    ] {
        let emulator = start(&[(name, value)]).await;
        let invocation = invoke(&emulator, url_event("GET", "/", json!({}))).await;
        let error = invocation
            .error()
            .unwrap_or_else(|| panic!("{name}={value}: the init fails: {:?}", invocation.outcome));
        assert_eq!(
            error.error_type, "Runtime.InvalidConfig",
            "{name}={value}: {error:?}"
        );
        assert!(
            error.error_message.contains(name),
            "{name}={value}: the error names the variable: {error:?}"
        );
        let _ = bounded(emulator.shutdown()).await;
    }
}
