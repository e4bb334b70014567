use super::*;
use crate::fixtures::aws_fixtures;
use http::{header, Response};
use http_body_util::BodyExt;
use serverless_adapter_core::{Body, RequestContext};

/// Every ALB request fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-alb-lambda-target-response.json` (an answer; it is the expected shape in
/// [`answers_match_the_response_fixture`]).
pub(crate) const FIXTURES: &[&str] = &["example-alb-lambda-target-request-"];

fn decode_http(event: &[u8]) -> HttpExchange {
    let probe = EventProbe::new(event).unwrap();
    assert!(AlbAdapter.can_handle(&probe));
    match AlbAdapter
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

fn encode_for(event: &[u8], response: Response<()>, body: &'static [u8]) -> serde_json::Value {
    let exchange = decode_http(event);
    let (head, ()) = response.into_parts();
    let bytes = exchange
        .encoder
        .encode(&head, Bytes::from_static(body))
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn every_alb_request_fixture_maps_field_by_field() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 2);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let exchange = decode_http(&bytes);
        assert!(!exchange.can_stream, "{name}: ALB never streams");
        let request = exchange.request;
        assert_eq!(request.method().as_str(), json["httpMethod"], "{name}");
        assert_eq!(request.uri().to_string(), "/?key=hello", "{name}");
        let multi = json["multiValueHeaders"].as_object();
        let single = json["headers"].as_object();
        for (header, value) in multi.or(single).unwrap() {
            let got: Vec<_> = request.headers().get_all(header.as_str()).iter().collect();
            let want: Vec<&str> = match value {
                serde_json::Value::Array(values) => {
                    values.iter().map(|v| v.as_str().unwrap()).collect()
                }
                other => vec![other.as_str().unwrap()],
            };
            assert_eq!(got, want, "{name}: header {header}");
        }
        let context = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(context.source(), "alb");
        assert_eq!(
            context.parse::<serde_json::Value>().unwrap(),
            json["requestContext"]
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(
                request.headers()["x-amzn-request-context"]
                    .to_str()
                    .unwrap()
            )
            .unwrap(),
            json["requestContext"]
        );
        let body = json["body"].as_str().unwrap_or("");
        assert_eq!(body_of(request).await, body.as_bytes(), "{name}");
    }
}

const MULTI: &str = r#"{"requestContext":{"elb":{"targetGroupArn":"arn"}},"httpMethod":"POST",
    "path":"/a%20b/c",
    "multiValueQueryStringParameters":{"q":["a%20b","c%26d"],"empty":[""],"%C3%A9":["1"]},
    "multiValueHeaders":{"X-Multi":["a","b"],"Cookie":["s=1; t=2"],"x-amzn-request-context":["forged"]},
    "body":"AAEC/w==","isBase64Encoded":true}"#;

const SINGLE: &str = r#"{"requestContext":{"elb":{"targetGroupArn":"arn"}},"httpMethod":"GET",
    "path":"/x","queryStringParameters":{"q":"a%20b","plus":"1+1"},
    "headers":{"X-Multi":"a,b","Host":"example.com"},"body":"","isBase64Encoded":false}"#;

