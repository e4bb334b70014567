//! The `lambda-adapter` binary against a small mock of the Runtime and Extensions APIs: its
//! command line, init errors, and a whole run as an extension supervising the reference app.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serverless_adapter_e2e::binary;
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::process::ChildGuard;
use serverless_adapter_e2e::temp::TempDir;
use tokio::sync::Notify;

fn adapter() -> Command {
    let mut command = Command::new(binary("lambda-adapter"));
    command.env_remove("AWS_LAMBDA_RUNTIME_API");
    command
}

#[test]
fn help_and_version_answer() {
    let help = adapter().arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(
        text.contains("Usage:") && text.contains("AWS_LWA_PORT"),
        "{text}"
    );
    let version = adapter().arg("--version").output().unwrap();
    assert!(version.status.success());
    // Every package of the workspace has the workspace's version, this one too.
    assert_eq!(
        String::from_utf8(version.stdout).unwrap().trim(),
        format!("lambda-adapter {}", env!("CARGO_PKG_VERSION"))
    );
    let bad = adapter().arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--bogus"));
}

/// What the mock saw.
#[derive(Default)]
struct Seen {
    registrations: Vec<(String, String)>,
    init_errors: Vec<(String, String)>,
    responses: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    streamed: Vec<String>,
    events_served: usize,
}

struct Mock {
    seen: Mutex<Seen>,
    events: Mutex<Vec<String>>,
    answered: Notify,
    port: u16,
}

fn deadline_ms(left: Duration) -> String {
    (SystemTime::now() + left)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string()
}

async fn handle(mock: Arc<Mock>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let name = request
        .headers()
        .get("lambda-extension-name")
        .map(|v| v.to_str().unwrap().to_owned());
    let streamed = request
        .headers()
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|v| v == "streaming");
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    let ok = |text: String| Response::new(Full::new(Bytes::from(text)));
    match path.as_str() {
        "/2020-01-01/extension/register" => {
            mock.seen
                .lock()
                .unwrap()
                .registrations
                .push((name.unwrap_or_default(), body));
            let mut response = ok("{}".into());
            response
                .headers_mut()
                .insert("lambda-extension-identifier", "ext-1".parse().unwrap());
            response
        }
        "/2020-01-01/extension/event/next" => {
            // SHUTDOWN once every event was answered.
            loop {
                let notified = mock.answered.notified();
                {
                    let seen = mock.seen.lock().unwrap();
                    let left = mock.events.lock().unwrap().len();
                    if left == 0 && seen.responses.len() + seen.errors.len() >= seen.events_served {
                        break;
                    }
                }
                notified.await;
            }
            ok(r#"{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":0}"#.into())
        }
        "/2018-06-01/runtime/invocation/next" => {
            let event = {
                let mut events = mock.events.lock().unwrap();
                (!events.is_empty()).then(|| events.remove(0))
            };
            let Some(event) = event else {
                std::future::pending::<()>().await;
                unreachable!()
            };
            let id = {
                let mut seen = mock.seen.lock().unwrap();
                seen.events_served += 1;
                format!("req-{}", seen.events_served)
            };
            let mut response = ok(event);
            let headers = response.headers_mut();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            headers.insert(
                "lambda-runtime-deadline-ms",
                deadline_ms(Duration::from_secs(30)).parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:1:function:f".parse().unwrap(),
            );
            headers.insert("lambda-runtime-trace-id", "Root=1-trace".parse().unwrap());
            response
        }
        "/2018-06-01/runtime/init/error" => {
            mock.seen.lock().unwrap().init_errors.push((path, body));
            mock.answered.notify_waiters();
            let mut response = ok("{}".into());
            *response.status_mut() = http::StatusCode::ACCEPTED;
            response
        }
        other => {
            let id = other
                .trim_start_matches("/2018-06-01/runtime/invocation/")
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            {
                let mut seen = mock.seen.lock().unwrap();
                if other.ends_with("/response") {
                    if streamed {
                        seen.streamed.push(id.clone());
                    }
                    seen.responses.push((id, body));
                } else {
                    seen.errors.push((id, body));
                }
            }
            mock.answered.notify_waiters();
            let mut response = ok("{}".into());
            *response.status_mut() = http::StatusCode::ACCEPTED;
            response
        }
    }
}

