//! Events for the suites that feed a function raw events: a Function URL (payload 2.0) request
//! and an API Gateway REST (payload 1.0) request built field by field (hostile shapes need
//! every field in hand), and SQS and SNS batches from the emulator's builders
//! (`serverless_adapter_emulator::events`, which the conformance table uses throughout).

use bytes::Bytes;
use serde_json::{json, Value};
use serverless_adapter_emulator::events::{SnsEvent, SqsEvent};

/// The domain of the Function URL the events come from.
pub const DOMAIN: &str = "abc.lambda-url.us-east-1.on.aws";

/// A Function URL (payload 2.0) event, built field by field; see [`url`].
#[derive(Debug, Clone)]
pub struct UrlEvent(Value);

/// A Function URL event for `method path`: no query, no headers, no body, and the request
/// context Lambda sends (domain [`DOMAIN`], request id `r`, source ip `127.0.0.1`).
pub fn url(method: &str, path: &str) -> UrlEvent {
    UrlEvent(json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "domainName": DOMAIN, "requestId": "r",
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}
        },
        "isBase64Encoded": false
    }))
}

/// `GET path?query` as a Function URL event.
pub fn get(path: &str, query: &str) -> UrlEvent {
    url("GET", path).query(query)
}

impl UrlEvent {
    /// Sets the raw query string (without `?`).
    pub fn query(mut self, query: &str) -> Self {
        self.0["rawQueryString"] = json!(query);
        self
    }

    /// Adds (or replaces) one header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.0["headers"][name] = json!(value);
        self
    }

    /// Replaces every header with `headers` (a JSON object, or anything else a hostile event
    /// may hold).
    pub fn headers(mut self, headers: Value) -> Self {
        self.0["headers"] = headers;
        self
    }

    /// Sets a text body (not base64).
    pub fn body(mut self, body: &str) -> Self {
        self.0["body"] = json!(body);
        self
    }

    /// Sets any other top-level field (`cookies`, `isBase64Encoded`, ...).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.0[name] = value;
        self
    }

    /// The event as JSON.
    pub fn json(&self) -> &Value {
        &self.0
    }

    /// The event's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).expect("an event is JSON")
    }
}

impl From<UrlEvent> for Vec<u8> {
    fn from(event: UrlEvent) -> Self {
        event.to_vec()
    }
}

impl From<UrlEvent> for Bytes {
    fn from(event: UrlEvent) -> Self {
        Bytes::from(event.to_vec())
    }
}

/// An API Gateway REST (payload 1.0) `POST path` event with these single- and multi-value
/// headers (JSON objects) and text body.
pub fn rest(path: &str, headers: Value, multi_value_headers: Value, body: &str) -> Vec<u8> {
    to_vec(&json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": multi_value_headers,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "POST", "stage": "prod",
            "requestId": "rest-r", "identity": {"sourceIp": "127.0.0.1"}},
        "body": body, "isBase64Encoded": false
    }))
}

/// An SQS batch of `(messageId, body)` records from a standard queue (the emulator's builder).
pub fn sqs(records: &[(&str, &str)]) -> Vec<u8> {
    let event = records.iter().fold(
        SqsEvent::new("arn:aws:sqs:us-east-1:123456789012:q"),
        |event, (id, body)| event.message(*id, *body),
    );
    to_vec(&event.build())
}

/// An SNS notification of one record carrying `message` (the emulator's builder).
pub fn sns(message: &str) -> Vec<u8> {
    to_vec(
        &SnsEvent::new("arn:aws:sns:us-east-1:123456789012:t")
            .message("id-1", message)
            .build(),
    )
}

/// The bytes of a JSON event.
pub fn to_vec(event: &Value) -> Vec<u8> {
    serde_json::to_vec(event).expect("an event is JSON")
}