#[tokio::test]
async fn queries_stay_encoded_and_headers_keep_every_value() {
    let request = decode_http(MULTI.as_bytes()).request;
    assert_eq!(
        request.uri().to_string(),
        "/a%20b/c?q=a%20b&q=c%26d&empty=&%C3%A9=1",
        "ALB's encoding is kept, never encoded again"
    );
    let multi: Vec<_> = request.headers().get_all("x-multi").iter().collect();
    assert_eq!(multi, ["a", "b"]);
    assert_eq!(request.headers()[header::COOKIE], "s=1; t=2");
    let context: Vec<_> = request
        .headers()
        .get_all("x-amzn-request-context")
        .iter()
        .collect();
    assert_eq!(context, [r#"{"elb":{"targetGroupArn":"arn"}}"#]);
    assert_eq!(&body_of(request).await[..], &[0, 1, 2, 255]);

    let request = decode_http(SINGLE.as_bytes()).request;
    assert_eq!(request.uri().to_string(), "/x?q=a%20b&plus=1+1");
    assert_eq!(request.headers()["x-multi"], "a,b");
    assert_eq!(request.headers()["host"], "example.com");
    assert!(!request.headers().contains_key(header::CONTENT_LENGTH));
}

fn fixture_response() -> Response<()> {
    Response::builder()
        .status(200)
        .header(
            "Set-cookie",
            "cookie-name=cookie-value;Domain=myweb.com;Secure;HttpOnly",
        )
        .header("Set-cookie", "cookie-name=cookie-value;Expires=May 8, 2019")
        .header("Content-Type", "application/json")
        .body(())
        .unwrap()
}

#[test]
fn answers_match_the_response_fixture() {
    let (_, expected) = aws_fixtures(&["example-alb-lambda-target-response"]).remove(0);
    let expected: serde_json::Value = serde_json::from_slice(&expected).unwrap();
    let answer = encode_for(MULTI.as_bytes(), fixture_response(), b"Hello from Lambda");
    assert_eq!(answer["statusCode"], expected["statusCode"]);
    assert_eq!(answer["statusDescription"], expected["statusDescription"]);
    assert_eq!(answer["body"], expected["body"]);
    assert_eq!(answer["isBase64Encoded"], expected["isBase64Encoded"]);
    let lowercased: serde_json::Map<String, serde_json::Value> = expected["multiValueHeaders"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    assert_eq!(
        answer["multiValueHeaders"],
        serde_json::Value::Object(lowercased)
    );
    assert!(
        answer.get("headers").is_none(),
        "multi-value mode mirrors the event"
    );
}

#[test]
fn single_value_answers_join_values() {
    let response = Response::builder()
        .status(404)
        .header("x-multi", "one")
        .header("x-multi", "two")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .header("transfer-encoding", "chunked")
        .header("content-type", "application/octet-stream")
        .body(())
        .unwrap();
    let answer = encode_for(SINGLE.as_bytes(), response, &[0, 255]);
    assert_eq!(
        answer,
        serde_json::json!({
            "statusCode": 404,
            "statusDescription": "404 Not Found",
            "headers": {"x-multi": "one, two", "set-cookie": "b=2", "content-type": "application/octet-stream"},
            "body": "AP8=",
            "isBase64Encoded": true
        })
    );
    let odd = Response::builder().status(599).body(()).unwrap();
    assert_eq!(
        encode_for(SINGLE.as_bytes(), odd, b"")["statusDescription"],
        "599"
    );
}

#[test]
fn malformed_events_are_errors_not_panics() {
    let cases = [
        r#"{"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","body":"%%","isBase64Encoded":true}"#,
        r#"{"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","headers":{"x":"a\nb"}}"#,
        r#"{"requestContext":{"elb":{}},"httpMethod":"G T","path":"/"}"#,
        r#"{"requestContext":{"elb":{}},"httpMethod":"GET","path":"/","multiValueHeaders":{"x":"notalist"}}"#,
    ];
    for case in cases {
        let err = AlbAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
    }
}

#[test]
fn the_version_decides_and_null_fields_are_absent() {
    let accepts = |event: &str| AlbAdapter.can_handle(&EventProbe::new(event.as_bytes()).unwrap());
    let alb = r#""httpMethod":"GET","path":"/","requestContext":{"elb":{"targetGroupArn":"arn"}}"#;
    assert!(accepts(&format!("{{{alb}}}")));
    assert!(accepts(&format!(
        r#"{{{alb},"version":null,"methodArn":null}}"#
    )));
    assert!(!accepts(&format!(r#"{{{alb},"version":"2.0"}}"#)));
    // a REST event whose requestContext says "elb": null is no ALB event
    assert!(!accepts(
        r#"{"httpMethod":"GET","path":"/","requestContext":{"elb":null,"stage":"prod"}}"#
    ));
    assert!(!accepts(
        r#"{"httpMethod":null,"requestContext":{"elb":{}}}"#
    ));
    let cargo_lambda = crate::fixtures::own_fixture("cargo-lambda-function-url-request.json");
    assert!(!AlbAdapter.can_handle(&EventProbe::new(&cargo_lambda).unwrap()));
}
