//! Builders for the events AWS services send to a function, shaped as AWS sends them, for
//! [`Emulator::invoke`](crate::Emulator::invoke) and tests of event decoding.
//!
//! Each builder takes the few fields a test cares about and fills in the rest with realistic
//! values (ids, ARNs, timestamps, the headers AWS adds). The result is a
//! [`serde_json::Value`]; `.to_string()` gives the bytes to invoke with.
//!
//! ```
//! use serverless_adapter_emulator::events::{HttpRequest, SqsEvent};
//!
//! // One HTTP request, in every shape an HTTP event source sends it.
//! let request = HttpRequest::post("/echo/a%20b")
//!     .query("x=1&x=2")
//!     .header("x-rep", "one")
//!     .header("x-rep", "two")
//!     .cookie("session=abc")
//!     .binary_body([0u8, 1, 255]);
//! let url = request.function_url();
//! assert_eq!(url["rawQueryString"], "x=1&x=2");
//! assert_eq!(url["queryStringParameters"]["x"], "1,2");
//! assert_eq!(url["headers"]["x-rep"], "one,two");
//! assert_eq!(url["isBase64Encoded"], true);
//! let rest = request.rest_api();
//! assert_eq!(rest["multiValueHeaders"]["x-rep"][1], "two");
//! let alb = request.alb_multi_value();
//! assert_eq!(alb["multiValueQueryStringParameters"]["x"][0], "1");
//!
//! // An SQS batch, standard or FIFO.
//! let event = SqsEvent::new("arn:aws:sqs:us-east-1:123456789012:jobs.fifo")
//!     .fifo_message("m1", "group-a", "ok")
//!     .fifo_message("m2", "group-a", "fail")
//!     .build();
//! assert_eq!(event["Records"][1]["attributes"]["MessageGroupId"], "group-a");
//! let bytes = event.to_string(); // emulator.invoke(bytes)
//! # let _ = bytes;
//! ```
//!
//! Shapes follow what the services send, including where they differ from each other:
//! payload 2.0 joins repeated headers and query values with commas and moves cookies to
//! `cookies`; API Gateway REST (v1) keeps the last value in `headers` and all of them in
//! `multiValueHeaders`, and decodes query values; an ALB lowercases header names, keeps
//! query values percent-encoded as sent, and has either single-value or multi-value fields
//! depending on the target group setting. [`HttpRequest::cargo_lambda_url`] gives the
//! Function URL event of `cargo lambda watch`, which differs from AWS's.

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use crate::util::{epoch_ms, hex, trace_id, uuid, Utc};

/// The account id in ARNs and request contexts.
const ACCOUNT: &str = "123456789012";
/// The region of events built here.
const REGION: &str = "us-east-1";
/// The Function URL id of events built here (32 lowercase letters and digits).
const URL_ID: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6";
/// The API id of API Gateway events built here.
const API_ID: &str = "r3pmxmplak";

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `2024-01-02T12:45:07.123Z`.
fn iso_now() -> String {
    Utc::now().iso()
}

/// `2024-01-02T12:45:07Z` (EventBridge's format: no fraction).
fn iso_seconds_now() -> String {
    let t = Utc::now();
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// The region of an ARN (`arn:aws:service:region:...`), or the default one.
fn region_of(arn: &str) -> String {
    arn.split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or(REGION)
        .to_owned()
}

/// The body of an HTTP event: its text as the event carries it, and the base64 flag.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EventBody {
    text: String,
    base64: bool,
}

/// One HTTP request, rendered as the event of any HTTP event source: a Function URL, an
/// API Gateway HTTP API (payload 2.0), cargo-lambda's Function URL, an API Gateway REST API
/// (payload 1.0), an ALB target group (single-value or multi-value headers).
///
/// Header names keep the case they are given (payload 2.0 and ALB events lowercase them);
/// repeated headers and query parameters are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    cookies: Vec<String>,
    body: Option<EventBody>,
    source_ip: String,
    request_id: Option<String>,
}

impl HttpRequest {
    /// A request with this method and path (`/echo/a%20b`: percent-encoded, as sent on the
    /// wire, without the query).
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        HttpRequest {
            method: method.into().to_ascii_uppercase(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            body: None,
            source_ip: "203.0.113.7".into(),
            request_id: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new("POST", path)
    }

    /// The raw query string, without the `?` (`a=1&a=2&b=x%2By`).
    pub fn query(mut self, raw: impl Into<String>) -> Self {
        self.query = raw.into().trim_start_matches('?').to_owned();
        self
    }

    /// Adds a header; call again with the same name for a repeated header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a cookie (`name=value`), sent as the `Cookie` header (or `cookies` in payload
    /// 2.0).
    pub fn cookie(mut self, cookie: impl Into<String>) -> Self {
        self.cookies.push(cookie.into());
        self
    }

    /// A text body, carried as it is (`isBase64Encoded: false`).
    pub fn body(mut self, text: impl Into<String>) -> Self {
        self.body = Some(EventBody {
            text: text.into(),
            base64: false,
        });
        self
    }

    /// A binary body, carried base64-encoded (`isBase64Encoded: true`).
    pub fn binary_body(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.body = Some(EventBody {
            text: base64(bytes.as_ref()),
            base64: true,
        });
        self
    }

    /// The body exactly as the event carries it, with the base64 flag as given (for bodies
    /// that claim to be base64 and are not, for example).
    pub fn encoded_body(mut self, body: impl Into<String>, is_base64: bool) -> Self {
        self.body = Some(EventBody {
            text: body.into(),
            base64: is_base64,
        });
        self
    }

    /// The client's address (default `203.0.113.7`).
    pub fn source_ip(mut self, ip: impl Into<String>) -> Self {
        self.source_ip = ip.into();
        self
    }

    /// The request id in the request context (default: a fresh one).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    fn rid(&self) -> String {
        self.request_id.clone().unwrap_or_else(uuid)
    }

