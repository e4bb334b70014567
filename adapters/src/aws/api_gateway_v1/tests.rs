use super::*;
use crate::fixtures::aws_fixtures;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use serverless_adapter_core::{Body, RequestContext};

/// Every REST API request fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-apigw-response.json` (an answer, not a request), `example-apigw-custom-auth-*`
/// (authorizer requests and responses), `example-apigw-sam-http-request.json` (an HTTP API
/// payload 2.0 request), `example-apigw-v2-*` and `example-apigw-websocket-*` (other sources).
pub(crate) const FIXTURES: &[&str] = &[
    "example-apigw-request",
    "example-apigw-console-request",
    "example-apigw-console-test-request",
    "example-apigw-restapi-openapi-request",
    "example-apigw-sam-rest-request",
];

fn decode_with(adapter: &dyn Adapter, event: &[u8]) -> HttpExchange {
    let probe = EventProbe::new(event).unwrap();
    assert!(adapter.can_handle(&probe));
    match adapter
        .decode(
            Bytes::copy_from_slice(event),
            &LambdaContext::for_request_id("r"),
        )
        .unwrap()
    {
        Decoded::Http(exchange) => exchange,
        other => panic!("expected an HTTP exchange, got {other:?}"),
    }
}

fn decode_http(event: &[u8]) -> HttpExchange {
    decode_with(&ApiGatewayV1Adapter, event)
}

async fn body_of(request: http::Request<Body>) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

#[tokio::test]
async fn every_rest_request_fixture_maps_field_by_field() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(
        fixtures.len(),
        7,
        "{:?}",
        fixtures.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let exchange = decode_http(&bytes);
        assert!(!exchange.can_stream, "{name}: REST APIs buffer by default");
        let request = exchange.request;
        assert_eq!(request.method().as_str(), json["httpMethod"], "{name}");
        assert_eq!(
            request.uri().path(),
            json["path"],
            "{name}: the path, without the stage"
        );

        let mut expected_query = Vec::new();
        match json["multiValueQueryStringParameters"].as_object() {
            Some(multi) => {
                for (key, values) in multi {
                    for value in values.as_array().unwrap() {
                        expected_query.push((key.clone(), value.as_str().unwrap().to_owned()));
                    }
                }
            }
            None => {
                for (key, value) in json["queryStringParameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    expected_query.push((key.clone(), value.as_str().unwrap().to_owned()));
                }
            }
        }
        assert_eq!(query_pairs(request.uri().query()), expected_query, "{name}");

        match json["multiValueHeaders"].as_object() {
            Some(multi) => {
                for (header, values) in multi {
                    let got: Vec<_> = request.headers().get_all(header.as_str()).iter().collect();
                    let want: Vec<_> = values
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    assert_eq!(got, want, "{name}: header {header}");
                }
            }
            None => {
                for (header, value) in json["headers"].as_object().into_iter().flatten() {
                    let got: Vec<_> = request.headers().get_all(header.as_str()).iter().collect();
                    assert_eq!(got, [value.as_str().unwrap()], "{name}: header {header}");
                }
            }
        }

        let context: serde_json::Value = serde_json::from_str(
            request.headers()["x-amzn-request-context"]
                .to_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(context, json["requestContext"], "{name}");
        let extension = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(extension.source(), "api-gateway-v1");
        assert_eq!(
            extension.parse::<serde_json::Value>().unwrap(),
            json["requestContext"]
        );

        let has_forwarded = json["headers"]
            .as_object()
            .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("x-forwarded-for")));
        if !has_forwarded {
            assert_eq!(
                request.headers()["x-forwarded-for"],
                json["requestContext"]["identity"]["sourceIp"]
                    .as_str()
                    .unwrap(),
                "{name}"
            );
        }

        let body = json["body"].as_str().unwrap_or("");
        assert_eq!(body_of(request).await, body.as_bytes(), "{name}");
    }
}

#[tokio::test]
async fn multi_value_fixture_keeps_every_query_value() {
    let (_, bytes) = aws_fixtures(&["example-apigw-request-multi-value-parameters"]).remove(0);
    let request = decode_http(&bytes).request;
    assert_eq!(request.uri().query(), Some("name=me&name=me2"));
    assert_eq!(request.headers()[header::CONTENT_LENGTH], "13");
}

