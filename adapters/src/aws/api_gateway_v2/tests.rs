use super::*;
use crate::fixtures::{aws_fixtures, own_fixture};
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use serverless_adapter_core::{Body, RequestContext};

fn decode_http(event: &[u8]) -> HttpExchange {
    let probe = EventProbe::new(event).unwrap();
    assert!(ApiGatewayV2Adapter.can_handle(&probe));
    match ApiGatewayV2Adapter
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

async fn body_of(request: http::Request<Body>) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn every_aws_v2_request_fixture_maps_field_by_field() {
    let fixtures = aws_fixtures(&["example-apigw-v2-request-"]);
    assert!(fixtures.len() >= 5, "fixtures found: {}", fixtures.len());
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let exchange = decode_http(&bytes);
        assert!(
            !exchange.can_stream,
            "{name}: API Gateway HTTP APIs do not stream"
        );
        let request = exchange.request;
        assert_eq!(
            request.method().as_str(),
            json["requestContext"]["http"]["method"],
            "{name}"
        );
        let query = json["rawQueryString"].as_str().unwrap_or("");
        let expected = if query.is_empty() {
            json["rawPath"].as_str().unwrap().to_owned()
        } else {
            format!("{}?{}", json["rawPath"].as_str().unwrap(), query)
        };
        assert_eq!(request.uri().to_string(), expected, "{name}");
        for (header, value) in json["headers"].as_object().unwrap() {
            let got: Vec<_> = request.headers().get_all(header.as_str()).iter().collect();
            assert_eq!(got, [value.as_str().unwrap()], "{name}: header {header}");
        }
        if let Some(cookies) = json["cookies"].as_array() {
            let joined: Vec<&str> = cookies.iter().map(|c| c.as_str().unwrap()).collect();
            assert_eq!(
                request.headers()[header::COOKIE],
                joined.join("; ").as_str(),
                "{name}"
            );
        }
        let context: serde_json::Value = serde_json::from_str(
            request.headers()["x-amzn-request-context"]
                .to_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(context, json["requestContext"], "{name}");
        let extension = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(extension.source(), "api-gateway-v2");
        assert_eq!(
            extension.parse::<serde_json::Value>().unwrap(),
            json["requestContext"]
        );
        if let Some(ip) = json["requestContext"]["http"]["sourceIp"].as_str() {
            if !json["headers"]
                .as_object()
                .unwrap()
                .contains_key("x-forwarded-for")
            {
                assert_eq!(request.headers()["x-forwarded-for"], ip, "{name}");
            }
        }
        let body = json["body"].as_str().unwrap_or("");
        let got = body_of(request).await;
        if json["isBase64Encoded"] == true {
            use base64::Engine as _;
            assert_eq!(
                got,
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap(),
                "{name}"
            );
        } else {
            assert_eq!(got, body.as_bytes(), "{name}");
        }
    }
}

#[tokio::test]
async fn multi_value_fixture_keeps_raw_query_and_joined_headers() {
    let (_, bytes) = aws_fixtures(&["example-apigw-v2-request-multi-value-parameters"]).remove(0);
    let request = decode_http(&bytes).request;
    assert_eq!(
        request.uri().query(),
        Some("Parameter1=value1&Parameter1=value2")
    );
    assert_eq!(request.headers()["header2"], "value1,value2");
    assert_eq!(request.headers()[header::COOKIE], "cookie1; cookie2");
    assert_eq!(request.headers()[header::CONTENT_LENGTH], "13");
    assert_eq!(body_of(request).await, "{\r\n\t\"a\": 1\r\n}");
}

#[tokio::test]
async fn function_url_events_stream_and_cannot_spoof_the_context() {
    let exchange = decode_http(&own_fixture("lambda-function-url-request.json"));
    assert!(exchange.can_stream);
    let request = exchange.request;
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.uri().to_string(),
        "/echo/a%2Fb%20c?x=1&x=2&empty=&enc=%2F"
    );
    assert_eq!(request.headers()[header::COOKIE], "session=abc; theme=dark");
    assert_eq!(request.headers()["x-forwarded-for"], "203.0.113.9");
    assert_eq!(request.headers()["x-multi"], "one,two");
    let context = request
        .headers()
        .get_all("x-amzn-request-context")
        .iter()
        .collect::<Vec<_>>();
    assert_eq!(context.len(), 1);
    assert!(context[0]
        .to_str()
        .unwrap()
        .starts_with("{\"accountId\":\"anonymous\""));
    assert_eq!(request.headers()[header::CONTENT_LENGTH], "5");
    assert_eq!(&body_of(request).await[..], &[0, 1, 2, 3, 255]);
}

#[test]
fn rejects_other_events_and_authorizer_requests() {
    for (name, bytes) in aws_fixtures(&[
        "example-apigw-v2-custom-authorizer",
        "example-apigw-request",
        "example-sqs-event",
        "example-alb-",
        "example-apigw-websocket",
    ]) {
        let probe = EventProbe::new(&bytes).unwrap();
        assert!(
            !ApiGatewayV2Adapter.can_handle(&probe),
            "{name} must not be taken"
        );
    }
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let cases = [
        r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}},"body":"%%","isBase64Encoded":true}"#,
        r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"G E T"}}}"#,
        r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}},"headers":{"x":"a\r\nb: c"}}"#,
        r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}},"headers":{"bad name":"x"}}"#,
        r#"{"version":"2.0","rawPath":7,"requestContext":{"http":{"method":"GET"}}}"#,
    ];
    for case in cases {
        let err = ApiGatewayV2Adapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
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
            "headers": {"content-type": "application/json", "x-multi": "one, two", "x-latin": "caf\u{fffd}"},
            "cookies": ["a=1; Path=/", "b=2; Path=/"],
            "body": "{\"ok\":true}",
            "isBase64Encoded": false
        })
    );
}

