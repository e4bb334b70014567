//! The cases of the table. Each sends real events or real HTTP requests to the running function
//! and asserts on what comes back; `applies` says for which targets a case has meaning.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_e2e::http_client::Pace;
use serverless_adapter_e2e::process::peak_rss_kib;
use serverless_adapter_e2e::{Answer, Api, Build, Function, Mode, Options, Target};

use crate::events;
use crate::Case;

macro_rules! case {
    ($name:ident, $applies:expr) => {
        Case {
            name: stringify!($name),
            applies: $applies,
            run: |function| Box::pin($name(function)),
        }
    };
}

/// Every case, in the order they run against one function.
pub(crate) const ALL: &[Case] = &[
    case!(function_url_round_trip, always),
    case!(http_api_v2_event, always),
    case!(cargo_lambda_event_shape, always),
    case!(rest_v1_multi_value, always),
    case!(alb_single_value, always),
    case!(alb_multi_value, always),
    case!(websocket_routes, always),
    case!(sqs_standard_partial_failure, always),
    case!(sqs_fifo_group_order, always),
    case!(sqs_undecodable_record, always),
    case!(sqs_batch_mode, always),
    case!(sns_message, always),
    case!(s3_and_eventbridge, always),
    case!(kinesis_failing_and_undecodable, always),
    case!(dynamodb_failing_and_undecodable, always),
    case!(malformed_events, always),
    case!(hostile_events, always),
    case!(panic_is_reported, always),
    case!(fail_mid_stream, always),
    case!(streams_incrementally, streamed_only),
    case!(binary_body_exact, always),
    case!(oversized_buffered_answer, buffered_only),
    case!(invocation_id_echoed, ours_only),
    case!(head_slower_than_deadline, ours_only),
    case!(body_slower_than_deadline, ours_only),
    case!(back_pressure_keeps_memory_flat, streamed_only),
    case!(late_answer_is_refused_with_410, ours_only),
    case!(runtime_api_reset, always),
    case!(app_dies_mid_stream, streamed_under_our_emulator),
    case!(sigterm_mid_invocation, our_runtime_under_our_emulator),
    case!(supervisor_init_error_leaves_no_app, supervisor_only),
];

fn always(_: Target) -> Result<(), &'static str> {
    Ok(())
}

fn streamed_only(target: Target) -> Result<(), &'static str> {
    match target.mode {
        Mode::Streamed => Ok(()),
        Mode::Buffered => Err("buffered functions do not stream"),
    }
}

fn buffered_only(target: Target) -> Result<(), &'static str> {
    match target.mode {
        Mode::Buffered => Ok(()),
        Mode::Streamed => Err("streamed answers have no 6 MB limit"),
    }
}

fn ours_only(target: Target) -> Result<(), &'static str> {
    match target.api {
        Api::Emulator => Ok(()),
        Api::CargoLambda => {
            Err("cargo-lambda sends no usable deadline (a constant 600000) nor an invocation id")
        }
    }
}

fn our_runtime_under_our_emulator(target: Target) -> Result<(), &'static str> {
    ours_only(target)?;
    match target.build {
        Build::ProxyExtension | Build::ProxyExecWrapper => Err(
            "the runtime process is the app itself; lambda-adapter is an extension, told SHUTDOWN",
        ),
        _ => Ok(()),
    }
}

fn streamed_under_our_emulator(target: Target) -> Result<(), &'static str> {
    ours_only(target)?;
    streamed_only(target)
}

fn supervisor_only(target: Target) -> Result<(), &'static str> {
    match target.build {
        Build::ProxySupervisor => Ok(()),
        _ => Err("only the supervisor starts an app of its own"),
    }
}

fn to_bytes(event: Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&event).expect("JSON"))
}

/// The values of a header in an `/echo` answer's `headers` list.
fn echoed(echo: &Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().expect("a string").to_owned())
        .collect()
}

/// Repeated header values however a front door joins them: `one,two`.
fn joined(values: &[impl AsRef<str>]) -> String {
    values
        .iter()
        .flat_map(|v| v.as_ref().split(','))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}

const COOKIES: [&str; 2] = ["a=1; Path=/", "b=2; Path=/"];

