//! Hostile events against every adapter, through the public API: whatever arrives, the probe
//! and `decode` never panic, and an event HTTP cannot carry is a clear `Event.Malformed`, while
//! requests built from tricky but valid events are safe to forward (no smuggling, no host
//! change, no spoofed context).

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use serverless_adapter_adapters::*;
use serverless_adapter_core::{
    Adapter, Body, Decoded, Error, EventProbe, LambdaContext, RequestContext,
};

type Request = http::Request<Body>;

/// Every adapter, the pass-through one last, the way `register_all` adds them.
fn adapters() -> Vec<Box<dyn Adapter>> {
    let mut all = event_adapters();
    all.push(Box::new(PassThroughAdapter));
    all
}

/// What the core does with an event: probe it, pick the first adapter that takes it, decode.
fn route(event: &[u8]) -> Result<(String, Decoded), Error> {
    let probe = EventProbe::new(event)?;
    let all = adapters();
    let adapter = all
        .iter()
        .find(|adapter| adapter.can_handle(&probe))
        .ok_or_else(|| Error::no_adapter(all.iter().map(|a| a.name())))?;
    let name = adapter.name().to_owned();
    adapter
        .decode(
            Bytes::copy_from_slice(event),
            &LambdaContext::for_request_id("r"),
        )
        .map(|decoded| (name, decoded))
}

/// Asks every adapter (not only the first taker) and decodes with each one that takes the
/// event: none may panic, and every refusal is a malformed-event or adapter error.
fn every_adapter_survives(event: &[u8]) {
    let Ok(probe) = EventProbe::new(event) else {
        return;
    };
    for adapter in adapters() {
        if adapter.can_handle(&probe) {
            if let Err(error) = adapter.decode(
                Bytes::copy_from_slice(event),
                &LambdaContext::for_request_id("r"),
            ) {
                assert!(
                    error.is_malformed_event() || error.is_adapter(),
                    "{}: unexpected error kind {} ({})",
                    adapter.name(),
                    error.error_type(),
                    error.message()
                );
            }
        }
    }
}

fn malformed(event: &[u8]) -> Error {
    every_adapter_survives(event);
    match route(event) {
        Ok((name, decoded)) => panic!(
            "{:?} was accepted by {name}: {decoded:?}",
            String::from_utf8_lossy(&event[..event.len().min(200)])
        ),
        Err(error) => {
            assert_eq!(error.error_type(), "Event.Malformed", "{}", error.message());
            assert!(!error.message().is_empty());
            error
        }
    }
}

fn http_request(event: &[u8]) -> (String, Request) {
    every_adapter_survives(event);
    match route(event) {
        Ok((name, Decoded::Http(exchange))) => (name, exchange.request),
        Ok((name, other)) => panic!("{name} made {other:?}"),
        Err(error) => panic!("{}: {}", error.error_type(), error.message()),
    }
}

async fn body_of(request: Request) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

/// A Function URL event (payload 2.0).
fn url_event(path: &str, headers: Value, body: Option<&str>, base64: bool) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "domainName": "abc.lambda-url.us-east-1.on.aws", "requestId": "r",
            "http": {"method": "POST", "path": path, "sourceIp": "127.0.0.1"}
        },
        "body": body, "isBase64Encoded": base64
    })
}

/// An API Gateway REST (payload 1.0) event.
fn rest_event(path: &str, headers: Value, multi: Value) -> Value {
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": multi,
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "POST", "stage": "prod",
            "requestId": "r", "identity": {"sourceIp": "127.0.0.1"}},
        "body": "x", "isBase64Encoded": false
    })
}

/// An ALB event.
fn alb_event(path: &str, headers: Value) -> Value {
    json!({
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
        "httpMethod": "POST", "path": path, "queryStringParameters": {},
        "headers": headers, "body": "x", "isBase64Encoded": false
    })
}

fn bytes_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[test]
fn not_json_and_wrong_shapes_are_malformed() {
    for event in [
        &b""[..],
        b"not json",
        b"{",
        b"{\"a\":1} trailing",
        b"[1,2,3]",
        b"\"a string\"",
        b"42",
        b"null",
        b"true",
        b"\xff\xfe\x00garbage",
    ] {
        let error = malformed(event);
        assert!(
            error.message().contains("not a JSON object"),
            "{event:?}: {}",
            error.message()
        );
    }
}

