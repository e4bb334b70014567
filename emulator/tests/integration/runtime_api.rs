//! The Runtime API, the Function URL and the invoke endpoint, driven by a minimal function
//! running as a task of the test, over real sockets.

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use common::{function_loop, Rt, HTTP_CT, LIMIT, NULS};
use serde_json::{json, Value};
use serverless_adapter_emulator::{
    Emulator, EmulatorBuilder, EmulatorError, InvokeMode, InvokeOptions, Outcome, StreamEvent,
};
use tokio::time::timeout;

/// Starts an emulator whose function is the test's minimal function loop.
async fn with_function(builder: EmulatorBuilder) -> (Emulator, tokio::task::JoinHandle<()>) {
    let emu = builder.quiet(true).start().await.unwrap();
    let task = tokio::spawn(function_loop(Rt::new(emu.runtime_api())));
    emu.wait_ready(Duration::from_secs(10)).await.unwrap();
    (emu, task)
}

async fn stop(emu: Emulator, task: tokio::task::JoinHandle<()>) {
    task.abort();
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_invoke_and_next_headers() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder().function_name("f1")).await;
        let event = r#"{"action":"echo","x":1}"#;
        let inv = emu.invoke(event).await.unwrap();
        assert_eq!(inv.outcome, Outcome::Buffered(Bytes::from(event)));
        assert_eq!(&inv.raw[..], event.as_bytes());
        assert!(!inv.is_error());

        let opts = InvokeOptions {
            client_context: Some(r#"{"client":{"app_title":"t"}}"#.into()),
            cognito_identity: Some(r#"{"identity_id":"i"}"#.into()),
            trace_id: Some("Root=1-5e1b4151-5ac6c58f5b5e6f5a5b5c5d5e".into()),
            tenant_id: Some("tenant-7".into()),
            ..InvokeOptions::default()
        };
        let inv = emu
            .invoke_with(r#"{"action":"headers"}"#, opts)
            .await
            .unwrap();
        let h: Value = inv.json().unwrap();
        assert_eq!(h["lambda-runtime-aws-request-id"], inv.request_id.as_str());
        // A fresh invocation id per invocation, distinct from the request id.
        assert_eq!(
            h["lambda-runtime-invocation-id"],
            inv.invocation_id.as_str()
        );
        assert_ne!(inv.invocation_id, inv.request_id);
        let again = emu.invoke(r#"{"action":"headers"}"#).await.unwrap();
        let h2: Value = again.json().unwrap();
        assert_eq!(
            h2["lambda-runtime-invocation-id"],
            again.invocation_id.as_str()
        );
        assert_ne!(again.invocation_id, inv.invocation_id);
        assert_eq!(
            h["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:f1"
        );
        assert_eq!(
            h["lambda-runtime-trace-id"],
            "Root=1-5e1b4151-5ac6c58f5b5e6f5a5b5c5d5e"
        );
        assert_eq!(h["lambda-runtime-aws-tenant-id"], "tenant-7");
        assert_eq!(
            h["lambda-runtime-client-context"],
            r#"{"client":{"app_title":"t"}}"#
        );
        assert_eq!(
            h["lambda-runtime-cognito-identity"],
            r#"{"identity_id":"i"}"#
        );
        let deadline: u64 = h["lambda-runtime-deadline-ms"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(
            deadline > now && deadline <= now + 31_000,
            "deadline {deadline} now {now}"
        );
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_buffered_answer() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let resp = emu.get("/hello").await.unwrap();
        assert_eq!(resp.status, 200);
        assert!(resp.complete());
        assert_eq!(resp.text(), "hello");
        assert_eq!(resp.header("content-type"), Some("text/plain"));
        assert_eq!(resp.header_all("x-multi"), vec!["one", "two"]);
        assert_eq!(
            resp.header_all("set-cookie"),
            vec!["a=1; Path=/", "b=2; Path=/"]
        );
        assert!(resp.header("x-amzn-requestid").is_some());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_event_shape() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        // The function echoes the event: a plain JSON answer comes back as a 200 JSON body.
        let req = http::Request::post("/echo/hello%20there?a=1&a=2&b=x%2By&empty")
            .header("cookie", "c1=v1; c2=v2")
            .header("x-multi", "one")
            .header("x-multi", "two")
            .header("X-Upper", "Value")
            .header("user-agent", "emu-test")
            .header("content-type", "application/octet-stream")
            .body(Bytes::from_static(&[0xff, 0x00, 0x01]))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let ev: Value = serde_json::from_slice(&resp.body()).unwrap();
        assert_eq!(ev["version"], "2.0");
        assert_eq!(ev["routeKey"], "$default");
        assert_eq!(ev["rawPath"], "/echo/hello%20there");
        assert_eq!(ev["rawQueryString"], "a=1&a=2&b=x%2By&empty");
        assert_eq!(ev["queryStringParameters"]["a"], "1,2");
        assert_eq!(ev["queryStringParameters"]["b"], "x+y");
        assert_eq!(ev["cookies"], json!(["c1=v1", "c2=v2"]));
        assert_eq!(ev["headers"]["x-multi"], "one,two");
        assert_eq!(ev["headers"]["x-upper"], "Value");
        assert!(ev["headers"].get("cookie").is_none());
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "/wAB");
        let rc = &ev["requestContext"];
        assert_eq!(rc["http"]["method"], "POST");
        assert_eq!(rc["http"]["path"], "/echo/hello%20there");
        assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["http"]["userAgent"], "emu-test");
        assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
        assert_eq!(rc["stage"], "$default");
        assert_eq!(rc["requestId"], resp.header("x-amzn-requestid").unwrap());
        let domain = rc["domainName"].as_str().unwrap();
        assert_eq!(
            domain,
            format!(
                "{}.lambda-url.us-east-1.on.aws",
                rc["domainPrefix"].as_str().unwrap()
            )
        );
        assert!(rc["timeEpoch"].as_u64().unwrap() > 1_600_000_000_000);
        assert!(rc["time"].as_str().unwrap().ends_with(" +0000"));

        // A text body stays text.
        let req = http::Request::post("/echo")
            .header("content-type", "application/json")
            .body(Bytes::from_static(br#"{"k":"v"}"#))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        let ev: Value = serde_json::from_slice(&resp.body()).unwrap();
        assert_eq!(ev["isBase64Encoded"], false);
        assert_eq!(ev["body"], r#"{"k":"v"}"#);
        assert!(ev.get("queryStringParameters").is_none());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_streams_chunks_as_they_arrive() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let req = http::Request::get("/stream?chunks=4&interval_ms=100")
            .body(Bytes::new())
            .unwrap();
        let mut resp = emu.request(req).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.headers["content-type"], "text/event-stream");
        assert_eq!(resp.headers["set-cookie"], "s=1");
        let mut chunks = Vec::new();
        while let Some(c) = resp.chunk().await.unwrap() {
            chunks.push(c);
        }
        let texts: Vec<String> = chunks
            .iter()
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect();
        assert_eq!(
            texts,
            vec!["data: 0\n\n", "data: 1\n\n", "data: 2\n\n", "data: 3\n\n"]
        );
        for pair in chunks.windows(2) {
            let gap = pair[1].0.duration_since(pair[0].0);
            assert!(
                gap >= Duration::from_millis(80),
                "chunks arrived {gap:?} apart"
            );
        }
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_streaming_invoke() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        // Collected: prelude decoded, raw bytes kept exactly.
        let inv = emu
            .invoke(r#"{"action":"stream","chunks":3,"interval_ms":100}"#)
            .await
            .unwrap();
        let s = inv.streamed().expect("streamed");
        let p = s.prelude.as_ref().unwrap();
        assert_eq!(p.status_code, 200);
        assert_eq!(p.header("content-type"), Some("text/event-stream"));
        assert_eq!(p.cookies, vec!["s=1"]);
        assert_eq!(s.body(), Bytes::from("data: 0\n\ndata: 1\n\ndata: 2\n\n"));
        assert_eq!(s.chunks.len(), 3);
        for pair in s.chunks.windows(2) {
            assert!(pair[1].0.duration_since(pair[0].0) >= Duration::from_millis(80));
        }
        let mut expected = p.raw.to_vec();
        expected.extend_from_slice(NULS);
        expected.extend_from_slice(b"data: 0\n\ndata: 1\n\ndata: 2\n\n");
        assert_eq!(&inv.raw[..], &expected[..]);
        assert_eq!(inv.headers["content-type"], HTTP_CT);
        let http = inv.http().unwrap();
        assert_eq!(http.status, 200);
        assert_eq!(http.cookies, vec!["s=1"]);

        // As events: the first chunk comes before the function has finished.
        let mut stream = emu
            .invoke_stream(r#"{"action":"stream","chunks":3,"interval_ms":150}"#)
            .unwrap();
        match stream.next_event().await.unwrap() {
            StreamEvent::StreamStarted { prelude, .. } => {
                assert_eq!(prelude.unwrap().status_code, 200)
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut seen = Vec::new();
        loop {
            match stream.next_event().await.unwrap() {
                StreamEvent::Chunk(at, data) => seen.push((at, data)),
                StreamEvent::End { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seen.len(), 3);
        assert!(seen[2].0.duration_since(seen[0].0) >= Duration::from_millis(250));
        assert!(stream.next_event().await.is_none());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mid_stream_error_ends_the_client_response_abnormally() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let resp = emu.get("/fail-mid-stream").await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), "partial");
        assert!(
            !resp.complete(),
            "the client must see an incomplete message"
        );

        let inv = emu.invoke(r#"{"action":"fail-mid-stream"}"#).await.unwrap();
        let s = inv.streamed().unwrap();
        assert_eq!(s.body(), Bytes::from("partial"));
        let e = s.error.as_ref().expect("stream error");
        assert_eq!(e.error_type, "Runtime.StreamError");
        assert_eq!(e.error_message, "the body failed");
        let trailers = s.trailers.as_ref().unwrap();
        assert_eq!(
            trailers["lambda-runtime-function-error-type"],
            "Runtime.StreamError"
        );
        assert!(inv.is_error());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_error_everywhere() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let inv = emu.invoke(r#"{"action":"error"}"#).await.unwrap();
        let Outcome::Error(e) = &inv.outcome else {
            panic!("{inv:?}")
        };
        assert_eq!(e.error_type, "Handler.Failed");
        assert_eq!(e.error_message, "something broke");
        assert_eq!(
            inv.headers["lambda-runtime-function-error-type"],
            "Handler.Failed"
        );
        assert_eq!(inv.raw, e.payload);

        // The invoke endpoint: 200, the error JSON, X-Amz-Function-Error.
        let req = http::Request::post("/2015-03-31/functions/function/invocations")
            .body(Bytes::from_static(br#"{"action":"error"}"#))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("x-amz-function-error"), Some("Unhandled"));
        let v: Value = serde_json::from_slice(&resp.body()).unwrap();
        assert_eq!(v["errorType"], "Handler.Failed");

        // The Function URL: 502 with the error JSON.
        let resp = emu.get("/error").await.unwrap();
        assert_eq!(resp.status, 502);
        let v: Value = serde_json::from_slice(&resp.body()).unwrap();
        assert_eq!(v["errorMessage"], "something broke");
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_endpoint_returns_the_raw_answer() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let event = r#"{"action":"echo","Records":[{"body":"x"}]}"#;
        let req = http::Request::post("/2015-03-31/functions/function/invocations")
            .body(Bytes::from(event))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 200);
        assert!(resp.header("x-amz-function-error").is_none());
        assert_eq!(resp.text(), event);

        // Streamed answers come back raw (prelude included), as they arrive.
        let req = http::Request::post("/2015-03-31/functions/function/invocations")
            .body(Bytes::from_static(
                br#"{"action":"stream","chunks":2,"interval_ms":10}"#,
            ))
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.header("content-type"), Some(HTTP_CT));
        let body = resp.body();
        assert!(body.starts_with(b"{\"cookies\""), "{body:?}");
        assert!(body.windows(8).any(|w| w == NULS));
        assert!(body.ends_with(b"data: 1\n\n"));
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_runtime_api_calls_get_lambdas_answers() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let rt = Rt::new(emu.runtime_api());

        // Unknown request id.
        let (s, b) = rt.respond("no-such-id", "{}").await;
        assert_eq!(s, 400);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["errorType"], "InvalidRequestID");
        let (s, _) = rt.error("no-such-id", "X", "y").await;
        assert_eq!(s, 400);

        // Unknown path, wrong method.
        let (s, _, _) = rt.get("/2018-06-01/runtime/nope", &[]).await;
        assert_eq!(s, 404);
        let (s, _, _) = rt
            .post("/2018-06-01/runtime/invocation/next", &[], "")
            .await;
        assert_eq!(s, 405);

        // Answered twice; bad JSON on /error; extra headers are ignored.
        let inv = emu.invoke_stream(r#"{"n":1}"#).unwrap();
        let next = rt.next().await;
        assert_eq!(next.id, inv.request_id());
        let (s, _, b) = rt
            .post(
                &format!("/2018-06-01/runtime/invocation/{}/error", next.id),
                &[("lambda-runtime-function-error-type", "X")],
                "not json",
            )
            .await;
        assert_eq!(s, 400, "{b:?}");
        // A wrong invocation id is refused; the right one (or none) is accepted.
        let (s, _, b) = rt
            .post(
                &format!("/2018-06-01/runtime/invocation/{}/response", next.id),
                &[
                    ("lambda-runtime-invocation-id", "whatever"),
                    ("content-type", "application/json"),
                ],
                "\"stale\"",
            )
            .await;
        assert_eq!(s, 400, "{b:?}");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["errorType"], "InvalidInvocationID");
        let invocation_id = next.invocation_id.clone().unwrap();
        let (s, _, _) = rt
            .post(
                &format!("/2018-06-01/runtime/invocation/{}/response", next.id),
                &[
                    ("lambda-runtime-invocation-id", &invocation_id),
                    ("content-type", "application/json"),
                ],
                "\"first\"",
            )
            .await;
        assert_eq!(s, 202);
        let (s, b) = rt.respond(&next.id, "\"second\"").await;
        assert_eq!(s, 400);
        assert!(String::from_utf8_lossy(&b).contains("InvalidRequestID"));
        let inv = inv.collect().await;
        assert_eq!(inv.outcome, Outcome::Buffered(Bytes::from("\"first\"")));
        assert_eq!(inv.echoed_invocation_id, Some(invocation_id));
        assert_eq!(inv.mismatched_invocation_ids, vec!["whatever".to_owned()]);

        // Extensions API: unknown identifier, bad event type, missing name.
        let (s, _, _) = rt
            .get(
                "/2020-01-01/extension/event/next",
                &[("lambda-extension-identifier", "nope")],
            )
            .await;
        assert_eq!(s, 403);
        let (s, _, _) = rt
            .post(
                "/2020-01-01/extension/register",
                &[("lambda-extension-name", "x")],
                r#"{"events":["BOGUS"]}"#,
            )
            .await;
        assert_eq!(s, 400);
        let (s, _, _) = rt
            .post("/2020-01-01/extension/register", &[], r#"{"events":[]}"#)
            .await;
        assert_eq!(s, 400);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_error_fails_the_waiting_invocation() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let rt = Rt::new(emu.runtime_api());
        let inv = emu.invoke_stream("{}").unwrap();
        let (s, _) = rt
            .init_error("Runtime.ConfigError", "missing setting")
            .await;
        assert_eq!(s, 202);
        let inv = inv.collect().await;
        let e = inv.error().unwrap();
        assert_eq!(e.error_type, "Runtime.ConfigError");
        assert_eq!(e.error_message, "missing setting");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_fails_the_invocation() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .timeout(Duration::from_millis(300))
            .quiet(true)
            .start()
            .await
            .unwrap();
        let rt = Rt::new(emu.runtime_api());
        let inv = emu.invoke_stream(r#"{"n":1}"#).unwrap();
        let next = rt.next().await;
        let inv = inv.collect().await;
        let e = inv.error().unwrap();
        assert!(e.is_timeout(), "{e}");
        assert_eq!(e.error_type, "Sandbox.Timedout");
        assert!(
            e.error_message
                .contains("Task timed out after 0.30 seconds"),
            "{e}"
        );
        // The late answer is refused: 410 Gone, with Lambda's error JSON.
        let (s, b) = rt.respond(&next.id, "\"late\"").await;
        assert_eq!(s, 410, "{b:?}");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["errorType"], "InvokeTimeout");
        assert!(
            v["errorMessage"].as_str().unwrap().contains(&next.id),
            "{v}"
        );
        let (s, _) = rt.error(&next.id, "Late.Error", "too late").await;
        assert_eq!(s, 410);
        let late = rt.echoing(next.invocation_id.clone());
        let (s, _) = late.respond(&next.id, "\"late\"").await;
        assert_eq!(s, 410);
        // An id that never existed is still a plain 400.
        let (s, _) = rt.respond("never-existed", "\"x\"").await;
        assert_eq!(s, 400);

        // Through the Function URL: a 504 with the error.
        let task = tokio::spawn(function_loop(Rt::new(emu.runtime_api())));
        let resp = emu.get("/sleep?ms=2000").await.unwrap();
        assert_eq!(resp.status, 504);
        assert!(resp.text().contains("Sandbox.Timedout"));
        task.abort();
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_echoes_the_invocation_id() {
    timeout(LIMIT, async {
        // The test function echoes `Lambda-Runtime-Invocation-Id`, as Lambda runtimes do.
        let (emu, task) = with_function(Emulator::builder()).await;
        let inv = emu.invoke(r#"{"action":"echo"}"#).await.unwrap();
        assert_eq!(inv.echoed_invocation_id, Some(inv.invocation_id.clone()));
        assert!(inv.mismatched_invocation_ids.is_empty());
        let inv = emu.invoke(r#"{"action":"error"}"#).await.unwrap();
        assert!(inv.is_error());
        assert_eq!(inv.echoed_invocation_id, Some(inv.invocation_id.clone()));
        let inv = emu
            .invoke(r#"{"action":"stream","chunks":2,"interval_ms":1}"#)
            .await
            .unwrap();
        assert!(inv.streamed().is_some());
        assert_eq!(inv.echoed_invocation_id, Some(inv.invocation_id.clone()));
        stop(emu, task).await;

        // A function that does not echo it is not checked (`None`).
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let rt = Rt::new(emu.runtime_api());
        let stream = emu.invoke_stream("{}").unwrap();
        let next = rt.next().await;
        assert_eq!(next.invocation_id.as_deref(), Some(stream.invocation_id()));
        assert_ne!(stream.invocation_id(), stream.request_id());
        assert_eq!(rt.respond(&next.id, "1").await.0, 202);
        let inv = stream.collect().await;
        assert_eq!(inv.echoed_invocation_id, None);
        assert_eq!(inv.outcome, Outcome::Buffered(Bytes::from("1")));

        // A wrong one on /error is refused too, and recorded.
        let stream = emu.invoke_stream("{}").unwrap();
        let next = rt.next().await;
        let (s, b) = rt
            .echoing(Some("not-this-one".into()))
            .error(&next.id, "X.Y", "z")
            .await;
        assert_eq!(s, 400, "{b:?}");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["errorType"], "InvalidInvocationID");
        let (s, _) = rt
            .echoing(next.invocation_id.clone())
            .error(&next.id, "X.Y", "z")
            .await;
        assert_eq!(s, 202);
        let inv = stream.collect().await;
        assert_eq!(inv.error().unwrap().error_type, "X.Y");
        assert_eq!(
            inv.mismatched_invocation_ids,
            vec!["not-this-one".to_owned()]
        );
        assert_eq!(inv.echoed_invocation_id, next.invocation_id);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_still_going_at_the_timeout_gets_410() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .timeout(Duration::from_millis(300))
            .quiet(true)
            .start()
            .await
            .unwrap();
        let rt = Rt::new(emu.runtime_api());
        let inv = emu.invoke_stream(r#"{"n":1}"#).unwrap();
        let next = rt.next().await;
        let parts = vec![
            (
                Duration::ZERO,
                common::prelude(200, json!({"content-type": "text/plain"}), json!([])),
            ),
            (Duration::ZERO, Bytes::from_static(NULS)),
            (Duration::ZERO, Bytes::from_static(b"early")),
            // Still streaming when the function timeout passes.
            (Duration::from_secs(3), Bytes::from_static(b"late")),
        ];
        let (s, b) = rt
            .echoing(next.invocation_id.clone())
            .stream(&next.id, HTTP_CT, parts, None)
            .await;
        assert_eq!(s, 410, "{b:?}");
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["errorType"], "InvokeTimeout");
        let inv = inv.collect().await;
        let streamed = inv.streamed().expect("the stream had begun");
        assert_eq!(streamed.body(), Bytes::from("early"));
        assert!(inv.error().unwrap().is_timeout());
        // And any later answer for it, too.
        let (s, _) = rt.respond(&next.id, "\"again\"").await;
        assert_eq!(s, 410);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_request_id_refuses_the_first_attempts_late_answer() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .timeout(Duration::from_millis(300))
            .quiet(true)
            .start()
            .await
            .unwrap();
        let rt = Rt::new(emu.runtime_api());
        let opts = InvokeOptions {
            request_id: Some("retried-request".into()),
            ..InvokeOptions::default()
        };
        // The first attempt times out; the function is still working on it.
        let first = emu
            .invoke_stream_with(r#"{"attempt":1}"#, opts.clone())
            .unwrap();
        let first_next = rt.next().await;
        assert_eq!(first_next.id, "retried-request");
        assert!(first.collect().await.error().unwrap().is_timeout());

        // The retry reuses the request id, with a new invocation id.
        let second = emu
            .invoke_stream_with(r#"{"attempt":2}"#, opts.clone())
            .unwrap();
        let second_next = rt.next().await;
        assert_eq!(second_next.id, "retried-request");
        assert_ne!(second_next.invocation_id, first_next.invocation_id);
        // The same request id cannot be in flight twice.
        assert!(matches!(
            emu.invoke_stream_with("{}", opts),
            Err(EmulatorError::Config(_))
        ));

        // The first attempt's late answer (echoing its own invocation id) is refused as too
        // late, instead of being taken for the retry's answer.
        let (s, b) = rt
            .echoing(first_next.invocation_id.clone())
            .respond("retried-request", "\"first\"")
            .await;
        assert_eq!(s, 410, "{b:?}");
        // An invocation id that belongs to nothing: 400.
        let (s, _) = rt
            .echoing(Some("made-up".into()))
            .respond("retried-request", "\"made-up\"")
            .await;
        assert_eq!(s, 400);
        let (s, _) = rt
            .echoing(second_next.invocation_id.clone())
            .respond("retried-request", "\"second\"")
            .await;
        assert_eq!(s, 202);
        let second = second.collect().await;
        assert_eq!(second.outcome, Outcome::Buffered(Bytes::from("\"second\"")));
        assert_eq!(second.invocation_id, second_next.invocation_id.unwrap());
        assert_eq!(second.mismatched_invocation_ids, vec!["made-up".to_owned()]);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_payload_limit() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder()).await;
        let big = Bytes::from(vec![b' '; 6 * 1024 * 1024 + 1]);
        match emu.invoke(big.clone()).await {
            Err(EmulatorError::PayloadTooLarge { limit, .. }) => assert_eq!(limit, 6 * 1024 * 1024),
            other => panic!("{other:?}"),
        }
        let req = http::Request::post("/2015-03-31/functions/function/invocations")
            .body(big.clone())
            .unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 413);
        assert_eq!(
            resp.header("x-amzn-errortype"),
            Some("RequestEntityTooLargeException")
        );
        let req = http::Request::post("/echo").body(big).unwrap();
        let resp = emu.request(req).await.unwrap().collect().await;
        assert_eq!(resp.status, 413);
        // Just under the limit goes through.
        let ok = format!(
            r#"{{"action":"echo","pad":"{}"}}"#,
            "x".repeat(6 * 1024 * 1024 - 100)
        );
        let inv = emu.invoke(ok.clone()).await.unwrap();
        assert_eq!(inv.body().len(), ok.len());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_answer_limit() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let rt = Rt::new(emu.runtime_api());
        let inv = emu.invoke_stream("{}").unwrap();
        let next = rt.next().await;
        let (s, b) = rt
            .respond(&next.id, vec![b'x'; 6 * 1024 * 1024 + 101])
            .await;
        assert_eq!(s, 413, "{b:?}");
        let e = inv.collect().await.error().cloned().unwrap();
        assert_eq!(e.error_type, "Function.ResponseSizeTooLarge");

        // Exactly at the limit is fine.
        let inv = emu.invoke_stream("{}").unwrap();
        let next = rt.next().await;
        let (s, _) = rt
            .respond(&next.id, vec![b'x'; 6 * 1024 * 1024 + 100])
            .await;
        assert_eq!(s, 202);
        assert_eq!(inv.collect().await.body().len(), 6 * 1024 * 1024 + 100);

        // Through the Function URL: 502.
        let task = tokio::spawn(function_loop(Rt::new(emu.runtime_api())));
        let resp = emu.get("/big?size=7000000").await.unwrap();
        assert_eq!(resp.status, 502);
        assert!(resp.text().contains("Function.ResponseSizeTooLarge"));
        task.abort();
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_answer_limit() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder().stream_limit(1_000_000)).await;
        let inv = emu
            .invoke(r#"{"action":"bytes","size":2000000}"#)
            .await
            .unwrap();
        let s = inv.streamed().unwrap();
        assert_eq!(
            s.error.as_ref().unwrap().error_type,
            "Function.ResponseSizeTooLarge"
        );
        assert!(s.body().len() <= 1_000_000);

        let resp = emu.get("/bytes?size=2000000").await.unwrap();
        assert_eq!(resp.status, 200);
        assert!(!resp.complete());
        assert!(resp.body().len() <= 1_000_000);

        // Under the limit: complete.
        let resp = emu.get("/bytes?size=900000").await.unwrap();
        assert!(resp.complete());
        assert_eq!(resp.body().len(), 900_000);
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_after_6mb() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder().throttle_after_6mb(true)).await;
        let started = std::time::Instant::now();
        let inv = emu
            .invoke(r#"{"action":"bytes","size":7340032}"#)
            .await
            .unwrap();
        assert_eq!(inv.streamed().unwrap().body().len(), 7 * 1024 * 1024);
        // 1 MiB past the first 6 MiB at 2 MiB/s: at least half a second (a lower bound).
        assert!(started.elapsed() >= Duration::from_millis(450));
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_invoke_mode_collects_streams() {
    timeout(LIMIT, async {
        let (emu, task) =
            with_function(Emulator::builder().invoke_mode(InvokeMode::Buffered)).await;
        let resp = emu.get("/stream?chunks=3&interval_ms=20").await.unwrap();
        assert_eq!(resp.status, 200);
        assert!(resp.complete());
        assert_eq!(resp.text(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
        assert!(resp.header("content-length").is_some());
        stop(emu, task).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_extension_gets_invoke_and_shutdown() {
    timeout(LIMIT, async {
        let (emu, task) = with_function(Emulator::builder().function_name("ext-fn")).await;
        let rt = Rt::new(emu.runtime_api());
        let (s, h, b) = rt
            .post(
                "/2020-01-01/extension/register",
                &[("lambda-extension-name", "probe")],
                r#"{"events":["INVOKE","SHUTDOWN"]}"#,
            )
            .await;
        assert_eq!(s, 200);
        let reg: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(reg["functionName"], "ext-fn");
        assert_eq!(reg["functionVersion"], "$LATEST");
        let ext_id = h["lambda-extension-identifier"]
            .to_str()
            .unwrap()
            .to_owned();
        let inv = emu.invoke(r#"{"action":"echo"}"#).await.unwrap();
        let (s, _, b) = rt
            .get(
                "/2020-01-01/extension/event/next",
                &[("lambda-extension-identifier", &ext_id)],
            )
            .await;
        assert_eq!(s, 200);
        let ev: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(ev["eventType"], "INVOKE");
        assert_eq!(ev["requestId"], inv.request_id.as_str());
        assert_eq!(
            ev["invokedFunctionArn"],
            "arn:aws:lambda:us-east-1:123456789012:function:ext-fn"
        );
        assert!(ev["deadlineMs"].as_u64().unwrap() > 0);
        assert!(ev["tracing"]["value"]
            .as_str()
            .unwrap()
            .starts_with("Root="));

        let poll = {
            let rt = rt.clone();
            let ext_id = ext_id.clone();
            tokio::spawn(async move {
                rt.get(
                    "/2020-01-01/extension/event/next",
                    &[("lambda-extension-identifier", &ext_id)],
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        task.abort();
        emu.shutdown().await.unwrap();
        let (s, _, b) = poll.await.unwrap();
        assert_eq!(s, 200);
        let ev: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(ev["eventType"], "SHUTDOWN");
        assert_eq!(ev["shutdownReason"], "spindown");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_env_for_in_process_functions() {
    timeout(LIMIT, async {
        let emu = Emulator::builder()
            .function_name("envy")
            .memory_mb(512)
            .max_concurrency(4)
            .env("EXTRA", "1")
            .quiet(true)
            .start()
            .await
            .unwrap();
        let env: std::collections::HashMap<String, String> = emu.lambda_env().into_iter().collect();
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], emu.runtime_api());
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "envy");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
        assert_eq!(env["AWS_LAMBDA_MAX_CONCURRENCY"], "4");
        assert_eq!(env["EXTRA"], "1");
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_next_poll_does_not_swallow_an_event() {
    use tokio::io::AsyncWriteExt;
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let mut s = tokio::net::TcpStream::connect(emu.runtime_api_addr())
            .await
            .unwrap();
        s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(s);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let task = tokio::spawn(function_loop(Rt::new(emu.runtime_api())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let inv = emu.invoke(r#"{"action":"echo"}"#).await.unwrap();
        assert!(!inv.is_error(), "{inv:?}");
        stop(emu, task).await;
    })
    .await
    .unwrap();
}