async fn function_url_round_trip(function: &Function) {
    let root = function.get("/").await;
    assert_eq!((root.status, root.text().as_str()), (200, "ok"));

    let body: Vec<u8> = (0..=255u8).collect();
    let request = http::Request::post("/echo/a/b%20c?x=1&x=2&y=")
        .header("x-rep", "one")
        .header("x-rep", "two")
        .header("cookie", "c=1; d=2")
        .header("content-type", "application/octet-stream")
        .body(Bytes::from(body.clone()))
        .unwrap();
    let reply = function.request(request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.error.is_none(), "{:?}", reply.error);
    let echo = reply.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/a/b%20c");
    assert_eq!(echo["query"], "x=1&x=2&y=");
    assert_eq!(
        echo["body_base64"],
        base64::engine::general_purpose::STANDARD.encode(&body)
    );
    if function.target.api == Api::CargoLambda {
        // cargo-lambda's Function URL keeps one value of a repeated request header.
        assert!(!echoed(&echo, "x-rep").is_empty(), "{echo}");
    } else {
        assert_eq!(joined(&echoed(&echo, "x-rep")), "one,two");
    }
    assert_eq!(echoed(&echo, "cookie").join("; "), "c=1; d=2");
    assert_eq!(reply.header_all("set-cookie"), COOKIES);
    assert_eq!(joined(&reply.header_all("x-multi")), "one,two");

    assert_eq!(function.get("/status/404").await.status, 404);
    assert_eq!(function.get("/status/201").await.status, 201);
}

/// The answer to a payload 2.0 event is in payload 2.0's format: cookies in `cookies`, never in
/// `multiValueHeaders` (which a Function URL ignores).
fn assert_v2_format(answer: &Answer) {
    if let Answer::Buffered(_) = answer {
        let json = answer.json();
        assert!(
            json.get("multiValueHeaders").is_none(),
            "a payload 2.0 event answered in the v1 format: {json}"
        );
        assert_eq!(json["cookies"], json!(COOKIES), "{json}");
    }
    assert_eq!(answer.http().set_cookies(), COOKIES);
}

async fn http_api_v2_event(function: &Function) {
    let event = events::http_api_v2("GET", "/echo/x", "a=1&a=2", &["c=1", "d=2"], b"");
    let answer = function.invoke(to_bytes(event)).await;
    let http = answer.http();
    assert_eq!(http.status, 200, "{}", http.text());
    let echo = http.json();
    assert_eq!(echo["query"], "a=1&a=2");
    assert_eq!(echoed(&echo, "cookie"), ["c=1; d=2"]);
    assert_eq!(joined(&echoed(&echo, "x-rep")), "one,two");
    assert_v2_format(&answer);
    if function.target.mode == Mode::Streamed && function.target.api == Api::Emulator {
        assert!(
            matches!(answer, Answer::Streamed { .. }),
            "a streaming function streams HTTP API answers: {answer:?}"
        );
    }
}

async fn cargo_lambda_event_shape(function: &Function) {
    let answer = function
        .invoke(to_bytes(events::cargo_lambda_url("GET", "/echo/cl")))
        .await;
    let http = answer.http();
    assert_eq!(http.status, 200, "{}", http.text());
    let echo = http.json();
    assert_eq!(echo["path"], "/echo/cl");
    assert_eq!(echo["query"], "");
    assert_eq!(echoed(&echo, "cookie"), ["c=1"]);
    assert_v2_format(&answer);
}

async fn rest_v1_multi_value(function: &Function) {
    let answer = function
        .invoke(to_bytes(events::rest_v1("POST", "/echo/rest", "hello")))
        .await;
    let http = answer.http();
    assert_eq!(http.status, 200, "{}", http.text());
    let echo = http.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/rest");
    let mut query: Vec<&str> = echo["query"].as_str().unwrap().split('&').collect();
    query.sort_unstable();
    assert_eq!(query, ["a=1", "a=2", "b=x%20y"]);
    assert_eq!(joined(&echoed(&echo, "x-rep")), "one,two");
    assert_eq!(echo["body_base64"], "aGVsbG8=");
    if let Answer::Buffered(_) = answer {
        let json = answer.json();
        assert_eq!(
            json["multiValueHeaders"]["set-cookie"],
            json!(COOKIES),
            "{json}"
        );
        assert_eq!(
            json["multiValueHeaders"]["x-multi"],
            json!(["one", "two"]),
            "{json}"
        );
    }
    assert_eq!(http.header_all("set-cookie"), COOKIES);
}