    fn user_agent(&self) -> String {
        self.header_value("user-agent").unwrap_or_default()
    }

    fn header_value(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The headers AWS adds, unless given.
    fn headers_with(&self, host: &str, port: &str, proto: &str) -> Vec<(String, String)> {
        let mut out = self.headers.clone();
        let defaults = [
            ("host", host.to_owned()),
            ("x-amzn-trace-id", trace_root()),
            ("x-forwarded-for", self.source_ip.clone()),
            ("x-forwarded-port", port.to_owned()),
            ("x-forwarded-proto", proto.to_owned()),
        ];
        for (name, value) in defaults {
            if self.header_value(name).is_none() {
                out.push((name.to_owned(), value));
            }
        }
        out
    }

    /// The query as (name, value) pairs, decoded or as sent.
    fn query_pairs(&self, decode: bool) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if decode {
                    (
                        percent_decode(&k.replace('+', " ")),
                        percent_decode(&v.replace('+', " ")),
                    )
                } else {
                    (k.to_owned(), v.to_owned())
                }
            })
            .collect()
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| self.cookies.join("; "))
    }

    /// Payload 2.0 (shared by Function URLs and HTTP APIs).
    fn payload_v2(&self, context: Value, host: &str) -> Value {
        let mut headers = Map::new();
        for (name, value) in self.headers_with(host, "443", "https") {
            let name = name.to_ascii_lowercase();
            if name == "cookie" {
                continue;
            }
            joined(&mut headers, name, &value);
        }
        let mut query = Map::new();
        for (k, v) in self.query_pairs(true) {
            joined(&mut query, k, &v);
        }
        let mut cookies = self.cookies.clone();
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("cookie") {
                cookies.extend(
                    value
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        let mut event = Map::new();
        event.insert("version".into(), json!("2.0"));
        event.insert("routeKey".into(), json!("$default"));
        event.insert("rawPath".into(), json!(self.path));
        event.insert("rawQueryString".into(), json!(self.query));
        if !cookies.is_empty() {
            event.insert("cookies".into(), json!(cookies));
        }
        event.insert("headers".into(), Value::Object(headers));
        if !query.is_empty() {
            event.insert("queryStringParameters".into(), Value::Object(query));
        }
        event.insert("requestContext".into(), context);
        if let Some(body) = &self.body {
            event.insert("body".into(), json!(body.text));
        }
        event.insert(
            "isBase64Encoded".into(),
            json!(self.body.as_ref().is_some_and(|b| b.base64)),
        );
        Value::Object(event)
    }

    fn http_context(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "protocol": "HTTP/1.1",
            "sourceIp": self.source_ip,
            "userAgent": self.user_agent(),
        })
    }

    /// The Function URL event (payload 2.0), as Lambda sends it.
    pub fn function_url(&self) -> Value {
        let domain = format!("{URL_ID}.lambda-url.{REGION}.on.aws");
        let now = epoch_ms();
        let context = json!({
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": domain,
            "domainPrefix": URL_ID,
            "http": self.http_context(),
            "requestId": self.rid(),
            "routeKey": "$default",
            "stage": "$default",
            "time": Utc::from_epoch_ms(now).clf(),
            "timeEpoch": now,
        });
        self.payload_v2(context, &domain)
    }

    /// The API Gateway HTTP API event (payload 2.0, `$default` route and stage).
    pub fn http_api(&self) -> Value {
        let domain = format!("{API_ID}.execute-api.{REGION}.amazonaws.com");
        let now = epoch_ms();
        let context = json!({
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": API_ID,
            "http": self.http_context(),
            "requestId": format!("{}=", &hex(15)),
            "routeKey": "$default",
            "stage": "$default",
            "time": Utc::from_epoch_ms(now).clf(),
            "timeEpoch": now,
        });
        self.payload_v2(context, &domain)
    }

    /// The Function URL event of `cargo lambda watch`: payload 2.0 with fields of other
    /// shapes mixed in (`httpMethod`, `"methodArn": null`, `"resource": null`,
    /// `"type": null`, `"identitySource": null`, `"authorizationToken": null`,
    /// `"stageVariables": {}`, `"pathParameters": {}`), `"rawQueryString": null` when there
    /// is no query, the path percent-decoded, the `cookie` header kept beside `cookies`, a
    /// request context with `null` account and API ids, and `timeEpoch` in seconds.
    pub fn cargo_lambda_url(&self, function_name: &str) -> Value {
        let mut event = self.function_url();
        let path = percent_decode(&self.path);
        let now = epoch_ms();
        let obj = event.as_object_mut().expect("an object");
        for (k, v) in [
            ("type", Value::Null),
            ("methodArn", Value::Null),
            ("httpMethod", json!(self.method)),
            ("identitySource", Value::Null),
            ("authorizationToken", Value::Null),
            ("resource", Value::Null),
            ("pathParameters", json!({})),
            ("stageVariables", json!({})),
            ("rawPath", json!(path)),
        ] {
            obj.insert(k.into(), v);
        }
        if self.query.is_empty() {
            obj.insert("rawQueryString".into(), Value::Null);
        }
        if let Some(Value::Object(headers)) = obj.get_mut("headers") {
            headers.insert("host".into(), json!("127.0.0.1:9000"));
            for k in ["x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"] {
                if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                    headers.remove(k);
                }
            }
            if let Some(cookie) = self.cookie_header() {
                headers.insert("cookie".into(), json!(cookie));
            }
        }
        obj.insert(
            "requestContext".into(),
            json!({
                "routeKey": "$default",
                "accountId": null,
                "stage": "$default",
                "requestId": self.rid(),
                "apiId": null,
                "domainName": "localhost",
                "domainPrefix": function_name,
                "time": Utc::from_epoch_ms(now).clf(),
                "timeEpoch": now / 1000,
                "http": {
                    "method": self.method,
                    "path": path,
                    "protocol": "http",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "cargo-lambda",
                },
            }),
        );
        event
    }

    /// The API Gateway REST API event (payload 1.0, a `/{proxy+}` resource on stage `prod`):
    /// `headers` with the last value of each header and `multiValueHeaders` with all of
    /// them, decoded `queryStringParameters` (last value) and
    /// `multiValueQueryStringParameters` (`null` without a query), cookies in `Cookie`.
    pub fn rest_api(&self) -> Value {
        let domain = format!("{API_ID}.execute-api.{REGION}.amazonaws.com");
        let mut headers = self.headers_with(&domain, "443", "https");
        if let Some(cookie) = self.cookie_header() {
            headers.push(("Cookie".into(), cookie));
        }
        let (single, multi) = single_and_multi(headers);
        let (query, multi_query) = single_and_multi(self.query_pairs(true));
        let now = epoch_ms();
        let path = percent_decode(&self.path);
        let proxy = path.trim_start_matches('/').to_owned();
        json!({
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": self.method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": null_if_empty(query),
            "multiValueQueryStringParameters": null_if_empty(multi_query),
            "pathParameters": { "proxy": proxy },
            "stageVariables": null,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "domainName": domain,
                "domainPrefix": API_ID,
                "extendedRequestId": format!("{}=", hex(15)),
                "httpMethod": self.method,
                "identity": {
                    "accessKey": null,
                    "accountId": null,
                    "caller": null,
                    "cognitoAuthenticationProvider": null,
                    "cognitoAuthenticationType": null,
                    "cognitoIdentityId": null,
                    "cognitoIdentityPoolId": null,
                    "principalOrgId": null,
                    "sourceIp": self.source_ip,
                    "user": null,
                    "userAgent": self.user_agent(),
                    "userArn": null,
                },
                "path": format!("/prod{path}"),
                "protocol": "HTTP/1.1",
                "requestId": self.rid(),
                "requestTime": Utc::from_epoch_ms(now).clf(),
                "requestTimeEpoch": now,
                "resourceId": hex(6),
                "resourcePath": "/{proxy+}",
                "stage": "prod",
            },
            "body": self.body.as_ref().map(|b| b.text.clone()),
            "isBase64Encoded": self.body.as_ref().is_some_and(|b| b.base64),
        })
    }

    fn alb_event(&self, multi_value: bool) -> Value {
        let host = format!("my-alb-1234567890.{REGION}.elb.amazonaws.com");
        let mut headers: Vec<(String, String)> = self
            .headers_with(&host, "80", "http")
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect();
        if let Some(cookie) = self.cookie_header() {
            headers.push(("cookie".into(), cookie));
        }
        // An ALB passes query parameters on percent-encoded, as the client sent them.
        let query = self.query_pairs(false);
        let mut event = Map::new();
        event.insert(
            "requestContext".into(),
            json!({ "elb": { "targetGroupArn": format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/lambda-tg/6d0ecf831eec9f09"
            ) } }),
        );
        event.insert("httpMethod".into(), json!(self.method));
        event.insert("path".into(), json!(self.path));
        let (single_h, multi_h) = single_and_multi(headers);
        let (single_q, multi_q) = single_and_multi(query);
        if multi_value {
            event.insert("multiValueQueryStringParameters".into(), multi_q);
            event.insert("multiValueHeaders".into(), multi_h);
        } else {
            event.insert("queryStringParameters".into(), single_q);
            event.insert("headers".into(), single_h);
        }
        let body = self.body.clone().unwrap_or(EventBody {
            text: String::new(),
            base64: false,
        });
        event.insert("body".into(), json!(body.text));
        event.insert("isBase64Encoded".into(), json!(body.base64));
        Value::Object(event)
    }

    /// The event of an ALB target group without multi-value headers: lowercase header
    /// names, the last value of repeated headers and query parameters, query values as
    /// sent (percent-encoded), `"body": ""` without a body.
    pub fn alb(&self) -> Value {
        self.alb_event(false)
    }

    /// The event of an ALB target group with multi-value headers enabled:
    /// `multiValueHeaders` and `multiValueQueryStringParameters` instead of the
    /// single-value fields.
    pub fn alb_multi_value(&self) -> Value {
        self.alb_event(true)
    }
}