#[test]
fn wrong_field_types_are_malformed_for_each_source() {
    let events = [
        // Function URL: rawPath a number, headers an array, body an object.
        json!({"version": "2.0", "rawPath": 5, "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}}),
        json!({"version": "2.0", "rawPath": "/", "headers": ["a"], "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}}),
        json!({"version": "2.0", "rawPath": "/", "body": {"x": 1}, "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}}),
        json!({"version": "2.0", "rawPath": "/", "requestContext": {"domainName": "x.lambda-url.us-east-1.on.aws", "http": {"method": "NOT A METHOD"}}}),
        // REST: headers of numbers.
        json!({"resource": "/", "path": "/", "httpMethod": "GET", "headers": {"a": 1}, "requestContext": {"resourcePath": "/", "httpMethod": "GET", "stage": "p"}}),
        // SQS: a message id that is not a string (an undecodable record that cannot be
        // reported; see `undecodable_records_fail_only_themselves`).
        json!({"Records": [{"eventSource": "aws:sqs", "messageId": 7, "body": "x"}]}),
        // Kinesis: a record without a sequence number, and data that is not base64.
        json!({"Records": [{"eventSource": "aws:kinesis", "eventID": "1", "kinesis": {"data": "%%%", "partitionKey": "k"}}]}),
        // DynamoDB: dynamodb a string.
        json!({"Records": [{"eventSource": "aws:dynamodb", "eventID": "1", "eventName": "INSERT", "dynamodb": "x"}]}),
        // SNS: Sns an array.
        json!({"Records": [{"EventSource": "aws:sns", "Sns": []}]}),
    ];
    for event in &events {
        let bytes = bytes_of(event);
        every_adapter_survives(&bytes);
        match route(&bytes) {
            Err(error) => assert!(
                error.is_malformed_event(),
                "{event}: {} {}",
                error.error_type(),
                error.message()
            ),
            // The pass-through adapter takes any object it is handed: then the event was no
            // other source's, and it goes to the app as it is.
            Ok((name, _)) => assert_eq!(name, "pass-through", "{event}"),
        }
    }
}

/// A record of the wrong shape that still has its identifier is no malformed event: it fails
/// alone, reported in `batchItemFailures`, and never reaches the app.
#[test]
fn undecodable_records_fail_only_themselves() {
    let cases = [
        (
            json!({"Records": [{"eventSource": "aws:sqs", "messageId": "1", "body": 5}]}),
            "1",
        ),
        (
            json!({"Records": [{"eventSource": "aws:kinesis", "eventID": "1", "kinesis": {"data": "%%%", "sequenceNumber": "49", "partitionKey": "k"}}]}),
            "49",
        ),
        (
            json!({"Records": [{"eventSource": "aws:dynamodb", "eventName": ["INSERT"], "dynamodb": {"SequenceNumber": "111"}}]}),
            "111",
        ),
    ];
    for (event, id) in cases {
        let bytes = bytes_of(&event);
        every_adapter_survives(&bytes);
        let Ok((_, Decoded::Batch(batch))) = route(&bytes) else {
            panic!("{event} is a batch");
        };
        assert!(batch.items.is_empty(), "{event}: nothing reaches the app");
        let answer = batch.settle.settle(Vec::new()).unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": id}]}),
            "{event}"
        );
    }
}

#[test]
fn huge_numbers_never_panic() {
    for number in [
        "1e400",
        "-1e400",
        "18446744073709551616000000000000",
        "123456789012345678901234567890.5e-10",
    ] {
        let events = [
            format!(
                r#"{{"version":"2.0","rawPath":"/","requestContext":{{"domainName":"x.lambda-url.us-east-1.on.aws","timeEpoch":{number},"http":{{"method":"GET"}}}}}}"#
            ),
            format!(
                r#"{{"Records":[{{"eventSource":"aws:sqs","messageId":"1","body":"x","attributes":{{"SentTimestamp":{number}}}}}]}}"#
            ),
            format!(
                r#"{{"Records":[{{"eventSource":"aws:dynamodb","eventID":"1","eventName":"INSERT","dynamodb":{{"SequenceNumber":"1","ApproximateCreationDateTime":{number}}}}}]}}"#
            ),
            format!(r#"{{"anything":{number}}}"#),
        ];
        for event in &events {
            every_adapter_survives(event.as_bytes());
            // Either a clear error or a request; the point is no panic and no abort.
            if let Err(error) = route(event.as_bytes()) {
                assert!(error.is_malformed_event(), "{event}: {}", error.message());
            }
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let brackets = "[".repeat(100_000);
    malformed(brackets.as_bytes());
    let objects = "{\"a\":".repeat(100_000);
    malformed(objects.as_bytes());
    // Nested inside an otherwise valid event of each kind.
    for prefix in [
        r#"{"version":"2.0","rawPath":"/","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"GET"}},"body":"#,
        r#"{"Records":[{"eventSource":"aws:sqs","messageId":"1","body":"x","messageAttributes":"#,
        r#"{"source":"aws.events","detail-type":"x","detail":"#,
    ] {
        malformed(nested_in(prefix).as_bytes());
    }
    // Valid JSON that no source claims goes to the pass-through adapter untouched: it is
    // posted as it is, never parsed into a tree, so the depth costs nothing.
    let event = nested_in(r#"{"nested":"#);
    match route(event.as_bytes()).unwrap() {
        (name, Decoded::Batch(batch)) => {
            assert_eq!(name, "pass-through");
            assert_eq!(
                batch.items[0].request.headers()[CONTENT_LENGTH],
                event.len().to_string().as_str()
            );
        }
        (name, other) => panic!("{name}: {other:?}"),
    }
}

/// `prefix` followed by 100 000 nested arrays and the closing brace.
fn nested_in(prefix: &str) -> String {
    let mut event = String::from(prefix);
    event.push_str(&"[".repeat(100_000));
    event.push_str(&"]".repeat(100_000));
    event.push('}');
    event
}

#[test]
fn invalid_base64_bodies_are_malformed() {
    for body in ["%%%", "abc", "YWJj=x", "Zm9v\u{0}"] {
        let error = malformed(&bytes_of(&url_event("/", json!({}), Some(body), true)));
        assert!(error.message().contains("base64"), "{}", error.message());
    }
    let mut rest = rest_event("/", json!({}), json!({}));
    rest["body"] = json!("%%%");
    rest["isBase64Encoded"] = json!(true);
    malformed(&bytes_of(&rest));
    let mut alb = alb_event("/", json!({}));
    alb["body"] = json!("%%%");
    alb["isBase64Encoded"] = json!(true);
    malformed(&bytes_of(&alb));
}

#[test]
fn header_names_and_values_with_cr_lf_or_nul_are_rejected() {
    let bad_values = [
        "a\r\nx-injected: 1",
        "a\nb",
        "a\rb",
        "a\u{0}b",
        "ok\r\n\r\nGET /admin HTTP/1.1",
    ];
    let bad_names = ["x-a\r\nx-b", "x\u{0}", "bad name", "x:y", ""];
    let mut events = Vec::new();
    for value in bad_values {
        events.push(url_event("/", json!({ "x-a": value }), None, false));
        events.push(rest_event("/", json!({ "x-a": value }), json!({})));
        events.push(rest_event("/", json!({}), json!({ "x-a": ["ok", value] })));
        events.push(alb_event("/", json!({ "x-a": value })));
        events.push(url_event("/", json!({ "cookie": value }), None, false));
    }
    for name in bad_names {
        events.push(url_event("/", json!({ name: "v" }), None, false));
        events.push(rest_event("/", json!({ name: "v" }), json!({})));
        events.push(alb_event("/", json!({ name: "v" })));
    }
    for event in &events {
        let error = malformed(&bytes_of(event));
        assert!(error.message().contains("header"), "{}", error.message());
    }
    // Cookies of a Function URL event travel in `cookies`: checked the same way.
    let mut cookies = url_event("/", json!({}), None, false);
    cookies["cookies"] = json!(["a=1", "b=2\r\nx-injected: 1"]);
    malformed(&bytes_of(&cookies));
}

#[tokio::test]
async fn conflicting_content_length_and_transfer_encoding_are_never_forwarded() {
    let smuggled = "hello\r\n\r\nGET /admin HTTP/1.1\r\nhost: internal\r\n\r\n";
    let headers = json!({
        "content-length": "5",
        "transfer-encoding": "chunked",
        "host": "abc.lambda-url.us-east-1.on.aws"
    });
    let mut rest = rest_event(
        "/x",
        headers.clone(),
        json!({"content-length": ["5", "6"], "transfer-encoding": ["chunked", "identity"]}),
    );
    rest["body"] = json!(smuggled);
    let mut alb = alb_event("/x", headers.clone());
    alb["body"] = json!(smuggled);
    for event in [url_event("/x", headers, Some(smuggled), false), rest, alb] {
        let (name, request) = http_request(&bytes_of(&event));
        assert!(
            !request.headers().contains_key(TRANSFER_ENCODING),
            "{name}: {:?}",
            request.headers()
        );
        let lengths: Vec<_> = request.headers().get_all(CONTENT_LENGTH).iter().collect();
        assert_eq!(
            lengths,
            [smuggled.len().to_string().as_str()],
            "{name}: one content-length, the body's own"
        );
        assert_eq!(
            body_of(request).await,
            smuggled,
            "{name}: the body is whole"
        );
    }
}

#[test]
fn dot_segments_and_absolute_urls_never_become_an_authority() {
    for path in [
        "/../../etc/passwd",
        "/a/../../b",
        "http://evil/x",
        "https://evil:443/x?y=1",
        "//evil/x",
        "..",
        "/%2e%2e/x",
        "\\\\evil\\x",
    ] {
        for event in [
            url_event(
                path,
                json!({"host": "abc.lambda-url.us-east-1.on.aws"}),
                None,
                false,
            ),
            rest_event(path, json!({"host": "api.example.com"}), json!({})),
            alb_event(path, json!({"host": "lb.example.com"})),
        ] {
            let (name, request) = http_request(&bytes_of(&event));
            let uri = request.uri();
            assert!(
                uri.scheme().is_none() && uri.authority().is_none(),
                "{name}: {path:?} became {uri}"
            );
            assert!(uri.path().starts_with('/'), "{name}: {uri}");
            let host = request.headers().get(HOST).map(|h| h.to_str().unwrap());
            assert_ne!(host, Some("evil"), "{name}: {path:?}");
        }
    }
}

#[test]
fn a_seven_megabyte_event_is_decoded_or_refused_without_panicking() {
    let big = "a".repeat(7 * 1024 * 1024);
    let (_, request) = http_request(&bytes_of(&url_event("/big", json!({}), Some(&big), false)));
    assert_eq!(
        request.headers()[CONTENT_LENGTH],
        big.len().to_string().as_str()
    );
    let records: Vec<Value> = (0..7)
        .map(|i| json!({"eventSource": "aws:sqs", "messageId": i.to_string(), "body": "b".repeat(1024 * 1024)}))
        .collect();
    let event = bytes_of(&json!({ "Records": records }));
    assert!(event.len() > 7_000_000);
    every_adapter_survives(&event);
    match route(&event).unwrap() {
        (name, Decoded::Batch(batch)) => {
            assert_eq!(name, "sqs");
            assert_eq!(batch.items.len(), 7);
        }
        (name, other) => panic!("{name}: {other:?}"),
    }
}

#[test]
fn client_sent_context_headers_never_replace_the_trusted_context() {
    let headers = json!({
        "x-amzn-request-context": "{\"spoofed\":true}",
        "x-amzn-lambda-context": "{\"spoofed\":true}",
    });
    for event in [
        url_event("/", headers.clone(), None, false),
        rest_event("/", headers.clone(), json!({})),
        alb_event("/", headers),
    ] {
        let (name, request) = http_request(&bytes_of(&event));
        let context = request
            .extensions()
            .get::<RequestContext>()
            .unwrap_or_else(|| panic!("{name}: the trusted context is attached"));
        assert_eq!(context.source(), name);
        assert!(
            !context.json().contains("spoofed"),
            "{name}: {}",
            context.json()
        );
    }
}

#[test]
fn event_looking_headers_on_http_requests_do_not_make_them_events() {
    // A client can send `host: sqs.amazonaws.com`; it stays an HTTP request.
    let (name, request) = http_request(&bytes_of(&url_event(
        "/sqs",
        json!({"host": "sqs.amazonaws.com", "x-sqs-message-id": "1"}),
        Some("fail"),
        false,
    )));
    assert_eq!(name, "api-gateway-v2");
    assert_eq!(
        request
            .extensions()
            .get::<RequestContext>()
            .unwrap()
            .source(),
        "api-gateway-v2"
    );
}