async fn alb_single_value(function: &Function) {
    let answer = function
        .invoke(to_bytes(events::alb("/echo/alb", false)))
        .await;
    let json = answer.json();
    assert_eq!(json["statusCode"], 200, "{json}");
    assert_eq!(json["statusDescription"], "200 OK", "{json}");
    assert!(json.get("multiValueHeaders").is_none(), "{json}");
    // Single-value mode carries one value per header: one of the two cookies (documented).
    assert!(
        COOKIES.contains(&json["headers"]["set-cookie"].as_str().unwrap_or_default()),
        "{json}"
    );
    let echo = answer.http().json();
    assert_eq!(echo["path"], "/echo/alb");
    assert_eq!(echo["query"], "a=1");
}

async fn alb_multi_value(function: &Function) {
    let answer = function
        .invoke(to_bytes(events::alb("/echo/alb", true)))
        .await;
    let json = answer.json();
    assert_eq!(json["statusCode"], 200, "{json}");
    assert_eq!(
        json["multiValueHeaders"]["set-cookie"],
        json!(COOKIES),
        "{json}"
    );
    let echo = answer.http().json();
    assert_eq!(echo["query"], "a=1&a=2");
    assert_eq!(joined(&echoed(&echo, "x-rep")), "one,two");
}

async fn websocket_routes(function: &Function) {
    // The table's functions post WebSocket routes to `/echo/ws/<route>`: the echo shows the
    // route and the message exactly as the app received them.
    for (route, body) in [
        ("$connect", ""),
        ("sendMessage", "{\"text\":\"hi\"}"),
        ("$disconnect", ""),
    ] {
        let answer = function
            .invoke(to_bytes(events::websocket(route, body)))
            .await;
        let json = answer.json();
        assert_eq!(json["statusCode"], 200, "{route}: {json}");
        let echo: Value = serde_json::from_str(json["body"].as_str().unwrap_or("null"))
            .unwrap_or_else(|err| panic!("{route}: not the echo ({err}): {json}"));
        // `$connect` is posted to `<prefix>/connect` (the `$` of built-in routes left out).
        let expected = format!("/echo/ws/{}", route.trim_start_matches('$'));
        assert_eq!(echo["path"], expected, "{route}: {echo}");
        assert_eq!(echoed(&echo, "x-websocket-route-key"), [route], "{route}");
        assert_eq!(echo["method"], "POST", "{route}");
        assert_eq!(
            echo["body_base64"],
            base64::engine::general_purpose::STANDARD.encode(body),
            "{route}"
        );
    }
}

