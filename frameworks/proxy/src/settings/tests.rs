use super::*;

fn read(pairs: &[(&str, &str)]) -> Result<ProxySettings, Error> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ProxySettings::from_lookup(move |name| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
}

fn ok(pairs: &[(&str, &str)]) -> ProxySettings {
    read(pairs).unwrap_or_else(|error| panic!("{pairs:?}: {error}"))
}

/// The error for an invalid value names the variable and the value.
fn invalid(name: &str, value: &str) {
    let error = read(&[(name, value)]).expect_err(&format!("{name}={value:?} is invalid"));
    assert!(error.is_config(), "{error}");
    assert!(error.message().contains(name), "{error}");
    assert!(
        error.message().contains(&format!("{value:?}")) || name.contains("REMOVE_BASE_PATH"),
        "{error}"
    );
}

#[test]
fn defaults_match_the_lambda_web_adapter() {
    let settings = ok(&[]);
    assert_eq!(settings, ProxySettings::default());
    assert_eq!(settings.port, 8080);
    assert_eq!(settings.host, "127.0.0.1");
    assert_eq!(settings.readiness_port, 8080);
    assert_eq!(settings.readiness_path, "/");
    assert_eq!(settings.readiness_protocol, ReadinessProtocol::Http);
    assert_eq!(settings.readiness_healthy_status.to_string(), "100-499");
    assert_eq!(settings.readiness_timeout, None);
    assert!(!settings.async_init);
    assert_eq!(settings.remove_base_path, None);
    assert_eq!(settings.pass_through_path, "/events");
    assert!(!settings.enable_compression);
    assert_eq!(settings.invoke_mode, InvokeMode::Buffered);
    assert_eq!(settings.authorization_source, None);
    assert_eq!(settings.error_status_codes, None);
    assert_eq!(settings.runtime_api_proxy, None);
    assert!(settings.pool_connections);
    assert_eq!(settings.authority(), "127.0.0.1:8080");
}

#[test]
fn port_and_legacy_port() {
    assert_eq!(ok(&[("AWS_LWA_PORT", "3000")]).port, 3000);
    assert_eq!(ok(&[("PORT", "3001")]).port, 3001);
    assert_eq!(ok(&[("AWS_LWA_PORT", "3000"), ("PORT", "3001")]).port, 3000);
    // The readiness port follows the app port unless set.
    assert_eq!(ok(&[("AWS_LWA_PORT", "3000")]).readiness_port, 3000);
    // Empty counts as unset.
    assert_eq!(ok(&[("AWS_LWA_PORT", "")]).port, 8080);
    for bad in ["0", "65536", "-1", "80a", " 80", "+80", "http"] {
        invalid("AWS_LWA_PORT", bad);
    }
    invalid("PORT", "eighty");
}

#[test]
fn host_and_legacy_host() {
    assert_eq!(ok(&[("AWS_LWA_HOST", "localhost")]).host, "localhost");
    assert_eq!(ok(&[("HOST", "0.0.0.0")]).host, "0.0.0.0");
    assert_eq!(ok(&[("AWS_LWA_HOST", "::1")]).host, "[::1]");
    assert_eq!(ok(&[("AWS_LWA_HOST", "[::1]")]).host, "[::1]");
    assert_eq!(
        ok(&[("AWS_LWA_HOST", "::1"), ("AWS_LWA_PORT", "9")]).authority(),
        "[::1]:9"
    );
    for bad in ["a b", "http://x", "x:80", "[nope]", "["] {
        invalid("AWS_LWA_HOST", bad);
    }
    invalid("HOST", "a/b");
}

#[test]
fn readiness_port_path_and_protocol() {
    let s = ok(&[
        ("AWS_LWA_PORT", "3000"),
        ("AWS_LWA_READINESS_CHECK_PORT", "3001"),
        ("AWS_LWA_READINESS_CHECK_PATH", "/health?full=1"),
        ("AWS_LWA_READINESS_CHECK_PROTOCOL", "tcp"),
    ]);
    assert_eq!(s.readiness_port, 3001);
    assert_eq!(s.readiness_path, "/health?full=1");
    assert_eq!(s.readiness_protocol, ReadinessProtocol::Tcp);
    let legacy = ok(&[
        ("READINESS_CHECK_PORT", "3002"),
        ("READINESS_CHECK_PATH", "/ready"),
        ("READINESS_CHECK_PROTOCOL", "HTTP"),
    ]);
    assert_eq!(legacy.readiness_port, 3002);
    assert_eq!(legacy.readiness_path, "/ready");
    assert_eq!(legacy.readiness_protocol, ReadinessProtocol::Http);
    invalid("AWS_LWA_READINESS_CHECK_PORT", "x");
    invalid("READINESS_CHECK_PORT", "0");
    invalid("AWS_LWA_READINESS_CHECK_PATH", "health");
    invalid("AWS_LWA_READINESS_CHECK_PATH", "/a b");
    invalid("READINESS_CHECK_PATH", "ready");
    invalid("AWS_LWA_READINESS_CHECK_PROTOCOL", "udp");
    invalid("READINESS_CHECK_PROTOCOL", "https");
}

