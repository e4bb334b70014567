//! Answer encoding: arbitrary status, header names and values, cookies and bodies through
//! every HTTP adapter's buffered answer and the streaming prelude. Whatever the app answers,
//! the answer is JSON with the status, every cookie and the body (byte-exact).
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use serverless_adapter_adapters::{
    AlbAdapter, ApiGatewayV1Adapter, ApiGatewayV2Adapter, ApiGatewayWebSocketAdapter,
};
use serverless_adapter_core::{Adapter, Decoded, LambdaContext};

#[derive(Arbitrary, Debug)]
struct AppAnswer {
    status: u16,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    cookies: Vec<Vec<u8>>,
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
}

const V2: &str = r#"{"version":"2.0","rawPath":"/","rawQueryString":"","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"GET"}}}"#;
const V1: &str = r#"{"resource":"/","path":"/","httpMethod":"GET","requestContext":{"resourcePath":"/","httpMethod":"GET","stage":"p"}}"#;
const V1_MULTI: &str = r#"{"resource":"/","path":"/","httpMethod":"GET","multiValueHeaders":{"a":["1"]},"requestContext":{"resourcePath":"/","httpMethod":"GET","stage":"p"}}"#;
const ALB: &str = r#"{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},"httpMethod":"GET","path":"/","headers":{}}"#;
const ALB_MULTI: &str = r#"{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},"httpMethod":"GET","path":"/","multiValueHeaders":{}}"#;
const WS: &str = r#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":"c","domainName":"x.execute-api.us-east-1.amazonaws.com","stage":"p","apiId":"a"},"body":"m","isBase64Encoded":false}"#;

fn encode(
    adapter: &dyn Adapter,
    event: &str,
    head: &http::response::Parts,
    body: &Bytes,
) -> Option<Value> {
    let decoded = adapter
        .decode(
            Bytes::from(event.to_owned()),
            &LambdaContext::for_request_id("f"),
        )
        .unwrap_or_else(|e| {
            panic!(
                "{}: the fixed event decodes: {}",
                adapter.name(),
                e.message()
            )
        });
    let Decoded::Http(exchange) = decoded else {
        panic!("{}: an HTTP event", adapter.name());
    };
    match exchange.encoder.encode(head, body.clone()) {
        Ok(answer) => Some(serde_json::from_slice(&answer).unwrap_or_else(|e| {
            panic!(
                "{}: not JSON ({e}): {:?}",
                adapter.name(),
                String::from_utf8_lossy(&answer)
            )
        })),
        Err(error) => {
            assert!(!error.message().is_empty());
            None
        }
    }
}

fn answer_body(answer: &Value) -> Vec<u8> {
    let body = answer["body"].as_str().unwrap_or("");
    if answer["isBase64Encoded"] == Value::Bool(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("valid base64 in the answer")
    } else {
        body.as_bytes().to_vec()
    }
}

fuzz_target!(|input: AppAnswer| {
    let Ok(status) = StatusCode::from_u16(input.status) else {
        return;
    };
    let mut builder = Response::builder().status(status);
    let mut cookies = Vec::new();
    for (name, value) in &input.headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            builder = builder.header(name, value);
        }
    }
    for cookie in &input.cookies {
        if let Ok(value) = HeaderValue::from_bytes(cookie) {
            if let Ok(text) = value.to_str() {
                cookies.push(text.to_owned());
            }
            builder = builder.header("set-cookie", value);
        }
    }
    if let Some(Ok(value)) = input.content_type.as_deref().map(HeaderValue::from_bytes) {
        builder = builder.header("content-type", value);
    }
    let head = builder.body(()).unwrap().into_parts().0;
    let body = Bytes::from(input.body);

    let all_cookies: Vec<&HeaderValue> = head.headers.get_all("set-cookie").iter().collect();
    if let Some(answer) = encode(&ApiGatewayV2Adapter, V2, &head, &body) {
        assert_eq!(answer["statusCode"], status.as_u16());
        assert_eq!(answer_body(&answer), body, "v2 body round trip");
        let sent = answer["cookies"].as_array().map_or(0, Vec::len);
        assert_eq!(sent, all_cookies.len(), "every cookie kept: {answer}");
    }
    for (adapter, event) in [
        (&ApiGatewayV1Adapter as &dyn Adapter, V1),
        (&ApiGatewayV1Adapter, V1_MULTI),
        (&AlbAdapter, ALB),
        (&AlbAdapter, ALB_MULTI),
        (&ApiGatewayWebSocketAdapter, WS),
    ] {
        if let Some(answer) = encode(adapter, event, &head, &body) {
            assert_eq!(answer["statusCode"], status.as_u16(), "{}", adapter.name());
            assert_eq!(
                answer_body(&answer),
                body,
                "{} body round trip",
                adapter.name()
            );
        }
    }

    let prelude = serverless_adapter_handlers::encode_prelude(status, &head.headers);
    let prelude: Value = serde_json::from_slice(&prelude).expect("the prelude is JSON");
    assert_eq!(prelude["statusCode"], status.as_u16());
    assert_eq!(
        prelude["cookies"].as_array().unwrap().len(),
        all_cookies.len()
    );
    let _ = cookies;
});
