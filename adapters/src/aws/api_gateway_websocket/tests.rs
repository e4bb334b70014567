use super::*;
use crate::fixtures::aws_fixtures;
use http::{header, Response};
use http_body_util::BodyExt;
use serverless_adapter_core::{Body, RequestContext};

/// Every WebSocket API fixture shipped with `aws_lambda_events`. Left out on purpose:
/// `example-apigw-v2-custom-authorizer-websocket-request.json` (an authorizer request).
pub(crate) const FIXTURES: &[&str] = &["example-apigw-websocket-"];

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

async fn body_of(request: http::Request<Body>) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn every_websocket_fixture_maps_to_a_route_request() {
    let fixtures = aws_fixtures(FIXTURES);
    assert_eq!(fixtures.len(), 3);
    for (name, bytes) in fixtures {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let context = &json["requestContext"];
        let exchange = decode_with(&ApiGatewayWebSocketAdapter, &bytes);
        assert!(!exchange.can_stream);
        let request = exchange.request;
        assert_eq!(request.method(), "POST", "{name}");
        let route = context["routeKey"]
            .as_str()
            .unwrap()
            .trim_start_matches('$');
        assert_eq!(request.uri().path(), format!("/ws/{route}"), "{name}");
        let headers = request.headers();
        assert_eq!(
            headers["x-websocket-connection-id"],
            context["connectionId"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-websocket-route-key"],
            context["routeKey"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-websocket-event-type"],
            context["eventType"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-websocket-domain-name"],
            context["domainName"].as_str().unwrap()
        );
        assert_eq!(
            headers["x-websocket-stage"],
            context["stage"].as_str().unwrap()
        );
        for (header, values) in json["multiValueHeaders"].as_object().unwrap() {
            let got: Vec<_> = headers.get_all(header.as_str()).iter().collect();
            let want: Vec<_> = values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            if header.eq_ignore_ascii_case("x-forwarded-for") || header.eq_ignore_ascii_case("host")
            {
                // the fixture's single-value `headers` differ from its multi-value ones: both kept
                assert_eq!(&got[..want.len()], &want[..], "{name}: {header}");
            } else {
                assert_eq!(got, want, "{name}: {header}");
            }
        }
        let extension = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(extension.source(), "api-gateway-websocket");
        assert_eq!(&extension.parse::<serde_json::Value>().unwrap(), context);
        let header_context: serde_json::Value =
            serde_json::from_str(headers["x-amzn-request-context"].to_str().unwrap()).unwrap();
        assert_eq!(&header_context, context);
        let body = json["body"].as_str().unwrap_or("");
        assert_eq!(body_of(request).await, body.as_bytes(), "{name}");
    }
}

#[test]
fn connect_keeps_the_query_and_disconnect_its_reason() {
    let (_, bytes) = aws_fixtures(&["example-apigw-websocket-request.json"]).remove(0);
    let request = decode_with(&ApiGatewayWebSocketAdapter, &bytes).request;
    assert_eq!(request.uri().to_string(), "/ws/connect?name=me");
    assert!(
        !request.headers().contains_key("x-websocket-message-id"),
        "messageId is null"
    );
    let (_, bytes) = aws_fixtures(&["example-apigw-websocket-request-disconnect-route"]).remove(0);
    let request = decode_with(&ApiGatewayWebSocketAdapter, &bytes).request;
    assert_eq!(request.uri(), "/ws/disconnect");
    assert_eq!(
        request.headers()["x-websocket-disconnect-status-code"],
        "1005"
    );
    assert_eq!(
        request.headers()["x-websocket-disconnect-reason"],
        "Client-side close frame status not set"
    );
}

const MESSAGE: &str = r#"{"requestContext":{"routeKey":"sendmessage","eventType":"MESSAGE",
    "connectionId":"c1","messageId":"m1","domainName":"abc.execute-api.us-east-1.amazonaws.com",
    "stage":"prod","identity":{"sourceIp":"203.0.113.9"}},
    "body":"AAEC/w==","isBase64Encoded":true}"#;

#[tokio::test]
async fn messages_get_host_source_ip_and_binary_bodies() {
    let adapter = ApiGatewayWebSocketAdapter::configure().path_prefix("/socket/");
    let request = decode_with(&adapter, MESSAGE.as_bytes()).request;
    assert_eq!(request.uri(), "/socket/sendmessage");
    assert_eq!(
        request.headers()["host"],
        "abc.execute-api.us-east-1.amazonaws.com"
    );
    assert_eq!(request.headers()["x-forwarded-for"], "203.0.113.9");
    assert_eq!(request.headers()["x-websocket-message-id"], "m1");
    assert_eq!(request.headers()[header::CONTENT_LENGTH], "4");
    assert_eq!(&body_of(request).await[..], &[0, 1, 2, 255]);
}

#[test]
fn clients_cannot_forge_the_connection_headers() {
    let event = r#"{"requestContext":{"routeKey":"$connect","eventType":"CONNECT","connectionId":"real"},
        "headers":{"X-WebSocket-Connection-Id":"forged","x-websocket-message-id":"forged"}}"#;
    let request = decode_with(&ApiGatewayWebSocketAdapter, event.as_bytes()).request;
    let ids: Vec<_> = request
        .headers()
        .get_all("x-websocket-connection-id")
        .iter()
        .collect();
    assert_eq!(ids, ["real"]);
    assert!(!request.headers().contains_key("x-websocket-message-id"));
}