fn event(extra: &str) -> Vec<u8> {
    format!(
        r#"{{"resource":"/{{proxy+}}","httpMethod":"POST","requestContext":{{"stage":"prod","path":"/prod/x",
        "identity":{{"sourceIp":"203.0.113.9"}}}}{extra}}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn headers_and_queries_keep_every_value() {
    let bytes = event(
        r#","path":"/a b/100%/caf%C3%A9",
        "headers":{"X-Multi":"b","X-Only":"1","Cookie":"s=1; t=2","x-amzn-request-context":"{\"forged\":true}"},
        "multiValueHeaders":{"X-Multi":["a","b"],"x-amzn-request-context":["{\"forged\":true}"]},
        "queryStringParameters":{"q":"c&d","solo":"x"},
        "multiValueQueryStringParameters":{"q":["a b","c&d"],"é":["1"]},
        "body":"AAEC/w==","isBase64Encoded":true"#,
    );
    let request = decode_http(&bytes).request;
    assert_eq!(request.uri().path(), "/a%20b/100%25/caf%C3%A9");
    assert_eq!(
        request.uri().query(),
        Some("q=a%20b&q=c%26d&%C3%A9=1&solo=x")
    );
    let multi: Vec<_> = request.headers().get_all("x-multi").iter().collect();
    assert_eq!(
        multi,
        ["a", "b"],
        "values of headers and multiValueHeaders merged"
    );
    assert_eq!(request.headers()["x-only"], "1");
    assert_eq!(request.headers()["cookie"], "s=1; t=2");
    assert_eq!(request.headers()["x-forwarded-for"], "203.0.113.9");
    let context: Vec<_> = request
        .headers()
        .get_all("x-amzn-request-context")
        .iter()
        .collect();
    assert_eq!(context.len(), 1, "a client's value is overwritten");
    assert!(context[0].to_str().unwrap().contains("\"stage\":\"prod\""));
    assert_eq!(request.headers()[header::CONTENT_LENGTH], "4");
    assert_eq!(&body_of(request).await[..], &[0, 1, 2, 255]);
}

