//! Interoperability: functions written with the `lambda_http` crate run under the emulator
//! unchanged (as child processes, with the environment the emulator gives them).

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use common::{ChannelBody, LIMIT};
use http_body::Frame;
use serverless_adapter_emulator::Emulator;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// The child roles of this file: `lambda_http` functions.
pub(crate) fn child_entry() {
    let role = std::env::var("EMU_TEST_ROLE").unwrap_or_default();
    let run = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    };
    match role.as_str() {
        "lambda-http-buffered" => {
            let result = run().block_on(lambda_http::run(lambda_http::service_fn(
                |req: lambda_http::Request| async move {
                    let body = match req.body() {
                        lambda_http::Body::Text(t) => t.clone(),
                        lambda_http::Body::Binary(b) => format!("{} bytes", b.len()),
                        _ => String::new(),
                    };
                    let text = format!(
                        "{} {}?{} body={body}",
                        req.method(),
                        req.uri().path(),
                        req.uri().query().unwrap_or("")
                    );
                    lambda_http::Response::builder()
                        .status(201)
                        .header("content-type", "text/plain")
                        .header("x-multi", "one")
                        .header("set-cookie", "a=1; Path=/")
                        .body(lambda_http::Body::from(text))
                        .map_err(lambda_http::Error::from)
                },
            )));
            std::process::exit(i32::from(result.is_err()));
        }
        "lambda-http-streaming" => {
            let result = run().block_on(lambda_http::run_with_streaming_response(
                lambda_http::service_fn(|_req: lambda_http::Request| async move {
                    let (tx, rx) = mpsc::channel(4);
                    tokio::spawn(async move {
                        for part in ["one ", "two ", "three"] {
                            let _ = tx.send(Frame::data(Bytes::from(part))).await;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    });
                    lambda_http::Response::builder()
                        .status(200)
                        .header("content-type", "text/plain")
                        .header("set-cookie", "s=1; Path=/")
                        .body(ChannelBody(rx))
                        .map_err(lambda_http::Error::from)
                }),
            ));
            std::process::exit(i32::from(result.is_err()));
        }
        _ => common::child_entry(),
    }
}

fn lambda_http_fn(role: &str) -> std::process::Command {
    let mut cmd = common::child(role);
    cmd.env("RUST_LOG", "warn");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_http_buffered_function() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .command(lambda_http_fn("lambda-http-buffered"))
            .start()
            .await
            .unwrap();
        let req = http::Request::post("/items/42?a=1&a=2")
            .header("content-type", "text/plain")
            .body(Bytes::from_static(b"hi there"))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 201, "{}", resp.text());
        assert!(resp.complete());
        assert_eq!(resp.header("x-multi"), Some("one"));
        assert_eq!(resp.header_all("set-cookie"), vec!["a=1; Path=/"]);
        assert_eq!(resp.text(), "POST /items/42?a=1&a=2 body=hi there");

        // The same through the library: the buffered event answer decodes.
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/x", "rawQueryString": "",
            "headers": {"host": "h"},
            "requestContext": {"http": {"method": "GET", "path": "/x", "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1", "userAgent": "t"}, "accountId": "anonymous", "apiId": "a",
                "domainName": "a.lambda-url.us-east-1.on.aws", "domainPrefix": "a", "requestId": "r",
                "routeKey": "$default", "stage": "$default", "time": "12/Mar/2020:19:03:58 +0000",
                "timeEpoch": 1583348638390u64},
            "isBase64Encoded": false
        });
        let inv = emu.invoke(event.to_string()).await.unwrap();
        // lambda_runtime echoes the invocation id on its answers.
        assert_eq!(inv.echoed_invocation_id, Some(inv.invocation_id.clone()));
        let http = inv.http().unwrap();
        assert_eq!(http.status, 201);
        assert_eq!(http.text(), "GET /x? body=");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_http_streaming_function() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .quiet(true)
            .command(lambda_http_fn("lambda-http-streaming"))
            .start()
            .await
            .unwrap();
        let resp = emu.get("/stream").await.unwrap();
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert!(resp.complete());
        assert_eq!(resp.header("content-type"), Some("text/plain"));
        assert_eq!(resp.header_all("set-cookie"), vec!["s=1; Path=/"]);
        assert_eq!(resp.text(), "one two three");
        // No tight timing assertions: lambda_http leaves TCP_NODELAY off. The body did arrive
        // in more than one piece, though.
        assert!(resp.chunks.len() >= 2, "{:?}", resp.chunks);

        let inv = emu.invoke(r#"{"version":"2.0","rawPath":"/","rawQueryString":"","headers":{},"requestContext":{"http":{"method":"GET","path":"/","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"t"}},"isBase64Encoded":false}"#).await.unwrap();
        assert_eq!(inv.echoed_invocation_id, Some(inv.invocation_id.clone()));
        let s = inv.streamed().expect("streamed");
        let prelude = s.prelude.as_ref().unwrap();
        assert_eq!(prelude.status_code, 200);
        assert_eq!(prelude.cookies, vec!["s=1; Path=/"]);
        assert_eq!(s.body(), Bytes::from("one two three"));
        assert!(s.error.is_none());
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}