async fn start_mock(events: Vec<String>) -> Arc<Mock> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = Arc::new(Mock {
        seen: Mutex::default(),
        events: Mutex::new(events),
        answered: Notify::new(),
        port: listener.local_addr().unwrap().port(),
    });
    let shared = mock.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mock = shared.clone();
            let service = hyper::service::service_fn(move |request| {
                let mock = mock.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(mock, request).await) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    mock
}

#[tokio::test]
async fn an_invalid_setting_fails_the_init() {
    let mock = start_mock(Vec::new()).await;
    let mut command = adapter();
    command
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", mock.port))
        .env("AWS_LWA_ASYNC_INIT", "yes")
        .stderr(Stdio::null());
    let mut child = ChildGuard::spawn(command);
    let status = child
        .exited_within(Duration::from_secs(10))
        .await
        .expect("the adapter exits");
    assert_eq!(status.code(), Some(1));
    let seen = mock.seen.lock().unwrap();
    assert_eq!(seen.init_errors.len(), 1);
    let error: serde_json::Value = serde_json::from_str(&seen.init_errors[0].1).unwrap();
    assert_eq!(error["errorType"], "Runtime.InvalidConfig");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("AWS_LWA_ASYNC_INIT"),
        "{error}"
    );
}

#[tokio::test]
async fn a_whole_run_as_an_extension_supervising_the_app() {
    let app_port = free_port();
    let http_event = serde_json::json!({
        "version": "2.0",
        "rawPath": "/echo/x",
        "rawQueryString": "a=1",
        "headers": {"host": "example.com", "x-amzn-lambda-context": "spoofed"},
        "requestContext": {
            "http": {"method": "GET", "path": "/echo/x", "sourceIp": "1.2.3.4"},
            "domainName": "example.com",
            "requestId": "api-1"
        },
        "isBase64Encoded": false
    })
    .to_string();
    let other_event = r#"{"source":"aws.events","detail":{"n":1}}"#.to_owned();
    let failing_event = r#"{"source":"aws.events","detail":"please fail"}"#.to_owned();
    let mock = start_mock(vec![http_event, other_event, failing_event]).await;

    // Started from a directory named `extensions`: extension mode.
    let dir = TempDir::new("extension");
    std::fs::create_dir_all(dir.join("extensions")).unwrap();
    let link = dir.join("extensions").join("lambda-adapter");
    std::os::unix::fs::symlink(binary("lambda-adapter"), &link).unwrap();
    let log = dir.join("stderr.log");
    let mut command = Command::new(&link);
    command
        .arg("--")
        .arg(binary("reference-server"))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", mock.port))
        .env("AWS_LAMBDA_FUNCTION_NAME", "f")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LWA_PORT", app_port.to_string())
        .env("PORT", app_port.to_string())
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = ChildGuard::spawn(command);
    let status = child.exited_within(Duration::from_secs(30)).await;
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("the adapter exits on SHUTDOWN; logs:\n{logs}"));
    assert!(status.success(), "{status:?}; logs:\n{logs}");

    let seen = mock.seen.lock().unwrap();
    assert_eq!(seen.registrations.len(), 1);
    assert_eq!(seen.registrations[0].0, "lambda-adapter");
    let events: serde_json::Value = serde_json::from_str(&seen.registrations[0].1).unwrap();
    assert_eq!(events, serde_json::json!({"events": ["SHUTDOWN"]}));

    // The HTTP event: answered by the app through the proxy.
    assert_eq!(seen.responses.len(), 2, "logs:\n{logs}");
    let (id, answer) = &seen.responses[0];
    assert_eq!(id, "req-1");
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
    assert_eq!(answer["statusCode"], 200);
    let echo: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["path"], "/echo/x");
    assert_eq!(echo["query"], "a=1");
    let lambda_context = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == "x-amzn-lambda-context")
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .unwrap();
    let lambda_context: serde_json::Value = serde_json::from_str(&lambda_context).unwrap();
    assert_eq!(lambda_context["request_id"], "req-1");
    assert_eq!(lambda_context["xray_trace_id"], "Root=1-trace");
    assert_eq!(lambda_context["env_config"]["function_name"], "f");

    // The non-HTTP events: POSTed to /events; a 2xx body is the answer, a 500 fails.
    assert_eq!(
        seen.responses[1],
        ("req-2".to_owned(), "{\"ok\":true}".to_owned())
    );
    assert_eq!(seen.errors.len(), 1);
    assert_eq!(seen.errors[0].0, "req-3");
    let error: serde_json::Value = serde_json::from_str(&seen.errors[0].1).unwrap();
    assert_eq!(error["errorType"], "App.ErrorStatus");

    // JSON logs.
    assert!(
        logs.lines()
            .any(|line| line.starts_with('{') && line.contains("\"level\"")),
        "{logs}"
    );
    // The app was stopped with the adapter: nothing listens on its port any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", app_port)).is_err());
}