/// Adds `value` under `name`, joining with a comma if present (payload 2.0).
fn joined(map: &mut Map<String, Value>, name: String, value: &str) {
    match map.get_mut(&name) {
        Some(Value::String(existing)) => {
            existing.push(',');
            existing.push_str(value);
        }
        _ => {
            map.insert(name, json!(value));
        }
    }
}

/// Last-value and all-values maps of (name, value) pairs, names as given.
fn single_and_multi(pairs: Vec<(String, String)>) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), json!(value));
        match multi.get_mut(&name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            _ => {
                multi.insert(name, json!([value]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn null_if_empty(map: Value) -> Value {
    match &map {
        Value::Object(m) if m.is_empty() => Value::Null,
        _ => map,
    }
}

/// `Root=1-...` (the trace header value without parent and sampling).
fn trace_root() -> String {
    trace_id().split(';').next().unwrap_or_default().to_owned()
}

/// What happens on an API Gateway WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSocketEventType {
    /// A client connects (`$connect`).
    Connect,
    /// A client sends a message (`$default` or a custom route).
    Message,
    /// The connection closes (`$disconnect`).
    Disconnect,
}

/// An API Gateway WebSocket API event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketEvent {
    event_type: WebSocketEventType,
    connection_id: String,
    route_key: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
}

impl WebSocketEvent {
    /// A `CONNECT` event (route `$connect`).
    pub fn connect(connection_id: impl Into<String>) -> Self {
        WebSocketEvent {
            event_type: WebSocketEventType::Connect,
            connection_id: connection_id.into(),
            route_key: "$connect".into(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// A `MESSAGE` event with this body (route `$default`).
    pub fn message(connection_id: impl Into<String>, body: impl Into<String>) -> Self {
        WebSocketEvent {
            event_type: WebSocketEventType::Message,
            connection_id: connection_id.into(),
            route_key: "$default".into(),
            body: Some(body.into()),
            headers: Vec::new(),
        }
    }

    /// A `DISCONNECT` event (route `$disconnect`, the client closed without a status).
    pub fn disconnect(connection_id: impl Into<String>) -> Self {
        WebSocketEvent {
            event_type: WebSocketEventType::Disconnect,
            connection_id: connection_id.into(),
            route_key: "$disconnect".into(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// The route key (a custom route such as `sendMessage`).
    pub fn route_key(mut self, route_key: impl Into<String>) -> Self {
        self.route_key = route_key.into();
        self
    }

    /// Adds a handshake header (`CONNECT` and `DISCONNECT` events carry headers).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        let domain = format!("{API_ID}.execute-api.{REGION}.amazonaws.com");
        let now = epoch_ms();
        let event_type = match self.event_type {
            WebSocketEventType::Connect => "CONNECT",
            WebSocketEventType::Message => "MESSAGE",
            WebSocketEventType::Disconnect => "DISCONNECT",
        };
        let mut context = json!({
            "routeKey": self.route_key,
            "eventType": event_type,
            "extendedRequestId": format!("{}=", hex(15)),
            "requestTime": Utc::from_epoch_ms(now).clf(),
            "messageDirection": "IN",
            "stage": "production",
            "connectedAt": now.saturating_sub(1500),
            "requestTimeEpoch": now,
            "identity": { "sourceIp": "203.0.113.7" },
            "requestId": format!("{}=", hex(15)),
            "domainName": domain,
            "connectionId": self.connection_id,
            "apiId": API_ID,
        });
        match self.event_type {
            WebSocketEventType::Message => {
                context["messageId"] = json!(format!("{}=", hex(15)));
            }
            WebSocketEventType::Disconnect => {
                context["disconnectStatusCode"] = json!(1005);
                context["disconnectReason"] = json!("Client-side close frame status not set");
            }
            WebSocketEventType::Connect => {
                context["identity"]["userAgent"] = json!("Mozilla/5.0");
            }
        }
        let mut event = Map::new();
        if self.event_type != WebSocketEventType::Message {
            let mut headers = self.headers.clone();
            let defaults = [
                ("Host", domain.clone()),
                ("Sec-WebSocket-Key", base64(hex(16).as_bytes())),
                ("Sec-WebSocket-Version", "13".to_owned()),
                ("X-Amzn-Trace-Id", trace_root()),
                ("X-Forwarded-For", "203.0.113.7".to_owned()),
                ("X-Forwarded-Port", "443".to_owned()),
                ("X-Forwarded-Proto", "https".to_owned()),
            ];
            for (name, value) in defaults {
                if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    headers.push((name.to_owned(), value));
                }
            }
            let (single, multi) = single_and_multi(headers);
            event.insert("headers".into(), single);
            event.insert("multiValueHeaders".into(), multi);
        }
        event.insert("requestContext".into(), context);
        if let Some(body) = &self.body {
            event.insert("body".into(), json!(body));
        }
        event.insert("isBase64Encoded".into(), json!(false));
        Value::Object(event)
    }
}

/// An SQS event: a batch of messages from a standard or FIFO queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsEvent {
    queue_arn: String,
    records: Vec<Value>,
}

impl SqsEvent {
    /// A batch from the queue with this ARN (`arn:aws:sqs:us-east-1:123456789012:jobs`).
    pub fn new(queue_arn: impl Into<String>) -> Self {
        SqsEvent {
            queue_arn: queue_arn.into(),
            records: Vec::new(),
        }
    }

    /// A message of a standard queue.
    pub fn message(self, id: impl Into<String>, body: impl Into<String>) -> Self {
        self.record(id, None::<String>, body)
    }

    /// A message of a FIFO queue, in a message group (with a deduplication id and a
    /// sequence number, as FIFO queues send).
    pub fn fifo_message(
        self,
        id: impl Into<String>,
        group: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        self.record(id, Some(group), body)
    }

    /// A message, of a FIFO queue's group when `group` is given.
    pub fn record(
        mut self,
        id: impl Into<String>,
        group: Option<impl Into<String>>,
        body: impl Into<String>,
    ) -> Self {
        let id = id.into();
        let body = body.into();
        let sent = epoch_ms();
        let mut attributes = json!({
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent.to_string(),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": (sent + 3).to_string(),
        });
        if let Some(group) = group {
            let n = self.records.len() as u64;
            attributes["MessageGroupId"] = json!(group.into());
            attributes["MessageDeduplicationId"] = json!(md5_hex(id.as_bytes()));
            attributes["SequenceNumber"] = json!(format!(
                "{}",
                18_849_496_460_467_696_128u128 + u128::from(n)
            ));
        }
        self.records.push(json!({
            "messageId": id,
            "receiptHandle": format!("AQEB{}", base64(format!("{id}:{}", hex(24)).as_bytes())),
            "body": body,
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": md5_hex(body.as_bytes()),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": region_of(&self.queue_arn),
        }));
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({ "Records": self.records })
    }
}

/// An SNS event (SNS delivers one message per invocation; more records are allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsEvent {
    topic_arn: String,
    records: Vec<Value>,
}

impl SnsEvent {
    /// Messages of the topic with this ARN (`arn:aws:sns:us-east-1:123456789012:alerts`).
    pub fn new(topic_arn: impl Into<String>) -> Self {
        SnsEvent {
            topic_arn: topic_arn.into(),
            records: Vec::new(),
        }
    }

    /// A notification without a subject.
    pub fn message(self, id: impl Into<String>, message: impl Into<String>) -> Self {
        self.notification(id, None::<String>, message)
    }

    /// A notification, with a subject when given.
    pub fn notification(
        mut self,
        id: impl Into<String>,
        subject: Option<impl Into<String>>,
        message: impl Into<String>,
    ) -> Self {
        let subscription = format!("{}:{}", self.topic_arn, uuid());
        let region = region_of(&self.topic_arn);
        self.records.push(json!({
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription,
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": iso_now(),
                "Signature": base64(hex(64).as_bytes()),
                "SigningCertUrl": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-{}.pem", hex(32)),
                "MessageId": id.into(),
                "Message": message.into(),
                "MessageAttributes": {},
                "Type": "Notification",
                "UnsubscribeUrl": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"),
                "TopicArn": self.topic_arn,
                "Subject": subject.map(Into::into),
            },
        }));
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({ "Records": self.records })
    }
}

/// Characters S3 escapes in the object keys of its events (besides spaces, sent as `+`).
const S3_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b' ');

/// An S3 event notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Event {
    bucket: String,
    records: Vec<Value>,
}

impl S3Event {
    /// Notifications of the bucket with this name.
    pub fn new(bucket: impl Into<String>) -> Self {
        S3Event {
            bucket: bucket.into(),
            records: Vec::new(),
        }
    }

    fn push(mut self, event_name: &str, key: &str, object: Value) -> Self {
        let mut object = object;
        // S3 URL-encodes keys in events, spaces as `+`.
        object["key"] = json!(utf8_percent_encode(key, S3_KEY)
            .to_string()
            .replace(' ', "+"));
        object["sequencer"] = json!(hex(18).to_ascii_uppercase());
        self.records.push(json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": iso_now(),
            "eventName": event_name,
            "userIdentity": { "principalId": "AWS:AIDAINPONIXQXHT3IKHL2" },
            "requestParameters": { "sourceIPAddress": "203.0.113.7" },
            "responseElements": {
                "x-amz-request-id": hex(16).to_ascii_uppercase(),
                "x-amz-id-2": base64(hex(48).as_bytes()),
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "notifications",
                "bucket": {
                    "name": self.bucket,
                    "ownerIdentity": { "principalId": "A3I5XTEXAMAI3E" },
                    "arn": format!("arn:aws:s3:::{}", self.bucket),
                },
                "object": object,
            },
        }));
        self
    }

    /// `ObjectCreated:Put` of `key` (as stored; the event carries it URL-encoded).
    pub fn object_created(self, key: &str, size: u64) -> Self {
        self.push(
            "ObjectCreated:Put",
            key,
            json!({ "size": size, "eTag": md5_hex(key.as_bytes()) }),
        )
    }

    /// `ObjectRemoved:Delete` of `key`.
    pub fn object_removed(self, key: &str) -> Self {
        self.push("ObjectRemoved:Delete", key, json!({}))
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({ "Records": self.records })
    }
}