fn failed_ids(answer: &Answer) -> Vec<String> {
    let json = answer.json();
    json["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures in {json}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("an id").to_owned())
        .collect()
}

async fn sqs_standard_partial_failure(function: &Function) {
    let event = events::sqs(&[
        ("m1", None, json!("hello")),
        ("m2", None, json!("please fail")),
        ("m3", None, json!("world")),
    ]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["m2"]);
    let all_good = events::sqs(&[("m4", None, json!("a")), ("m5", None, json!("b"))]);
    assert!(failed_ids(&function.invoke(to_bytes(all_good)).await).is_empty());
}

async fn sqs_fifo_group_order(function: &Function) {
    let event = events::sqs(&[
        ("a", Some("g1"), json!("ok")),
        ("b", Some("g1"), json!("fail")),
        ("c", Some("g1"), json!("ok")),
        ("d", Some("g2"), json!("ok")),
    ]);
    assert_eq!(
        failed_ids(&function.invoke(to_bytes(event)).await),
        ["b", "c"]
    );
}

async fn sqs_undecodable_record(function: &Function) {
    // A body that is not a string: the record cannot be decoded, the others are served.
    let event = events::sqs(&[
        ("u1", None, json!("ok")),
        ("u2", None, json!({"not": "a string"})),
        ("u3", None, json!("ok")),
    ]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["u2"]);
}

/// The SQS adapter in batch mode (`sqs-batch`): the whole batch in one request, the app answers
/// for it; an app that fails the batch fails the invocation (nothing is deleted by mistake).
async fn sqs_batch_mode(function: &Function) {
    let adapters = function.target.adapters().replace(",sqs,", ",sqs-batch,");
    let batch = Function::start_with(
        function.target,
        Options {
            env: vec![("SERVERLESS_ADAPTER_ADAPTERS".into(), adapters)],
            ..Options::default()
        },
    )
    .await;
    let failing = events::sqs(&[("b1", None, json!("ok")), ("b2", None, json!("fail"))]);
    let answer = batch.invoke(to_bytes(failing)).await;
    assert_eq!(answer.error_type(), Some("App.ErrorStatus"), "{answer:?}");
    let good = events::sqs(&[("b3", None, json!("ok")), ("b4", None, json!("fine"))]);
    let answer = batch.invoke(to_bytes(good)).await;
    assert_eq!(answer.error_type(), None, "{answer:?}");
    batch.stop().await;
}

async fn sns_message(function: &Function) {
    let ok = function.invoke(to_bytes(events::sns("hello"))).await;
    assert_eq!(ok.error_type(), None, "{ok:?}");
    let failing = function.invoke(to_bytes(events::sns("fail"))).await;
    assert!(failing.error_type().is_some(), "{failing:?}");
}

async fn s3_and_eventbridge(function: &Function) {
    let s3 = function.invoke(to_bytes(events::s3("uploads/a.txt"))).await;
    assert_eq!(s3.error_type(), None, "{s3:?}");
    let bridge = function
        .invoke(to_bytes(events::eventbridge(json!({"order": 1}))))
        .await;
    assert_eq!(bridge.error_type(), None, "{bridge:?}");
    let failing = function
        .invoke(to_bytes(events::eventbridge(json!({"order": "fail"}))))
        .await;
    assert!(failing.error_type().is_some(), "{failing:?}");
}

async fn kinesis_failing_and_undecodable(function: &Function) {
    let ok = events::kinesis_data("ok");
    let failing = events::kinesis_data("fail");
    let event = events::kinesis(&[("100", &ok), ("200", "%%% not base64 %%%"), ("300", &ok)]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["200"]);
    let event = events::kinesis(&[("400", &ok), ("500", &failing), ("600", &ok)]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["500"]);
    let event = events::kinesis(&[("700", &ok), ("800", &ok)]);
    assert!(failed_ids(&function.invoke(to_bytes(event)).await).is_empty());
}

async fn dynamodb_failing_and_undecodable(function: &Function) {
    let image = json!({"id": {"S": "x"}});
    let event = events::dynamodb(&[
        ("1", image.clone()),
        ("2", json!("malformed")),
        ("3", image.clone()),
    ]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["2"]);
    let event = events::dynamodb(&[
        ("4", image.clone()),
        ("5", json!({"note": {"S": "fail"}})),
        ("6", image.clone()),
    ]);
    assert_eq!(failed_ids(&function.invoke(to_bytes(event)).await), ["5"]);
}

async fn malformed_events(function: &Function) {
    for bad in [
        &b"not json"[..],
        b"[1,2,3]",
        b"\"a string\"",
        b"{\"Records\": 5",
    ] {
        let answer = function.invoke(Bytes::copy_from_slice(bad)).await;
        assert_eq!(
            answer.error_type(),
            Some("Event.Malformed"),
            "{:?}: {answer:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let root = function.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "still serving"
    );
}

async fn hostile_events(function: &Function) {
    // A body that claims base64 and is not.
    let mut bad_base64 = events::http_api_v2("POST", "/echo/x", "", &[], b"");
    bad_base64["body"] = json!("%%% not base64 %%%");
    let answer = function.invoke(to_bytes(bad_base64)).await;
    assert_eq!(answer.error_type(), Some("Event.Malformed"), "{answer:?}");
    // 100 000 nested arrays: refused, not a stack overflow.
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let answer = function.invoke(deep).await;
    if function.target.build.is_proxy() {
        // The drop-in's pass-through adapter forwards any other event to `/events` unparsed.
        assert_eq!(answer.json(), json!({"ok": true}));
    } else {
        // Too deep to parse, or of no source's shape: a clear error either way.
        assert!(
            matches!(
                answer.error_type(),
                Some("Event.Malformed" | "Adapter.NoMatch")
            ),
            "{answer:?}"
        );
    }
    // Spoofed request context headers do not reach the app as sent.
    let mut spoofed = events::http_api_v2("GET", "/echo/spoof", "", &[], b"");
    spoofed["headers"]["x-amzn-request-context"] = json!("{\"spoofed\":true}");
    let echo = function.invoke(to_bytes(spoofed)).await.http().json();
    assert!(
        echoed(&echo, "x-amzn-request-context")
            .iter()
            .all(|value| !value.contains("spoofed")),
        "{echo}"
    );
    let root = function.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "still serving"
    );
}

async fn panic_is_reported(function: &Function) {
    let reply = function.get("/panic").await;
    assert!(reply.status >= 500, "{} {}", reply.status, reply.text());
    if !function.target.build.is_proxy() {
        assert_eq!(reply.status, 500);
        assert!(reply.text().contains("App.Panic"), "{}", reply.text());
    }
    let root = function.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "still serving"
    );
}