#[test]
fn base_path_and_streaming_options() {
    let adapter = ApiGatewayV1Adapter::configure()
        .base_path("api/")
        .streaming(true);
    for (path, want) in [
        ("/api/users", "/users"),
        ("/api", "/"),
        ("/apiary", "/apiary"),
    ] {
        let exchange = decode_with(&adapter, &event(&format!(r#","path":"{path}""#)));
        assert!(exchange.can_stream);
        assert_eq!(exchange.request.uri().path(), want, "{path}");
    }
    let unchanged = ApiGatewayV1Adapter::configure().base_path("/");
    let exchange = decode_with(&unchanged, &event(r#","path":"/api/users""#));
    assert_eq!(exchange.request.uri().path(), "/api/users");
    assert!(!exchange.can_stream);
    assert_eq!(adapter.name(), "api-gateway-v1");
}

#[test]
fn a_forwarded_for_header_is_kept() {
    let bytes = event(r#","path":"/","headers":{"X-Forwarded-For":"198.51.100.1"}"#);
    let request = decode_http(&bytes).request;
    let got: Vec<_> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .collect();
    assert_eq!(got, ["198.51.100.1"]);
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let cases = [
        event(r#","path":"/","body":"%%","isBase64Encoded":true"#),
        event(r#","path":"/","headers":{"x":"a\r\nb: c"}"#),
        event(r#","path":"/","multiValueHeaders":{"x":["ok","a\nb"]}"#),
        event(r#","path":"/","headers":{"bad name":"x"}"#),
        event(r#","path":7"#),
        br#"{"httpMethod":"G E T","path":"/","requestContext":{}}"#.to_vec(),
        br#"{"httpMethod":"GET","path":"/"}"#.to_vec(),
    ];
    for case in cases {
        let err = ApiGatewayV1Adapter
            .decode(
                Bytes::from(case.clone()),
                &LambdaContext::for_request_id("r"),
            )
            .unwrap_err();
        assert!(
            err.is_malformed_event(),
            "{}: {err}",
            String::from_utf8_lossy(&case)
        );
    }
}

fn encode(response: Response<()>, body: &'static [u8]) -> serde_json::Value {
    let (head, ()) = response.into_parts();
    let bytes = answer::encode(&head, Bytes::from_static(body)).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn answers_keep_every_value() {
    let mut response = Response::builder()
        .status(StatusCode::CREATED)
        .header("content-type", "application/json")
        .header("set-cookie", "a=1; Path=/")
        .header("set-cookie", "b=2; Path=/")
        .header("x-multi", "one")
        .header("x-multi", "two")
        .body(())
        .unwrap();
    response
        .headers_mut()
        .append("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
    let answer = encode(response, br#"{"ok":true}"#);
    assert_eq!(
        answer,
        serde_json::json!({
            "statusCode": 201,
            "headers": {
                "content-type": "application/json",
                "set-cookie": "b=2; Path=/",
                "x-multi": "two",
                "x-latin": "caf\u{fffd}"
            },
            "multiValueHeaders": {
                "content-type": ["application/json"],
                "set-cookie": ["a=1; Path=/", "b=2; Path=/"],
                "x-multi": ["one", "two"],
                "x-latin": ["caf\u{fffd}"]
            },
            "body": "{\"ok\":true}",
            "isBase64Encoded": false
        })
    );
}

#[test]
fn binary_answers_are_base64() {
    let response = Response::builder()
        .header("content-type", "image/png")
        .body(())
        .unwrap();
    let answer = encode(response, &[0, 1, 2, 255]);
    assert_eq!(answer["body"], "AAEC/w==");
    assert_eq!(answer["isBase64Encoded"], true);
    let empty = encode(Response::builder().status(204).body(()).unwrap(), b"");
    assert_eq!(
        empty,
        serde_json::json!({"statusCode":204,"headers":{},"multiValueHeaders":{},"body":"","isBase64Encoded":false})
    );
}

#[test]
fn answers_match_the_response_fixture() {
    let (_, expected) = aws_fixtures(&["example-apigw-response"]).remove(0);
    let expected: serde_json::Value = serde_json::from_slice(&expected).unwrap();
    let mut response = Response::builder().status(200);
    for (name, values) in expected["multiValueHeaders"].as_object().unwrap() {
        for value in values.as_array().unwrap() {
            response = response.header(name.as_str(), value.as_str().unwrap());
        }
    }
    let answer = encode(response.body(()).unwrap(), b"Hello World");
    let lowercase = |field: &str| -> serde_json::Value {
        expected[field]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(answer["statusCode"], expected["statusCode"]);
    assert_eq!(answer["body"], expected["body"]);
    assert_eq!(answer["isBase64Encoded"], false);
    assert_eq!(answer["multiValueHeaders"], lowercase("multiValueHeaders"));
    assert_eq!(answer["headers"], lowercase("headers"));
}

fn accepts(event: &[u8]) -> bool {
    let probe = EventProbe::new(event).unwrap();
    let configured = ApiGatewayV1Adapter::configure().base_path("/api");
    let accepted = ApiGatewayV1Adapter.can_handle(&probe);
    assert_eq!(configured.can_handle(&probe), accepted);
    accepted
}

#[test]
fn the_version_decides_and_null_fields_are_absent() {
    // cargo-lambda's Function URL events are payload 2.0 with an `httpMethod` too
    let cargo_lambda = crate::fixtures::own_fixture("cargo-lambda-function-url-request.json");
    assert!(!accepts(&cargo_lambda));
    assert!(!accepts(&event(r#","version":"2.0""#)));
    assert!(!accepts(&event(r#","version":"0""#)));
    for version in [r#","version":"1.0""#, r#","version":null"#, ""] {
        assert!(accepts(&event(version)), "{version}");
    }
    // null fields of other shapes are absent fields
    assert!(accepts(&event(
        r#","methodArn":null,"type":null,"routeArn":null,"rawPath":null,"Records":null"#
    )));
    let nulls_in_context = br#"{"httpMethod":"GET","path":"/","requestContext":{"elb":null,
        "connectionId":null,"eventType":null,"http":null,"identity":null,"stage":null}}"#;
    assert!(accepts(nulls_in_context));
    let request = decode_http(nulls_in_context).request;
    assert_eq!(request.uri(), "/");
    assert!(!accepts(br#"{"httpMethod":null,"requestContext":{}}"#));
    assert!(!accepts(br#"{"httpMethod":"GET","requestContext":null}"#));
    assert!(!accepts(
        br#"{"httpMethod":"GET","methodArn":"arn:aws:execute-api:x","requestContext":{}}"#
    ));
}