/// An EventBridge (CloudWatch Events) event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBridgeEvent {
    source: String,
    detail_type: String,
    detail: Value,
    resources: Vec<String>,
}

impl EventBridgeEvent {
    /// An event from `source` (`aws.events`, `com.example.orders`) of `detail_type`
    /// (`Scheduled Event`, `OrderPlaced`) with its `detail` object.
    pub fn new(source: impl Into<String>, detail_type: impl Into<String>, detail: Value) -> Self {
        EventBridgeEvent {
            source: source.into(),
            detail_type: detail_type.into(),
            detail,
            resources: Vec::new(),
        }
    }

    /// A scheduled event of the rule with this name (`detail-type: Scheduled Event`).
    pub fn scheduled(rule: &str) -> Self {
        Self::new("aws.events", "Scheduled Event", json!({}))
            .resource(format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"))
    }

    /// Adds an ARN to `resources`.
    pub fn resource(mut self, arn: impl Into<String>) -> Self {
        self.resources.push(arn.into());
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({
            "version": "0",
            "id": uuid(),
            "detail-type": self.detail_type,
            "source": self.source,
            "account": ACCOUNT,
            "time": iso_seconds_now(),
            "region": REGION,
            "resources": self.resources,
            "detail": self.detail,
        })
    }
}

/// A Kinesis Data Streams event: a batch of records of one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisEvent {
    stream_arn: String,
    records: Vec<Value>,
}