async fn fail_mid_stream(function: &Function) {
    let event = events::http_api_v2("GET", "/fail-mid-stream", "", &[], b"");
    let answer = function.invoke(to_bytes(event)).await;
    // Over HTTP, `reference-server` (hyper) sends its head with the first chunk, and the body's
    // failure aborts the connection before either leaves: behind the drop-in the app failed
    // before answering, which is a 5xx.
    let app_failed_before_its_head = function.target.build.is_proxy()
        && !matches!(answer, Answer::Error { .. })
        && answer.http().status >= 500;
    if app_failed_before_its_head {
        assert_eq!(function.get("/").await.status, 200, "still serving");
        return;
    }
    match (function.target.mode, function.target.api, &answer) {
        (Mode::Streamed, Api::Emulator, Answer::Streamed { body, error, .. }) => {
            assert_eq!(body, b"partial");
            assert!(error.is_some(), "the failure is reported in trailers");
        }
        (Mode::Streamed, Api::Emulator, other) => panic!("expected a stream, got {other:?}"),
        // cargo-lambda drops the error trailers (as AWS's RIE does): the part sent is all a
        // client of it can see.
        (Mode::Streamed, Api::CargoLambda, Answer::Streamed { body, .. }) => {
            assert_eq!(body, b"partial");
        }
        // Buffered: the answer is an error, or a 5xx, never a 200 with a truncated body.
        (_, _, Answer::Error { .. }) => {}
        (_, _, other) => {
            let http = other.http();
            assert!(
                http.status >= 500,
                "a failed body is not a success: {} {:?}",
                http.status,
                http.text()
            );
        }
    }
    // Through the Function URL the client sees the body end abnormally (streamed) or a 5xx.
    let reply = function.get("/fail-mid-stream").await;
    if function.target.mode == Mode::Streamed && reply.status == 200 {
        assert!(reply.text().starts_with("partial"), "{:?}", reply.text());
        // cargo-lambda ends the client's body cleanly whatever the function reported.
        if function.target.api == Api::Emulator {
            assert!(
                reply.error.is_some(),
                "the client can tell the body failed: {reply:?}"
            );
        }
    } else {
        assert!(reply.status >= 500, "{} {:?}", reply.status, reply.text());
    }
    assert_eq!(function.get("/").await.status, 200, "still serving");
}

async fn streams_incrementally(function: &Function) {
    let reply = function
        .get("/stream?chunks=3&interval_ms=400&size=32")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.error.is_none(), "{:?}", reply.error);
    assert_eq!(reply.header_all("content-type"), ["text/event-stream"]);
    let body = reply.text();
    let events: Vec<&str> = body.split_terminator("\n\n").collect();
    assert_eq!(events.len(), 3, "{body:?}");
    // When each event's last byte arrived: the first and the last are two intervals apart
    // (800 ms) when streamed, together when buffered anywhere on the way.
    let mut arrivals = Vec::new();
    for (at, data) in &reply.frames {
        for _ in 0..data.windows(2).filter(|w| w == b"\n\n").count() {
            arrivals.push(*at);
        }
    }
    let spread = arrivals[2].duration_since(arrivals[0]);
    assert!(
        spread >= Duration::from_millis(400),
        "events arrived together ({spread:?} apart): the answer was buffered on the way"
    );
}

