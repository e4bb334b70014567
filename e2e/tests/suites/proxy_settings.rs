//! The effect of each `AWS_LWA_*` setting (and legacy name) not already proven elsewhere, end
//! to end: `lambda-adapter -- reference-server` (supervisor mode, buffered) as real processes
//! under the emulator.
//!
//! Every step is bounded by a generous liveness limit; nothing is timed. Readiness settings
//! are proven by pointing the check at a route that is healthy only under the setting: were the
//! setting ignored, the function would never become ready and the step would hit the limit.

use serde_json::{json, Value};
use serverless_adapter_e2e::emulated::{self, echoed, invalid_config, invoke, serves_root};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::{bounded, builds, events, Echo};
use serverless_adapter_emulator::{Emulator, EmulatorBuilder};

/// `lambda-adapter -- reference-server` under the emulator, with `env` on top of the port and
/// the buffered invoke mode.
fn function(env: &[(&str, &str)]) -> EmulatorBuilder {
    let mut command = builds::supervisor(free_port());
    command
        .env("AWS_LWA_INVOKE_MODE", "buffered")
        .env("RUST_LOG", "error");
    for (key, value) in env {
        command.env(key, value);
    }
    Emulator::builder().command(command)
}

/// The function of [`function`], not yet waited for.
async fn start(env: &[(&str, &str)]) -> Emulator {
    emulated::start(function(env)).await
}

/// As [`start`], and waits until the function polls for its first invocation (which it does
/// only once the app passed the readiness check).
async fn ready(env: &[(&str, &str)]) -> Emulator {
    emulated::ready(function(env)).await
}

/// A Function URL event.
fn url_event(method: &str, path: &str, headers: Value) -> Vec<u8> {
    events::url(method, path).headers(headers).to_vec()
}

/// Checks the base path is removed at a segment boundary only.
async fn base_path_is_removed(emulator: &Emulator) {
    let stripped = invoke(emulator, url_event("GET", "/prod/echo/x", json!({}))).await;
    assert_eq!(echoed(&stripped).path, "/echo/x");
    // `/production` does not start with the segment `/prod`: left alone (and not found).
    let other = invoke(emulator, url_event("GET", "/production/echo/x", json!({}))).await;
    let answer = other.http().unwrap();
    assert_eq!(answer.status, 404, "{}", answer.text());
    // A path without the prefix reaches the app unchanged.
    let plain = invoke(emulator, url_event("GET", "/echo/y", json!({}))).await;
    assert_eq!(echoed(&plain).path, "/echo/y");
}

#[tokio::test]
async fn remove_base_path_strips_the_prefix_before_the_app() {
    let emulator = ready(&[("AWS_LWA_REMOVE_BASE_PATH", "/prod/")]).await;
    base_path_is_removed(&emulator).await;
    emulated::shutdown(emulator).await;
}

#[tokio::test]
async fn legacy_remove_base_path_is_honoured() {
    let emulator = ready(&[("REMOVE_BASE_PATH", "/prod")]).await;
    base_path_is_removed(&emulator).await;
    emulated::shutdown(emulator).await;
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
    emulated::shutdown(emulator).await;
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
    emulated::shutdown(emulator).await;
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
    emulated::shutdown(emulator).await;
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
        emulated::shutdown(emulator).await;
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
    let message = invalid_config(&emulator).await;
    assert!(
        message.contains(&format!(":{unused}")),
        "the error names the checked port: {message}"
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
    // Without the timeout the init would wait for ever (and this step hit the liveness limit).
    let message = invalid_config(&emulator).await;
    assert!(
        message.contains("/status/503")
            && message.contains("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS"),
        "the error names the check and the setting: {message}"
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
    emulated::shutdown(emulator).await;
}

#[tokio::test]
async fn pass_through_path_receives_non_http_events() {
    let emulator = ready(&[("AWS_LWA_PASS_THROUGH_PATH", "/echo/custom")]).await;
    let event = events::sqs(&[("m-1", "hello")]);
    let invocation = invoke(&emulator, event.clone()).await;
    assert!(!invocation.is_error(), "{:?}", invocation.outcome);
    let echo = Echo::parse(&invocation.body());
    assert_eq!(echo.method, "POST", "{echo:?}");
    assert_eq!(echo.path, "/echo/custom", "{echo:?}");
    let received: Value = serde_json::from_slice(&echo.body).unwrap();
    let sent: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(received, sent, "the event is posted as it came");
    emulated::shutdown(emulator).await;
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
    let echo = echoed(&invocation);
    assert_eq!(
        echo.header_all("authorization"),
        ["Bearer token-1"],
        "{echo:?}"
    );
    assert!(
        echo.header_all("x-custom-auth").is_empty(),
        "moved: {echo:?}"
    );
    assert_eq!(echo.header_all("x-other"), ["kept"], "{echo:?}");
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
    let echo = echoed(&both);
    assert_eq!(
        echo.header_all("authorization"),
        ["Bearer token-2"],
        "{echo:?}"
    );
    // Without the source header, a sent `authorization` is left alone.
    let only = invoke(
        &emulator,
        url_event("GET", "/echo/auth", json!({"authorization": "Basic kept"})),
    )
    .await;
    let echo = echoed(&only);
    assert_eq!(echo.header_all("authorization"), ["Basic kept"], "{echo:?}");
    emulated::shutdown(emulator).await;
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
    let echo = echoed(&invocation);
    assert!(echo.header_all("authorization").is_empty(), "{echo:?}");
    assert_eq!(
        echo.header_all("x-custom-auth"),
        ["Bearer token-1"],
        "{echo:?}"
    );
    emulated::shutdown(emulator).await;
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