#[test]
fn binary_and_compressed_answers_are_base64() {
    let response = Response::builder()
        .header("content-type", "application/octet-stream")
        .body(())
        .unwrap();
    let answer = encode(response, &[0, 1, 2, 255]);
    assert_eq!(answer["body"], "AAEC/w==");
    assert_eq!(answer["isBase64Encoded"], true);
    assert_eq!(answer["cookies"], serde_json::json!([]));
    let response = Response::builder()
        .header("content-type", "text/html")
        .header("content-encoding", "gzip")
        .body(())
        .unwrap();
    assert_eq!(encode(response, b"x")["isBase64Encoded"], true);
    let empty = encode(Response::builder().status(204).body(()).unwrap(), b"");
    assert_eq!(empty["body"], "");
    assert_eq!(empty["statusCode"], 204);
}

#[test]
fn function_urls_are_told_apart_from_http_apis() {
    for (domain, streams) in [
        ("abc.lambda-url.us-east-1.on.aws", true),
        ("localhost", true),
        ("127.0.0.1:9000", true),
        ("id.execute-api.us-east-1.amazonaws.com", false),
        ("api.example.com", false),
    ] {
        let event = format!(
            r#"{{"version":"2.0","rawPath":"/","requestContext":{{"domainName":"{domain}","http":{{"method":"GET"}}}}}}"#
        );
        assert_eq!(
            decode_http(event.as_bytes()).can_stream,
            streams,
            "{domain}"
        );
    }
}

/// cargo-lambda's emulator (`cargo lambda watch`) sends payload 2.0 events that also carry
/// fields of other shapes (`httpMethod`, `methodArn: null`, `resource: null`...).
const CARGO_LAMBDA: &str = "cargo-lambda-function-url-request.json";

#[tokio::test]
async fn cargo_lambda_function_url_events_are_payload_2_0() {
    let exchange = decode_http(&own_fixture(CARGO_LAMBDA));
    assert!(exchange.can_stream, "a local Function URL streams");
    let request = exchange.request;
    assert_eq!(
        request.method(),
        "POST",
        "the method is requestContext.http.method, not the top-level httpMethod"
    );
    assert_eq!(request.uri().to_string(), "/echo/cargo%20lambda");
    let headers = request.headers();
    assert_eq!(headers[header::COOKIE], "session=abc; theme=dark");
    assert_eq!(headers.get_all(header::COOKIE).iter().count(), 1);
    assert_eq!(headers["x-empty"], "");
    assert_eq!(headers["x-name"].as_bytes(), "café ☕".as_bytes());
    assert_eq!(headers["x-padded"], "  spaced  ");
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    let context: serde_json::Value =
        serde_json::from_slice(headers["x-amzn-request-context"].as_bytes()).unwrap();
    assert_eq!(context["accountId"], serde_json::Value::Null);
    assert_eq!(context["http"]["userAgent"], "cargo-lambda");
    assert_eq!(body_of(request).await, r#"{"hello":"world"}"#);
}

#[tokio::test]
async fn null_fields_of_the_cargo_lambda_shape_read_as_absent() {
    let fixture: serde_json::Value = serde_json::from_slice(&own_fixture(CARGO_LAMBDA)).unwrap();
    let variant = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut event = fixture.clone();
        edit(&mut event);
        decode_http(&serde_json::to_vec(&event).unwrap()).request
    };

    let request = variant(&|e| e["rawQueryString"] = "a=1&b=two%20words".into());
    assert_eq!(request.uri().query(), Some("a=1&b=two%20words"));
    let request = variant(&|e| e["rawQueryString"] = "".into());
    assert_eq!(request.uri().query(), None);
    // without cookies[], the event's cookie header is kept; without headers, cookies[] is
    // joined into one
    for field in ["cookies", "headers"] {
        let request = variant(&|e| e[field] = serde_json::Value::Null);
        assert_eq!(
            request.headers()[header::COOKIE],
            "session=abc; theme=dark",
            "{field}: null"
        );
        assert_eq!(request.headers().contains_key("x-name"), field == "cookies");
    }
    let request = variant(&|e| {
        e["headers"]["x-null"] = serde_json::Value::Null;
        e["headers"]["cookie"] = serde_json::Value::Null;
        e["cookies"] = serde_json::Value::Null;
    });
    assert!(!request.headers().contains_key("x-null"));
    assert!(!request.headers().contains_key(header::COOKIE));
    assert_eq!(request.headers()["x-name"].as_bytes(), "café ☕".as_bytes());

    let request = variant(&|e| {
        e["body"] = serde_json::Value::Null;
        e["isBase64Encoded"] = serde_json::Value::Null;
    });
    assert_eq!(body_of(request).await, "");
    let request = variant(&|e| e["isBase64Encoded"] = serde_json::Value::Null);
    assert_eq!(body_of(request).await, r#"{"hello":"world"}"#);

    let request = variant(&|e| {
        let context = &mut e["requestContext"];
        for field in ["domainName", "domainPrefix", "routeKey", "stage", "time"] {
            context[field] = serde_json::Value::Null;
        }
        context["http"]["sourceIp"] = serde_json::Value::Null;
        context["http"]["path"] = serde_json::Value::Null;
        e["stageVariables"] = serde_json::Value::Null;
        e["pathParameters"] = serde_json::Value::Null;
        e["queryStringParameters"] = serde_json::Value::Null;
    });
    assert_eq!(request.method(), "POST");
    assert!(!request.headers().contains_key("x-forwarded-for"));
}