async fn binary_body_exact(function: &Function) {
    let reply = function.get("/bytes?size=300001").await;
    assert_eq!(reply.status, 200);
    let body = reply.body();
    assert_eq!(body.len(), 300_001);
    assert!(
        body.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8),
        "byte-exact, no base64 left over"
    );
    let event = events::http_api_v2("GET", "/bytes", "size=70000", &[], b"");
    let http = function.invoke(to_bytes(event)).await.http();
    assert_eq!(http.body.len(), 70_000);
    assert!(http
        .body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == (i % 251) as u8));
}

async fn oversized_buffered_answer(function: &Function) {
    let event = events::http_api_v2("GET", "/bytes", "size=7000000", &[], b"");
    let answer = function.invoke(to_bytes(event)).await;
    match &answer {
        Answer::Error { error_type, .. } => {
            assert_eq!(error_type, "Function.ResponseSizeTooLarge", "{answer:?}")
        }
        other => {
            // The proxy may answer with an HTTP error instead, but never a truncated 200.
            let http = other.http();
            assert!(http.status >= 500, "{} {}", http.status, http.body.len());
        }
    }
    assert_eq!(function.get("/").await.status, 200, "still serving");
}

async fn invocation_id_echoed(function: &Function) {
    let emulator = function.emulator().expect("our emulator");
    let event = events::http_api_v2("GET", "/", "", &[], b"");
    let invocation = serverless_adapter_e2e::bounded(emulator.invoke(to_bytes(event)))
        .await
        .expect("the invocation completes");
    assert!(!invocation.invocation_id.is_empty());
    assert_eq!(
        invocation.echoed_invocation_id.as_deref(),
        Some(invocation.invocation_id.as_str()),
        "the answer echoes Lambda-Runtime-Invocation-Id"
    );
    assert!(invocation.mismatched_invocation_ids.is_empty());
}

/// The function answers before its deadline (4 s) with a timeout of its own, and keeps serving.
fn assert_settled_in_time(answer: &Answer, what: &str) {
    match answer {
        Answer::Error { error_type, .. } => assert_eq!(error_type, "App.Timeout", "{what}"),
        Answer::Streamed {
            error: Some((error_type, _)),
            ..
        } => assert_eq!(error_type, "App.Timeout", "{what}"),
        other => assert_eq!(other.http().status, 504, "{what}: {other:?}"),
    }
}

async fn head_slower_than_deadline(function: &Function) {
    let event = events::http_api_v2("GET", "/sleep", "ms=20000", &[], b"");
    let answer = function.invoke(to_bytes(event)).await;
    assert_settled_in_time(&answer, "head");
    assert_eq!(function.get("/").await.status, 200, "still serving");
}

async fn body_slower_than_deadline(function: &Function) {
    // The head at once, then one event every 500 ms for 20 s.
    let event = events::http_api_v2(
        "GET",
        "/stream",
        "chunks=40&interval_ms=500&size=16",
        &[],
        b"",
    );
    let answer = function.invoke(to_bytes(event)).await;
    assert_settled_in_time(&answer, "body");
    if let Answer::Streamed { body, .. } = &answer {
        assert!(!body.is_empty(), "the part produced in time was streamed");
    }
    assert_eq!(function.get("/").await.status, 200, "still serving");
}

async fn back_pressure_keeps_memory_flat(function: &Function) {
    let pid = function.pid().expect("the function runs");
    let before = peak_rss_kib(pid);
    let size = 20_000_000usize;
    let request = http::Request::get(format!("/bytes?size={size}"))
        .body(Bytes::new())
        .unwrap();
    let reply = function
        .request_paced(request, Pace::Slow(Duration::from_micros(500)), |_| {})
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.error.is_none(), "{:?}", reply.error);
    let body = reply.body();
    assert_eq!(body.len(), size);
    assert!(body.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    let after = peak_rss_kib(pid);
    let grown = after.saturating_sub(before);
    // The whole body would be 19 532 KiB: far below it, the function holds a bounded window.
    let allowed = if function.target.build == Build::Actix {
        12_288
    } else {
        8_192
    };
    assert!(
        grown < allowed,
        "the function's peak RSS grew by {grown} KiB ({before} -> {after}) for a 20 MB stream read slowly"
    );
}

