//! `ProxyFramework` against real apps: the reference app as a process, and small apps written
//! here for the cases it cannot show (closing idle connections, hop-by-hop response headers).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{bounded, collect, context_with_deadline, reference_server};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, StreamBody};
use serverless_adapter_core::{serve_guarded, Body, LambdaContext, RequestContext};
use serverless_adapter_proxy::{ProxyFramework, ProxySettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(30);

fn request(method: Method, uri: &str, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "example.com")
        .body(body.into())
        .unwrap();
    request
        .extensions_mut()
        .insert(LambdaContext::for_request_id("req-1"));
    request
}

fn echo_headers(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_reference_route_is_forwarded() {
    let (_app, port) = reference_server();
    let proxy = ProxyFramework::to("127.0.0.1", port);
    bounded(LIMIT, async {
        // GET /
        let response = serve_guarded(&proxy, request(Method::GET, "/", ()))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert_eq!(collect(response.into_body()).await.0, "ok");

        // ANY /echo/{*rest}: method, path, query, headers and body as sent.
        let mut echo = request(Method::PUT, "/echo/a%20b/c?x=1&x=2", "the body");
        echo.headers_mut().insert("x-custom", "v".parse().unwrap());
        let response = serve_guarded(&proxy, echo).await.unwrap();
        assert_eq!(response.status(), 200);
        let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2; Path=/"]);
        let multi: Vec<_> = response.headers().get_all("x-multi").iter().collect();
        assert_eq!(multi, ["one", "two"]);
        let echo: serde_json::Value =
            serde_json::from_slice(&collect(response.into_body()).await.0).unwrap();
        assert_eq!(echo["method"], "PUT");
        assert_eq!(echo["path"], "/echo/a%20b/c");
        assert_eq!(echo["query"], "x=1&x=2");
        assert_eq!(echo["body_base64"], "dGhlIGJvZHk=");
        assert_eq!(echo_headers(&echo, "x-custom"), ["v"]);
        assert_eq!(echo_headers(&echo, "host"), ["example.com"]);
        let lambda: serde_json::Value =
            serde_json::from_str(&echo_headers(&echo, "x-amzn-lambda-context")[0]).unwrap();
        assert_eq!(lambda["request_id"], "req-1");

        // GET /bytes: a large body, byte i = i % 251.
        let response = serve_guarded(&proxy, request(Method::GET, "/bytes?size=300000", ()))
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/octet-stream"
        );
        let (bytes, error) = collect(response.into_body()).await;
        assert!(error.is_none());
        assert_eq!(bytes.len(), 300_000);
        assert!(bytes.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));

        // GET /status/{code}
        for code in [204u16, 302, 404, 418, 503] {
            let response =
                serve_guarded(&proxy, request(Method::GET, &format!("/status/{code}"), ()))
                    .await
                    .unwrap();
            assert_eq!(response.status().as_u16(), code);
            assert!(collect(response.into_body()).await.0.is_empty());
        }

        // GET /fail-mid-stream: over HTTP the reference server fails the body before its
        // head leaves (an empty reply), so the proxy reports an app error; had the head left,
        // the body would end with an error after `partial`.
        match serve_guarded(&proxy, request(Method::GET, "/fail-mid-stream", ())).await {
            Ok(response) => {
                assert_eq!(response.status(), 200);
                let (bytes, error) = collect(response.into_body()).await;
                assert_eq!(bytes, "partial");
                assert!(error.is_some(), "the body ends with an error");
            }
            Err(error) => assert!(error.is_app(), "{error}"),
        }

        // GET /sleep
        let response = serve_guarded(&proxy, request(Method::GET, "/sleep?ms=50", ()))
            .await
            .unwrap();
        assert_eq!(collect(response.into_body()).await.0, "slept");

        // GET /panic: the app drops the connection; the proxy reports an app error.
        let error = serve_guarded(&proxy, request(Method::GET, "/panic", ()))
            .await
            .unwrap_err();
        assert!(error.is_app(), "{error}");

        // POST event routes.
        for (path, body, status, answer) in [
            ("/events", "{\"x\":1}", 200, "{\"ok\":true}"),
            ("/sqs", "please fail", 500, "{\"ok\":false}"),
        ] {
            let response = serve_guarded(&proxy, request(Method::POST, path, body))
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{path}");
            assert_eq!(collect(response.into_body()).await.0, answer);
        }

        // The proxy still works after the app dropped a connection.
        let response = serve_guarded(&proxy, request(Method::GET, "/", ()))
            .await
            .unwrap();
        assert_eq!(collect(response.into_body()).await.0, "ok");
    })
    .await;
}