#[test]
fn healthy_status_lists_and_the_older_min_unhealthy_status() {
    let s = ok(&[("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "200-399, 404")]);
    let set = &s.readiness_healthy_status;
    for (code, healthy) in [
        (200, true),
        (399, true),
        (404, true),
        (400, false),
        (500, false),
    ] {
        assert_eq!(set.contains(code), healthy, "{code}");
    }
    assert_eq!(set.to_string(), "200-399,404");
    let old = ok(&[("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "400")]);
    assert_eq!(old.readiness_healthy_status.to_string(), "100-399");
    let legacy = ok(&[("READINESS_CHECK_MIN_UNHEALTHY_STATUS", "500")]);
    assert_eq!(legacy.readiness_healthy_status.to_string(), "100-499");
    let both = ok(&[
        ("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "200"),
        ("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "400"),
    ]);
    assert_eq!(both.readiness_healthy_status.to_string(), "200");
    for bad in [
        "",
        ",",
        "200,",
        "abc",
        "99",
        "1000",
        "399-200",
        "200-",
        "-300",
        "2OO",
        "200-300-400",
    ] {
        if bad.is_empty() {
            continue; // empty is unset
        }
        invalid("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", bad);
    }
    invalid("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "100");
    invalid(
        "AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS",
        "five hundred",
    );
}

#[test]
fn readiness_timeout() {
    assert_eq!(
        ok(&[("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "30")]).readiness_timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        ok(&[("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "2.5")]).readiness_timeout,
        Some(Duration::from_millis(2500))
    );
    for bad in ["0", "-1", "abc", "1e3", "1.2.3", "inf", "NaN", "100000"] {
        invalid("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", bad);
    }
}

#[test]
fn booleans_are_exactly_true_or_false() {
    assert!(ok(&[("AWS_LWA_ASYNC_INIT", "true")]).async_init);
    assert!(!ok(&[("AWS_LWA_ASYNC_INIT", "false")]).async_init);
    assert!(ok(&[("ASYNC_INIT", "true")]).async_init);
    assert!(!ok(&[("AWS_LWA_ASYNC_INIT", "false"), ("ASYNC_INIT", "true")]).async_init);
    assert!(ok(&[("AWS_LWA_ENABLE_COMPRESSION", "true")]).enable_compression);
    for bad in ["TRUE", "True", "1", "yes", "on", " true", "false "] {
        invalid("AWS_LWA_ASYNC_INIT", bad);
        invalid("AWS_LWA_ENABLE_COMPRESSION", bad);
    }
    invalid("ASYNC_INIT", "1");
}

#[test]
fn base_path() {
    assert_eq!(
        ok(&[("AWS_LWA_REMOVE_BASE_PATH", "/api/")])
            .remove_base_path
            .as_deref(),
        Some("/api")
    );
    assert_eq!(
        ok(&[("REMOVE_BASE_PATH", "/v1/api")])
            .remove_base_path
            .as_deref(),
        Some("/v1/api")
    );
    assert_eq!(
        ok(&[("AWS_LWA_REMOVE_BASE_PATH", "/")]).remove_base_path,
        None
    );
    invalid("AWS_LWA_REMOVE_BASE_PATH", "api");
    invalid("AWS_LWA_REMOVE_BASE_PATH", "/a b");
    invalid("AWS_LWA_REMOVE_BASE_PATH", "/api?x=1");
}

#[test]
fn pass_through_path() {
    assert_eq!(
        ok(&[("AWS_LWA_PASS_THROUGH_PATH", "/jobs")]).pass_through_path,
        "/jobs"
    );
    invalid("AWS_LWA_PASS_THROUGH_PATH", "jobs");
    invalid("AWS_LWA_PASS_THROUGH_PATH", "/a b");
}

#[test]
fn invoke_mode() {
    assert_eq!(
        ok(&[("AWS_LWA_INVOKE_MODE", "response_stream")]).invoke_mode,
        InvokeMode::ResponseStream
    );
    assert_eq!(
        ok(&[("AWS_LWA_INVOKE_MODE", "RESPONSE_STREAM")]).invoke_mode,
        InvokeMode::ResponseStream
    );
    assert_eq!(
        ok(&[("AWS_LWA_INVOKE_MODE", "buffered")]).invoke_mode,
        InvokeMode::Buffered
    );
    invalid("AWS_LWA_INVOKE_MODE", "stream");
    invalid("AWS_LWA_INVOKE_MODE", "response-stream");
}

#[test]
fn authorization_source() {
    assert_eq!(
        ok(&[("AWS_LWA_AUTHORIZATION_SOURCE", "X-Custom-Auth")])
            .authorization_source
            .unwrap(),
        "x-custom-auth"
    );
    invalid("AWS_LWA_AUTHORIZATION_SOURCE", "bad header");
    invalid("AWS_LWA_AUTHORIZATION_SOURCE", "a:b");
}

#[test]
fn error_status_codes() {
    let set = ok(&[("AWS_LWA_ERROR_STATUS_CODES", "500-599,429")])
        .error_status_codes
        .unwrap();
    assert!(set.contains(502));
    assert!(set.contains(429));
    assert!(!set.contains(404));
    invalid("AWS_LWA_ERROR_STATUS_CODES", "5xx");
    invalid("AWS_LWA_ERROR_STATUS_CODES", "600-500");
}

#[test]
fn runtime_api_proxy() {
    assert_eq!(
        ok(&[("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "127.0.0.1:9009")])
            .runtime_api_proxy
            .as_deref(),
        Some("127.0.0.1:9009")
    );
    assert!(
        ok(&[("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "http://127.0.0.1:9/rt")])
            .runtime_api_proxy
            .is_some()
    );
    invalid("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "no-port");
    invalid("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "https://x:1");
}

#[test]
fn snap_start_turns_pooling_off() {
    assert!(!ok(&[("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")]).pool_connections);
    assert!(ok(&[("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")]).pool_connections);
}

#[test]
fn status_sets_parse_and_print() {
    assert!(StatusCodes::parse("").unwrap().is_empty());
    assert!(StatusCodes::parse("200,,300").is_err());
    let set = StatusCodes::parse(" 100 - 199 ,204").unwrap();
    assert_eq!(set.to_string(), "100-199,204");
    assert_eq!(format!("{set:?}"), r#"StatusCodes("100-199,204")"#);
}