impl KinesisEvent {
    /// Records of the stream with this ARN
    /// (`arn:aws:kinesis:us-east-1:123456789012:stream/telemetry`).
    pub fn new(stream_arn: impl Into<String>) -> Self {
        KinesisEvent {
            stream_arn: stream_arn.into(),
            records: Vec::new(),
        }
    }

    /// A record with this sequence number and data (carried base64-encoded).
    pub fn record(self, sequence_number: impl Into<String>, data: impl AsRef<[u8]>) -> Self {
        let encoded = base64(data.as_ref());
        self.raw_record(sequence_number, encoded)
    }

    /// A record whose `data` field is exactly this text (e.g. not base64, as a broken
    /// producer or a hand-written event has it).
    pub fn raw_record(
        mut self,
        sequence_number: impl Into<String>,
        data: impl Into<String>,
    ) -> Self {
        let sequence_number = sequence_number.into();
        let n = self.records.len();
        let arrival = epoch_ms() as f64 / 1000.0;
        self.records.push(json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": format!("partition-{n}"),
                "sequenceNumber": sequence_number,
                "data": data.into(),
                "approximateArrivalTimestamp": arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000000:{sequence_number}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT}:role/lambda-kinesis-role"),
            "awsRegion": region_of(&self.stream_arn),
            "eventSourceARN": self.stream_arn,
        }));
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({ "Records": self.records })
    }
}

/// A DynamoDB Streams event. Keys and images are in DynamoDB's attribute-value JSON
/// (`{"Id": {"N": "101"}}`).
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoDbEvent {
    stream_arn: String,
    records: Vec<Value>,
}

impl DynamoDbEvent {
    /// Records of the table stream with this ARN
    /// (`arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2024-01-02T00:00:00.000`).
    pub fn new(stream_arn: impl Into<String>) -> Self {
        DynamoDbEvent {
            stream_arn: stream_arn.into(),
            records: Vec::new(),
        }
    }