/// SIGTERM to the runtime process mid-invocation: it takes no new invocation, answers the one in
/// flight, then exits by itself; the emulator starts it again for the next invocation.
async fn sigterm_mid_invocation(function: &Function) {
    let pid = function.pid().expect("the function runs");
    let event = events::http_api_v2("GET", "/sleep", "ms=1200", &[], b"");
    let signal = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    let (answer, ()) = tokio::join!(function.invoke(to_bytes(event)), signal);
    let http = answer.http();
    assert_eq!((http.status, http.text().as_str()), (200, "slept"));
    assert!(
        serverless_adapter_e2e::process::wait_gone(pid, Duration::from_secs(20)),
        "the function exits by itself after answering"
    );
    let root = function.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "started again"
    );
}

/// An answer that arrives after the invocation timed out is refused with 410 Gone; the function
/// takes it in its stride and serves the next invocation. Lambda Managed Instances (several
/// invocations at once) do not stop a timed-out invocation's code, and a function told a later
/// deadline than the one enforced answers late: both here.
async fn late_answer_is_refused_with_410(function: &Function) {
    let late = Function::start_with(
        function.target,
        Options {
            timeout: Duration::from_secs(2),
            max_concurrency: 2,
            deadline_skew: Duration::from_secs(20),
            ..Options::default()
        },
    )
    .await;
    let emulator = late.emulator().expect("our emulator");
    let event = events::http_api_v2("GET", "/sleep", "ms=3500", &[], b"");
    let answer = late.invoke(to_bytes(event)).await;
    assert!(
        answer.error_type().is_some(),
        "the invocation timed out: {answer:?}"
    );
    let refused = async {
        while emulator.late_answers() == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    serverless_adapter_e2e::bounded(refused).await;
    let root = late.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "still serving"
    );
    assert_eq!(emulator.init_count(), 1, "no restart was needed");
    late.stop().await;
}

/// `lambda-adapter` supervising an app that never gets ready (readiness path answering 503,
/// timeout 1 s) fails its init; the app it started, and the app's children, end with it —
/// also when Lambda sends SIGTERM while the init is still going (the adapter died of it, and
/// the app in its own process group lived on).
async fn supervisor_init_error_leaves_no_app(function: &Function) {
    supervised_init(function, None).await;
    supervised_init(function, Some(Duration::from_millis(400))).await;
}