#[tokio::test]
async fn a_streaming_run_as_the_runtime_stops_on_sigterm() {
    let app_port = free_port();
    let function_url_event = serde_json::json!({
        "version": "2.0",
        "rawPath": "/stream",
        "rawQueryString": "chunks=3&interval_ms=10",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "requestContext": {
            "http": {"method": "GET", "path": "/stream", "sourceIp": "1.2.3.4"},
            "domainName": "abc.lambda-url.us-east-1.on.aws"
        },
        "isBase64Encoded": false
    })
    .to_string();
    let other_event = r#"{"source":"aws.events"}"#.to_owned();
    let mock = start_mock(vec![function_url_event, other_event]).await;
    let dir = TempDir::new("runtime");
    let log = dir.join("stderr.log");
    let mut command = adapter();
    command
        .args(["--no-extension", "--"])
        .arg(binary("reference-server"))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", mock.port))
        .env("AWS_LWA_PORT", app_port.to_string())
        .env("PORT", app_port.to_string())
        .env("AWS_LWA_INVOKE_MODE", "response_stream")
        .env("AWS_LWA_READINESS_CHECK_PROTOCOL", "tcp")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = ChildGuard::spawn(command);
    let answered = async {
        loop {
            let notified = mock.answered.notified();
            if mock.seen.lock().unwrap().responses.len() >= 2 {
                break;
            }
            notified.await;
        }
    };
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();
    if tokio::time::timeout(Duration::from_secs(30), answered)
        .await
        .is_err()
    {
        panic!("both events answered; logs:\n{}", logs());
    }
    {
        let seen = mock.seen.lock().unwrap();
        // The Function URL event is streamed: prelude, eight NULs, the app's events.
        assert_eq!(seen.streamed, ["req-1"], "logs:\n{}", logs());
        let body = &seen.responses[0].1;
        let (prelude, rest) = body.split_once("\0\0\0\0\0\0\0\0").expect("a separator");
        let prelude: serde_json::Value = serde_json::from_str(prelude).unwrap();
        assert_eq!(prelude["statusCode"], 200);
        assert_eq!(rest.matches("data: ").count(), 3, "{rest:?}");
        // The other event cannot stream: answered buffered.
        assert_eq!(
            seen.responses[1],
            ("req-2".to_owned(), "{\"ok\":true}".to_owned())
        );
    }
    child.signal_group(libc::SIGTERM);
    let status = child
        .exited_within(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("the adapter exits on SIGTERM; logs:\n{}", logs()));
    assert!(status.success(), "{status:?}; logs:\n{}", logs());
    assert!(logs().contains("the app stopped"), "{}", logs());
    assert!(std::net::TcpStream::connect(("127.0.0.1", app_port)).is_err());
}