    fn push(
        mut self,
        event_name: &str,
        sequence_number: String,
        keys: Value,
        old_image: Option<Value>,
        new_image: Option<Value>,
    ) -> Self {
        let mut stream = json!({
            "ApproximateCreationDateTime": epoch_ms() / 1000,
            "Keys": keys,
            "SequenceNumber": sequence_number,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        let mut size = stream["Keys"].to_string().len();
        if let Some(image) = new_image {
            size += image.to_string().len();
            stream["NewImage"] = image;
        }
        if let Some(image) = old_image {
            size += image.to_string().len();
            stream["OldImage"] = image;
        }
        stream["SizeBytes"] = json!(size);
        self.records.push(json!({
            "eventID": hex(32),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": region_of(&self.stream_arn),
            "dynamodb": stream,
            "eventSourceARN": self.stream_arn,
        }));
        self
    }

    /// An `INSERT` record.
    pub fn insert(self, sequence_number: impl Into<String>, keys: Value, new_image: Value) -> Self {
        self.push(
            "INSERT",
            sequence_number.into(),
            keys,
            None,
            Some(new_image),
        )
    }

    /// A `MODIFY` record.
    pub fn modify(
        self,
        sequence_number: impl Into<String>,
        keys: Value,
        old_image: Value,
        new_image: Value,
    ) -> Self {
        self.push(
            "MODIFY",
            sequence_number.into(),
            keys,
            Some(old_image),
            Some(new_image),
        )
    }

    /// A `REMOVE` record.
    pub fn remove(self, sequence_number: impl Into<String>, keys: Value, old_image: Value) -> Self {
        self.push(
            "REMOVE",
            sequence_number.into(),
            keys,
            Some(old_image),
            None,
        )
    }

    /// A malformed record that still has its sequence number (so it can be reported as a
    /// batch item failure): `eventName` is a number and `Keys` a string.
    pub fn malformed_record(mut self, sequence_number: impl Into<String>) -> Self {
        self.records.push(json!({
            "eventID": hex(32),
            "eventName": 7,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": region_of(&self.stream_arn),
            "dynamodb": {
                "Keys": "not a map",
                "SequenceNumber": sequence_number.into(),
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
            "eventSourceARN": self.stream_arn,
        }));
        self
    }

    /// Any record, exactly as given.
    pub fn raw_record(mut self, record: Value) -> Self {
        self.records.push(record);
        self
    }

    /// The event.
    pub fn build(&self) -> Value {
        json!({ "Records": self.records })
    }
}

/// The MD5 digest of `data` in lowercase hex (as in SQS's `md5OfBody`).
fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter()
        .flat_map(|x| x.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Decodes `value` as `T`, through its JSON text (a round trip).
    fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> T {
        serde_json::from_str(&value.to_string()).unwrap_or_else(|e| panic!("{e}: {value:#}"))
    }

    fn sample() -> HttpRequest {
        HttpRequest::post("/echo/a%20b")
            .query("x=1&x=2&y=a%2Bb")
            .header("X-Rep", "one")
            .header("X-Rep", "two")
            .header("content-type", "application/octet-stream")
            .cookie("c1=1")
            .cookie("c2=2")
            .binary_body([0u8, 1, 2, 254, 255])
    }

    #[test]
    fn md5_matches_known_digests() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }

    #[test]
    fn payload_v2_events_decode() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Http {
            method: String,
            path: String,
            protocol: String,
            source_ip: String,
            user_agent: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Context {
            account_id: Option<String>,
            api_id: Option<String>,
            domain_name: String,
            http: Http,
            request_id: String,
            route_key: String,
            stage: String,
            time: String,
            time_epoch: u64,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct V2 {
            version: String,
            route_key: String,
            raw_path: String,
            raw_query_string: Option<String>,
            #[serde(default)]
            cookies: Vec<String>,
            headers: std::collections::HashMap<String, String>,
            #[serde(default)]
            query_string_parameters: std::collections::HashMap<String, String>,
            request_context: Context,
            body: Option<String>,
            is_base64_encoded: bool,
        }
        let request = sample();
        for event in [request.function_url(), request.http_api()] {
            let v2: V2 = decode(&event);
            assert_eq!(v2.version, "2.0");
            assert_eq!(v2.raw_path, "/echo/a%20b");
            assert_eq!(v2.raw_query_string.as_deref(), Some("x=1&x=2&y=a%2Bb"));
            assert_eq!(v2.query_string_parameters["x"], "1,2");
            assert_eq!(v2.query_string_parameters["y"], "a+b");
            assert_eq!(v2.headers["x-rep"], "one,two");
            assert!(!v2.headers.contains_key("cookie"));
            assert_eq!(v2.cookies, ["c1=1", "c2=2"]);
            assert_eq!(v2.request_context.http.method, "POST");
            assert!(v2.is_base64_encoded);
            assert_eq!(v2.body.as_deref(), Some("AAEC/v8="));
        }
        let url = request.function_url();
        assert!(url["requestContext"]["domainName"]
            .as_str()
            .unwrap()
            .ends_with(".lambda-url.us-east-1.on.aws"));
        assert_eq!(url["requestContext"]["accountId"], "anonymous");

        let cargo = HttpRequest::get("/echo/cargo%20lambda")
            .cookie("session=abc")
            .cargo_lambda_url("reference-axum");
        let v2: V2 = decode(&cargo);
        assert_eq!(v2.raw_path, "/echo/cargo lambda");
        assert_eq!(v2.raw_query_string, None);
        assert_eq!(v2.headers["cookie"], "session=abc");
        for (field, value) in [
            ("httpMethod", json!("GET")),
            ("methodArn", Value::Null),
            ("resource", Value::Null),
            ("type", Value::Null),
            ("rawQueryString", Value::Null),
            ("stageVariables", json!({})),
        ] {
            assert_eq!(cargo[field], value, "{field}");
        }
        assert_eq!(cargo["requestContext"]["accountId"], Value::Null);
        assert_eq!(cargo["requestContext"]["domainPrefix"], "reference-axum");
        let with_query = HttpRequest::get("/").query("a=1").cargo_lambda_url("f");
        assert_eq!(with_query["rawQueryString"], "a=1");
    }

    #[test]
    fn aws_lambda_events_decodes_the_api_gateway_shapes() {
        use lambda_http::aws_lambda_events::apigw::{
            ApiGatewayProxyRequest, ApiGatewayV2httpRequest, ApiGatewayWebsocketProxyRequest,
        };
        let request = sample();
        for event in [
            request.function_url(),
            request.http_api(),
            request.cargo_lambda_url("f"),
        ] {
            let v2: ApiGatewayV2httpRequest = decode(&event);
            assert_eq!(v2.request_context.http.method, http::Method::POST);
            assert_eq!(v2.cookies.unwrap().len(), 2);
        }
        let v1: ApiGatewayProxyRequest = decode(&request.rest_api());
        assert_eq!(v1.http_method, http::Method::POST);
        assert_eq!(v1.multi_value_headers.get_all("x-rep").iter().count(), 2);
        for event in [
            WebSocketEvent::connect("c").build(),
            WebSocketEvent::message("c", "hi").build(),
            WebSocketEvent::disconnect("c").build(),
        ] {
            let ws: ApiGatewayWebsocketProxyRequest = decode(&event);
            assert_eq!(ws.request_context.connection_id.as_deref(), Some("c"));
        }
    }

    #[test]
    fn rest_api_event_decodes() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct V1 {
            resource: String,
            path: String,
            http_method: String,
            headers: std::collections::HashMap<String, String>,
            multi_value_headers: std::collections::HashMap<String, Vec<String>>,
            query_string_parameters: Option<std::collections::HashMap<String, String>>,
            multi_value_query_string_parameters:
                Option<std::collections::HashMap<String, Vec<String>>>,
            request_context: Value,
            body: Option<String>,
            is_base64_encoded: bool,
        }
        let v1: V1 = decode(&sample().rest_api());
        assert_eq!(v1.http_method, "POST");
        assert_eq!(v1.path, "/echo/a b");
        assert_eq!(v1.headers["X-Rep"], "two");
        assert_eq!(v1.multi_value_headers["X-Rep"], ["one", "two"]);
        assert_eq!(v1.headers["Cookie"], "c1=1; c2=2");
        let query = v1.query_string_parameters.unwrap();
        assert_eq!(query["x"], "2");
        assert_eq!(query["y"], "a+b");
        assert_eq!(
            v1.multi_value_query_string_parameters.unwrap()["x"],
            ["1", "2"]
        );
        assert!(v1.is_base64_encoded);
        assert_eq!(v1.request_context["httpMethod"], "POST");
        let bare: V1 = decode(&HttpRequest::get("/").rest_api());
        assert!(bare.query_string_parameters.is_none());
        assert!(bare.body.is_none());
    }

    #[test]
    fn alb_events_decode() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Single {
            request_context: Value,
            http_method: String,
            path: String,
            query_string_parameters: std::collections::HashMap<String, String>,
            headers: std::collections::HashMap<String, String>,
            body: String,
            is_base64_encoded: bool,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Multi {
            request_context: Value,
            http_method: String,
            path: String,
            multi_value_query_string_parameters: std::collections::HashMap<String, Vec<String>>,
            multi_value_headers: std::collections::HashMap<String, Vec<String>>,
            body: String,
            is_base64_encoded: bool,
        }
        let single: Single = decode(&sample().alb());
        assert_eq!(single.headers["x-rep"], "two");
        assert_eq!(single.query_string_parameters["y"], "a%2Bb");
        assert!(single.request_context["elb"]["targetGroupArn"].is_string());
        let multi: Multi = decode(&sample().alb_multi_value());
        assert_eq!(multi.multi_value_headers["x-rep"], ["one", "two"]);
        assert_eq!(multi.multi_value_headers["cookie"], ["c1=1; c2=2"]);
        assert_eq!(multi.multi_value_query_string_parameters["x"], ["1", "2"]);
        let empty: Single = decode(&HttpRequest::get("/").alb());
        assert_eq!(empty.body, "");
        assert!(!empty.is_base64_encoded);
    }

    #[test]
    fn websocket_events_decode() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Context {
            route_key: String,
            event_type: String,
            connection_id: String,
            domain_name: String,
            stage: String,
            message_id: Option<String>,
            disconnect_status_code: Option<u16>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Ws {
            #[serde(default)]
            headers: std::collections::HashMap<String, String>,
            request_context: Context,
            body: Option<String>,
            is_base64_encoded: bool,
        }
        let connect: Ws = decode(&WebSocketEvent::connect("c1").header("x-a", "1").build());
        assert_eq!(connect.request_context.event_type, "CONNECT");
        assert_eq!(connect.request_context.route_key, "$connect");
        assert_eq!(connect.headers["x-a"], "1");
        let message: Ws = decode(
            &WebSocketEvent::message("c1", r#"{"action":"send"}"#)
                .route_key("send")
                .build(),
        );
        assert_eq!(message.request_context.event_type, "MESSAGE");
        assert_eq!(message.request_context.route_key, "send");
        assert!(message.request_context.message_id.is_some());
        assert_eq!(message.body.as_deref(), Some(r#"{"action":"send"}"#));
        let disconnect: Ws = decode(&WebSocketEvent::disconnect("c1").build());
        assert_eq!(disconnect.request_context.event_type, "DISCONNECT");
        assert_eq!(
            disconnect.request_context.disconnect_status_code,
            Some(1005)
        );
        assert_eq!(disconnect.request_context.connection_id, "c1");
    }

    #[derive(Deserialize)]
    struct Records<T> {
        #[serde(rename = "Records")]
        records: Vec<T>,
    }

    #[test]
    fn sqs_events_decode() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Message {
            message_id: String,
            receipt_handle: String,
            body: String,
            attributes: std::collections::HashMap<String, String>,
            message_attributes: Value,
            md5_of_body: String,
            event_source: String,
            #[serde(rename = "eventSourceARN")]
            event_source_arn: String,
            aws_region: String,
        }
        let event = SqsEvent::new("arn:aws:sqs:eu-west-1:123456789012:jobs.fifo")
            .message("a", "ok")
            .fifo_message("b", "g1", "fail")
            .build();
        let batch: Records<Message> = decode(&event);
        assert_eq!(batch.records.len(), 2);
        assert_eq!(batch.records[0].message_id, "a");
        assert!(!batch.records[0].attributes.contains_key("MessageGroupId"));
        assert_eq!(batch.records[1].attributes["MessageGroupId"], "g1");
        assert!(batch.records[1].attributes.contains_key("SequenceNumber"));
        assert_eq!(batch.records[1].md5_of_body, md5_hex(b"fail"));
        assert_eq!(batch.records[1].aws_region, "eu-west-1");
        assert_eq!(batch.records[1].event_source, "aws:sqs");
    }

    #[test]
    fn sns_s3_and_eventbridge_events_decode() {
        #[derive(Deserialize)]
        #[allow(dead_code, non_snake_case)]
        struct Sns {
            Type: String,
            MessageId: String,
            TopicArn: String,
            Subject: Option<String>,
            Message: String,
            Timestamp: String,
        }
        #[derive(Deserialize)]
        #[allow(dead_code, non_snake_case)]
        struct SnsRecord {
            EventSource: String,
            Sns: Sns,
        }
        let event = SnsEvent::new("arn:aws:sns:us-east-1:123456789012:alerts")
            .message("m1", "hello")
            .notification("m2", Some("subject"), "again")
            .build();
        let sns: Records<SnsRecord> = decode(&event);
        assert_eq!(sns.records[0].Sns.Message, "hello");
        assert_eq!(sns.records[0].Sns.Subject, None);
        assert_eq!(sns.records[1].Sns.Subject.as_deref(), Some("subject"));

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct S3Record {
            event_name: String,
            s3: Value,
        }
        let event = S3Event::new("uploads")
            .object_created("images/my cat+1.jpg", 1024)
            .object_removed("old.txt")
            .build();
        let s3: Records<S3Record> = decode(&event);
        assert_eq!(s3.records[0].event_name, "ObjectCreated:Put");
        assert_eq!(s3.records[0].s3["object"]["key"], "images/my+cat%2B1.jpg");
        assert_eq!(s3.records[0].s3["object"]["size"], 1024);
        assert_eq!(s3.records[0].s3["bucket"]["arn"], "arn:aws:s3:::uploads");
        assert_eq!(s3.records[1].event_name, "ObjectRemoved:Delete");

        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Eb {
            version: String,
            id: String,
            #[serde(rename = "detail-type")]
            detail_type: String,
            source: String,
            account: String,
            time: String,
            region: String,
            resources: Vec<String>,
            detail: Value,
        }
        let eb: Eb =
            decode(&EventBridgeEvent::new("com.example", "Thing", json!({"a": 1})).build());
        assert_eq!(eb.detail_type, "Thing");
        assert_eq!(eb.detail["a"], 1);
        assert!(eb.time.ends_with('Z'));
        let scheduled: Eb = decode(&EventBridgeEvent::scheduled("nightly").build());
        assert_eq!(scheduled.detail_type, "Scheduled Event");
        assert!(scheduled.resources[0].ends_with(":rule/nightly"));
    }

    #[test]
    fn stream_events_decode() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct KinesisData {
            sequence_number: String,
            partition_key: String,
            data: String,
            approximate_arrival_timestamp: f64,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct KinesisRecord {
            kinesis: KinesisData,
            #[serde(rename = "eventID")]
            event_id: String,
            #[serde(rename = "eventSourceARN")]
            event_source_arn: String,
        }
        let event = KinesisEvent::new("arn:aws:kinesis:us-east-1:123456789012:stream/s")
            .record("1", br#"{"t":21.5}"#)
            .raw_record("2", "%%% not base64")
            .build();
        let kinesis: Records<KinesisRecord> = decode(&event);
        assert_eq!(kinesis.records[0].kinesis.data, "eyJ0IjoyMS41fQ==");
        assert_eq!(kinesis.records[1].kinesis.data, "%%% not base64");
        assert_eq!(kinesis.records[1].event_id, "shardId-000000000000:2");

        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        #[allow(dead_code)]
        struct Stream {
            sequence_number: String,
            keys: std::collections::HashMap<String, Value>,
            new_image: Option<Value>,
            old_image: Option<Value>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct DdbRecord {
            event_name: String,
            dynamodb: Stream,
        }
        let keys = json!({"Id": {"N": "1"}});
        let event = DynamoDbEvent::new("arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x")
            .insert(
                "100",
                keys.clone(),
                json!({"Id": {"N": "1"}, "V": {"S": "a"}}),
            )
            .modify(
                "101",
                keys.clone(),
                json!({"V": {"S": "a"}}),
                json!({"V": {"S": "b"}}),
            )
            .remove("102", keys.clone(), json!({"V": {"S": "b"}}))
            .malformed_record("103")
            .build();
        let records = event["Records"].as_array().unwrap();
        let good: Records<DdbRecord> = decode(&json!({ "Records": records[..3] }));
        assert_eq!(good.records[0].event_name, "INSERT");
        assert!(good.records[1].dynamodb.old_image.is_some());
        assert!(good.records[2].dynamodb.new_image.is_none());
        assert_eq!(good.records[2].dynamodb.sequence_number, "102");
        // The malformed one keeps its sequence number and does not decode.
        assert_eq!(records[3]["dynamodb"]["SequenceNumber"], "103");
        assert!(serde_json::from_value::<DdbRecord>(records[3].clone()).is_err());
    }
}