#[test]
fn answers_are_integration_responses() {
    let exchange = decode_with(&ApiGatewayWebSocketAdapter, MESSAGE.as_bytes());
    let (head, ()) = Response::builder()
        .status(200)
        .header("sec-websocket-protocol", "chat")
        .header("content-type", "text/plain")
        .body(())
        .unwrap()
        .into_parts();
    let answer = exchange
        .encoder
        .encode(&head, Bytes::from_static(b"hi"))
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "statusCode": 200,
            "headers": {"sec-websocket-protocol": "chat", "content-type": "text/plain"},
            "multiValueHeaders": {"sec-websocket-protocol": ["chat"], "content-type": ["text/plain"]},
            "body": "hi",
            "isBase64Encoded": false
        })
    );
}

#[test]
fn malformed_events_are_errors_not_panics() {
    for case in [
        r#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":"c","domainName":"a\nb"}}"#,
        r#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":"c"},"body":"%%","isBase64Encoded":true}"#,
        r#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE"}}"#,
    ] {
        let err = ApiGatewayWebSocketAdapter
            .decode(Bytes::from(case), &LambdaContext::for_request_id("r"))
            .unwrap_err();
        assert!(err.is_malformed_event(), "{case}: {err}");
    }
}

#[test]
fn the_version_decides_and_null_fields_are_absent() {
    let accepts = |event: &str| {
        ApiGatewayWebSocketAdapter.can_handle(&EventProbe::new(event.as_bytes()).unwrap())
    };
    let context =
        r#""requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":"c""#;
    assert!(accepts(&format!("{{{context}}}}}")));
    assert!(accepts(&format!(
        r#"{{{context},"elb":null}},"version":null,"methodArn":null,"httpMethod":null}}"#
    )));
    assert!(!accepts(&format!(r#"{{{context}}},"version":"2.0"}}"#)));
    assert!(!accepts(
        r#"{"requestContext":{"routeKey":"$default","eventType":null,"connectionId":"c"}}"#
    ));
    assert!(!accepts(
        r#"{"requestContext":{"routeKey":"$default","eventType":"MESSAGE","connectionId":null}}"#
    ));
    let cargo_lambda = crate::fixtures::own_fixture("cargo-lambda-function-url-request.json");
    assert!(!ApiGatewayWebSocketAdapter.can_handle(&EventProbe::new(&cargo_lambda).unwrap()));
}