async fn supervised_init(function: &Function, sigterm_after: Option<Duration>) {
    use serverless_adapter_e2e::function::cargo_lambda_watch;
    use serverless_adapter_e2e::process::{descendants_of, wait_gone, ChildGuard};
    // A Runtime API of its own, so that nothing else manages the adapter's processes.
    let mut runtime_env: Vec<(String, String)> = Vec::new();
    let mut emulator = None;
    let mut watch = None;
    match function.target.api {
        Api::Emulator => {
            let started = serverless_adapter_emulator::Emulator::builder()
                .quiet(true)
                .start()
                .await
                .expect("a Runtime API starts");
            runtime_env = started.lambda_env();
            emulator = Some(started);
        }
        Api::CargoLambda => {
            let (guard, port) = cargo_lambda_watch();
            runtime_env.push((
                "AWS_LAMBDA_RUNTIME_API".into(),
                format!("http://127.0.0.1:{port}/.rt"),
            ));
            runtime_env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), "_".into()));
            watch = Some(guard);
        }
    }
    let port = serverless_adapter_e2e::ports::free_port();
    let mut command = serverless_adapter_e2e::builds::supervisor(port);
    command
        .envs(runtime_env)
        .env("AWS_LWA_INVOKE_MODE", function.target.mode.setting())
        .env("AWS_LWA_READINESS_CHECK_PATH", "/status/503")
        .env("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "1")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut adapter = ChildGuard::spawn(command);
    let spawned = std::time::Instant::now();
    let mut signalled = false;
    // Everything the adapter starts, seen while it runs.
    let mut started = Vec::new();
    let exit = loop {
        for pid in descendants_of(adapter.id()) {
            if !started.contains(&pid) {
                started.push(pid);
            }
        }
        if let Some(status) = adapter.try_wait() {
            break status;
        }
        if let Some(after) = sigterm_after {
            if !signalled && !started.is_empty() && spawned.elapsed() >= after {
                adapter.signal(libc::SIGTERM);
                signalled = true;
            }
        }
        assert!(
            spawned.elapsed() < Duration::from_secs(30),
            "the adapter is still running 30 s after an init that cannot succeed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(!started.is_empty(), "the adapter started its app");
    if sigterm_after.is_none() {
        assert!(!exit.success(), "an init error is a failed exit: {exit:?}");
    }
    for pid in &started {
        assert!(
            wait_gone(*pid, Duration::from_secs(5)),
            "process {pid} started by the adapter outlived it (SIGTERM: {signalled})"
        );
    }
    drop(watch);
    if let Some(emulator) = emulator {
        emulator.shutdown().await.expect("the Runtime API stops");
    }
}

/// The Runtime API connection is reset while the function waits on `/next`, and (streamed,
/// under our emulator) while an answer streams: the function reconnects and serves the next
/// invocation; the cut stream is reported failed, never complete.
async fn runtime_api_reset(function: &Function) {
    let relayed = Function::start_with(
        function.target,
        Options {
            relay_runtime_api: true,
            ..Options::default()
        },
    )
    .await;
    let relay = relayed.relay().expect("a relay");
    let root = relayed.get("/").await;
    assert_eq!((root.status, root.text().as_str()), (200, "ok"));
    // The function is back on `/next` (and the extension on its event poll) by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = relay.accepted();
    relay.cut();
    let root = relayed.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "served after the reset"
    );
    assert!(relay.accepted() > before, "the function reconnected");

    if let (Mode::Streamed, Some(emulator)) = (function.target.mode, relayed.emulator()) {
        let event = events::http_api_v2(
            "GET",
            "/stream",
            "chunks=10&interval_ms=100&size=16",
            &[],
            b"",
        );
        let cut = async {
            tokio::time::sleep(Duration::from_millis(350)).await;
            relay.cut();
        };
        let (invocation, ()) = tokio::join!(
            serverless_adapter_e2e::bounded(emulator.invoke(to_bytes(event))),
            cut
        );
        let invocation = invocation.expect("the invocation settles");
        match &invocation.outcome {
            serverless_adapter_emulator::Outcome::Streamed(streamed) => {
                assert!(
                    streamed.error.is_some(),
                    "a cut stream is not complete: {streamed:?}"
                )
            }
            serverless_adapter_emulator::Outcome::Error(_) => {}
            other => panic!("a cut stream is not a buffered answer: {other:?}"),
        }
        let root = relayed.get("/").await;
        assert_eq!(
            (root.status, root.text().as_str()),
            (200, "ok"),
            "served after the cut stream"
        );
    }
    relayed.stop().await;
}

/// The process serving the app is killed while its answer streams: the stream is reported
/// failed (never a clean end), and the next invocation is served — by the restarted function,
/// or by the app the supervisor starts again.
async fn app_dies_mid_stream(function: &Function) {
    use serverless_adapter_e2e::process::descendants_of;
    let fresh = Function::start(function.target).await;
    let emulator = fresh.emulator().expect("our emulator");
    let runtime = fresh.pid().expect("the function runs");
    // The app: the supervisor's child, else the function's process itself (in process, or
    // the app that the extension and the exec wrapper proxy to).
    let app = match function.target.build {
        Build::ProxySupervisor => *descendants_of(runtime).first().expect("the app runs"),
        _ => runtime,
    };
    let event = events::http_api_v2(
        "GET",
        "/stream",
        "chunks=20&interval_ms=100&size=16",
        &[],
        b"",
    );
    let kill = async {
        tokio::time::sleep(Duration::from_millis(350)).await;
        serverless_adapter_e2e::process::kill(app as i32, libc::SIGKILL);
    };
    let (invocation, ()) = tokio::join!(
        serverless_adapter_e2e::bounded(emulator.invoke(to_bytes(event))),
        kill
    );
    let invocation = invocation.expect("the invocation settles");
    match &invocation.outcome {
        serverless_adapter_emulator::Outcome::Streamed(streamed) => {
            assert!(
                !streamed.body().is_empty(),
                "the events before the kill were streamed"
            );
            assert!(
                streamed.error.is_some(),
                "a stream cut by a dead app is not complete"
            );
        }
        serverless_adapter_emulator::Outcome::Error(_) => {}
        other => panic!("a stream cut by a dead app is not a buffered answer: {other:?}"),
    }
    let root = fresh.get("/").await;
    assert_eq!(
        (root.status, root.text().as_str()),
        (200, "ok"),
        "served again"
    );
    fresh.stop().await;
}