#[tokio::test]
async fn streamed_responses_arrive_frame_by_frame() {
    let (_app, port) = reference_server();
    let proxy = ProxyFramework::to("127.0.0.1", port);
    bounded(LIMIT, async {
        let start = Instant::now();
        let response = serve_guarded(
            &proxy,
            request(Method::GET, "/stream?chunks=5&interval_ms=100", ()),
        )
        .await
        .unwrap();
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        let mut arrivals = Vec::new();
        let mut text = String::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                arrivals.push(start.elapsed());
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        assert_eq!(text.matches("data: ").count(), 5, "{text:?}");
        assert_eq!(arrivals.len(), 5, "one frame per event: {arrivals:?}");
        for pair in arrivals.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(80),
                "frames arrive as produced: {arrivals:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn request_bodies_are_streamed_not_collected() {
    let (_app, port) = reference_server();
    let proxy = ProxyFramework::to("127.0.0.1", port);
    bounded(LIMIT, async {
        let (sender, receiver) =
            tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, std::io::Error>>(4);
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        let body = Body::new(StreamBody::new(stream));
        let producer = tokio::spawn(async move {
            for part in ["one ", "two ", "three"] {
                tokio::time::sleep(Duration::from_millis(50)).await;
                sender
                    .send(Ok(http_body::Frame::data(Bytes::from(part))))
                    .await
                    .unwrap();
            }
        });
        let response = serve_guarded(&proxy, request(Method::POST, "/echo/upload", body))
            .await
            .unwrap();
        producer.await.unwrap();
        let echo: serde_json::Value =
            serde_json::from_slice(&collect(response.into_body()).await.0).unwrap();
        assert_eq!(echo["body_base64"], "b25lIHR3byB0aHJlZQ==");
        // Sent as it came (chunked), not collected into a content-length body first.
        assert_eq!(echo_headers(&echo, "transfer-encoding"), ["chunked"]);
        assert!(echo_headers(&echo, "content-length").is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_hung_app_gets_a_504_before_the_deadline() {
    let (_app, port) = reference_server();
    let proxy = ProxyFramework::to("127.0.0.1", port);
    bounded(LIMIT, async {
        // No response head: the proxy answers 504 at the deadline minus its 500 ms margin.
        let left = Duration::from_millis(1_500);
        let mut hung = request(Method::GET, "/sleep?ms=20000", ());
        hung.extensions_mut()
            .insert(context_with_deadline("r", left));
        let start = Instant::now();
        let response = serve_guarded(&proxy, hung).await.unwrap();
        let took = start.elapsed();
        assert_eq!(response.status(), 504);
        assert!(took < left, "answered before the deadline ({took:?})");
        assert!(
            took >= Duration::from_millis(900),
            "not before the budget ({took:?})"
        );
        let body = collect(response.into_body()).await.0;
        assert!(String::from_utf8_lossy(&body).contains("App.Timeout"));

        // A body that stops flowing ends with a timeout error before the deadline.
        let mut slow = request(Method::GET, "/stream?chunks=3&interval_ms=20000", ());
        slow.extensions_mut()
            .insert(context_with_deadline("r2", left));
        let start = Instant::now();
        let response = serve_guarded(&proxy, slow).await.unwrap();
        assert_eq!(response.status(), 200);
        let (bytes, error) = collect(response.into_body()).await;
        let took = start.elapsed();
        assert!(bytes.starts_with(b"data: 0"), "{bytes:?}");
        let error = error.expect("the body ends with an error");
        assert!(error.contains("did not end"), "{error}");
        assert!(took < left, "ended before the deadline ({took:?})");
    })
    .await;
}

#[tokio::test]
async fn spoofed_context_headers_are_replaced_and_hop_by_hop_headers_stripped() {
    let (_app, port) = reference_server();
    let mut settings = ProxySettings::for_app("127.0.0.1", port);
    settings.remove_base_path = Some("/api".into());
    settings.authorization_source = Some(http::HeaderName::from_static("x-api-key"));
    let proxy = ProxyFramework::new(&settings);
    bounded(LIMIT, async {
        let mut spoofed = request(Method::GET, "/api/echo/x?q=1", ());
        let headers = spoofed.headers_mut();
        for (name, value) in [
            ("x-amzn-request-context", "{\"spoofed\":true}"),
            ("x-amzn-lambda-context", "{\"spoofed\":true}"),
            ("x-amzn-trace-id", "Root=spoofed"),
            ("x-amz-tenant-id", "spoofed"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic eA=="),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("x-api-key", "Bearer token"),
            ("authorization", "Basic old"),
        ] {
            headers.append(
                http::HeaderName::from_static(name),
                http::HeaderValue::from_static(value),
            );
        }
        let mut context = LambdaContext::for_request_id("req-9");
        context.trace_id = Some("Root=1-real".into());
        context.tenant_id = Some("tenant-real".into());
        spoofed.extensions_mut().insert(context);
        spoofed
            .extensions_mut()
            .insert(RequestContext::new("test", "{\"real\":true}"));
        let response = serve_guarded(&proxy, spoofed).await.unwrap();
        let echo: serde_json::Value =
            serde_json::from_slice(&collect(response.into_body()).await.0).unwrap();
        assert_eq!(echo["path"], "/echo/x", "the base path is removed");
        assert_eq!(echo["query"], "q=1");
        assert_eq!(
            echo_headers(&echo, "x-amzn-request-context"),
            ["{\"real\":true}"]
        );
        let lambda = echo_headers(&echo, "x-amzn-lambda-context");
        assert_eq!(lambda.len(), 1);
        let lambda: serde_json::Value = serde_json::from_str(&lambda[0]).unwrap();
        assert_eq!(lambda["request_id"], "req-9");
        assert_eq!(lambda["xray_trace_id"], "Root=1-real");
        assert_eq!(echo_headers(&echo, "x-amzn-trace-id"), ["Root=1-real"]);
        assert_eq!(echo_headers(&echo, "x-amz-tenant-id"), ["tenant-real"]);
        assert_eq!(echo_headers(&echo, "authorization"), ["Bearer token"]);
        for gone in [
            "x-api-key",
            "x-hop",
            "keep-alive",
            "proxy-authorization",
            "te",
            "upgrade",
        ] {
            assert!(echo_headers(&echo, gone).is_empty(), "{gone} is stripped");
        }
        // `connection` is the client's own hop: the proxy's connection to the app says nothing
        // the client sent.
        assert!(echo_headers(&echo, "connection")
            .iter()
            .all(|value| !value.contains("x-hop")));

        // A request with no Lambda context of its own cannot smuggle the headers either.
        let mut bare = Request::get("/echo/").body(Body::empty()).unwrap();
        bare.headers_mut().insert(
            "x-amzn-lambda-context",
            "{\"spoofed\":true}".parse().unwrap(),
        );
        bare.headers_mut().insert(
            "x-amzn-request-context",
            "{\"spoofed\":true}".parse().unwrap(),
        );
        let response = serve_guarded(&proxy, bare).await.unwrap();
        let echo: serde_json::Value =
            serde_json::from_slice(&collect(response.into_body()).await.0).unwrap();
        assert!(echo_headers(&echo, "x-amzn-lambda-context").is_empty());
        assert!(echo_headers(&echo, "x-amzn-request-context").is_empty());
        assert_eq!(echo_headers(&echo, "host"), [format!("127.0.0.1:{port}")]);
    })
    .await;
}

/// Reads one request (head and `content-length` body); `None` at EOF.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return Some(head);
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

const ANSWER: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=1\r\nconnection: keep-alive, x-conn-private\r\nx-conn-private: 1\r\nproxy-authenticate: Basic\r\nx-kept: yes\r\n\r\nok";

/// An app with a short keep-alive: it answers, then closes a connection idle for `idle`, or
/// (with `idle` zero) reads the next request and closes without answering — the close racing
/// the reuse.
async fn closing_app(idle: Duration) -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let (count, served) = (connections.clone(), answered.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let served = served.clone();
            tokio::spawn(async move {
                if read_request(&mut stream).await.is_none() {
                    return;
                }
                stream.write_all(ANSWER.as_bytes()).await.unwrap();
                served.fetch_add(1, Ordering::SeqCst);
                if idle.is_zero() {
                    let _ = read_request(&mut stream).await;
                } else {
                    tokio::time::sleep(idle).await;
                }
            });
        }
    });
    (port, connections, answered)
}

#[tokio::test]
async fn a_connection_the_app_closed_is_retried_transparently() {
    bounded(LIMIT, async {
        for (idle, what) in [
            (Duration::from_millis(20), "closed while idle"),
            (Duration::ZERO, "closed as the request arrived"),
        ] {
            let (port, connections, answered) = closing_app(idle).await;
            let proxy = ProxyFramework::to("127.0.0.1", port);
            for round in 0..3 {
                for method in [Method::GET, Method::POST] {
                    let response = serve_guarded(&proxy, request(method.clone(), "/x", "body"))
                        .await
                        .unwrap_or_else(|e| panic!("{what}, round {round}, {method}: {e}"));
                    assert_eq!(response.status(), 200, "{what}");
                    // Hop-by-hop response headers are stripped too.
                    let headers = response.headers();
                    assert_eq!(headers["x-kept"], "yes");
                    for gone in [
                        "keep-alive",
                        "connection",
                        "x-conn-private",
                        "proxy-authenticate",
                    ] {
                        assert!(!headers.contains_key(gone), "{gone}");
                    }
                    assert_eq!(collect(response.into_body()).await.0, "ok");
                }
                tokio::time::sleep(idle * 3).await;
            }
            assert_eq!(
                answered.load(Ordering::SeqCst),
                6,
                "{what}: every request answered once"
            );
            assert_eq!(connections.load(Ordering::SeqCst), 6, "{what}");
        }
    })
    .await;
}

#[tokio::test]
async fn kept_alive_connections_are_reused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while read_request(&mut stream).await.is_some() {
                    if stream.write_all(ANSWER.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let proxy = ProxyFramework::to("127.0.0.1", port);
    bounded(LIMIT, async {
        for _ in 0..20 {
            let response = serve_guarded(&proxy, request(Method::GET, "/", ()))
                .await
                .unwrap();
            assert_eq!(collect(response.into_body()).await.0, "ok");
        }
    })
    .await;
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}
