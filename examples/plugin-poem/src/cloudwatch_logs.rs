//! A custom event adapter: CloudWatch Logs subscription events, one `POST /logs` per batch.
//!
//! CloudWatch Logs invokes a subscribed function with `{"awslogs": {"data": "..."}}`, where
//! `data` is the base64 of a gzip-compressed JSON document:
//!
//! ```json
//! {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
//!  "logStream": "2026/11/23/[$LATEST]abc", "subscriptionFilters": ["errors"],
//!  "logEvents": [{"id": "3795...", "timestamp": 1763899200000, "message": "..."}]}
//! ```
//!
//! [`CloudWatchLogsAdapter`] decodes it and posts the document, as JSON, to the app
//! (`POST /logs`, headers `x-cloudwatch-log-group`, `x-cloudwatch-log-stream` and
//! `x-cloudwatch-owner`, and a [`RequestContext`] from `cloudwatch-logs` with the batch's
//! owner, group, stream and filters). A 2xx answer ends the invocation with the app's body; any
//! other status, an app error or a panic fails the invocation, so Lambda retries the batch.
//! `CONTROL_MESSAGE`s (CloudWatch checking that the destination is reachable) are answered
//! without calling the app.

use std::borrow::Cow;
use std::io::Read as _;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use serde::Deserialize;
use serverless_adapter_core::registry::Settings;
use serverless_adapter_core::{
    Adapter, Batch, BatchItem, BatchOrder, Body, Decoded, Error, EventProbe, ItemOutcome,
    ItemResult, LambdaContext, RequestContext,
};

/// The name the adapter goes by (in errors, the registry and [`RequestContext::source`]).
pub const NAME: &str = "cloudwatch-logs";
/// Where batches are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/logs";
/// The setting the registered adapter reads its path from.
pub const PATH_SETTING: &str = "SERVERLESS_ADAPTER_CLOUDWATCH_LOGS_PATH";
/// The most decompressed bytes accepted from one event (a guard against gzip bombs; Lambda
/// caps the compressed event at 6 MB, and log data compresses about tenfold).
pub const MAX_DECOMPRESSED: u64 = 64 * 1024 * 1024;

/// Serves CloudWatch Logs subscription events; see the [module](self) documentation.
#[derive(Debug, Clone)]
pub struct CloudWatchLogsAdapter {
    path: Cow<'static, str>,
}

impl Default for CloudWatchLogsAdapter {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl CloudWatchLogsAdapter {
    /// Posts batches to `path` instead of `/logs`.
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }

    /// The adapter with its path from the [`PATH_SETTING`] setting (`/logs` when unset); a
    /// path that does not start with `/` is a configuration error.
    pub fn from_settings(settings: &Settings) -> Result<Self, Error> {
        match settings.get(PATH_SETTING) {
            None => Ok(Self::default()),
            Some(path) if path.starts_with('/') && path.parse::<http::Uri>().is_ok() => {
                Ok(Self::default().path(path))
            }
            Some(path) => Err(Error::config(format!(
                "{PATH_SETTING} must be a path starting with `/`, got {path:?}"
            ))),
        }
    }
}

/// The event as Lambda delivers it.
#[derive(Deserialize)]
struct Event {
    awslogs: AwsLogs,
}

#[derive(Deserialize)]
struct AwsLogs {
    data: String,
}

/// The decompressed document: only what the adapter needs; the app gets all of it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    message_type: String,
    owner: String,
    log_group: String,
    log_stream: String,
    #[serde(default)]
    subscription_filters: Vec<String>,
    log_events: Vec<LogEvent>,
}

#[derive(Deserialize)]
struct LogEvent {
    id: String,
}

impl Adapter for CloudWatchLogsAdapter {
    fn name(&self) -> &str {
        NAME
    }

    /// An object with an `awslogs` object holding `data`.
    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        event
            .object("awslogs")
            .is_some_and(|awslogs| awslogs.has("data"))
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        let event: Event = serde_json::from_slice(&event).map_err(|error| {
            Error::malformed_event(format!("not a CloudWatch Logs event: {error}"))
        })?;
        let document = decompress(&event.awslogs.data)?;
        let parsed: Document = serde_json::from_slice(&document).map_err(|error| {
            Error::malformed_event(format!(
                "the CloudWatch Logs data is not a log document: {error}"
            ))
        })?;
        if parsed.message_type == "CONTROL_MESSAGE" {
            return Ok(Decoded::Batch(Batch {
                items: Vec::new(),
                order: BatchOrder::InOrder,
                settle: Box::new(|_: Vec<ItemOutcome>| Ok(Bytes::from_static(b"null"))),
            }));
        }
        if parsed.message_type != "DATA_MESSAGE" {
            return Err(Error::malformed_event(format!(
                "unknown CloudWatch Logs messageType {:?}",
                parsed.message_type
            )));
        }
        let id = parsed
            .log_events
            .first()
            .map_or_else(|| parsed.log_stream.clone(), |event| event.id.clone());
        let request = self.request(&parsed, Bytes::from(document))?;
        Ok(Decoded::Batch(Batch {
            items: vec![BatchItem {
                id,
                group: None,
                request,
            }],
            order: BatchOrder::InOrder,
            settle: Box::new(settle),
        }))
    }
}

impl CloudWatchLogsAdapter {
    fn request(&self, document: &Document, body: Bytes) -> Result<Request<Body>, Error> {
        let header = |text: &str| {
            HeaderValue::from_str(text).map_err(|_| {
                Error::malformed_event(format!(
                    "the CloudWatch Logs field {text:?} cannot be a header value"
                ))
            })
        };
        let context = serde_json::json!({
            "owner": document.owner,
            "logGroup": document.log_group,
            "logStream": document.log_stream,
            "subscriptionFilters": document.subscription_filters,
        });
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.path.as_ref())
            .body(Body::empty())
            .map_err(|error| Error::adapter(format!("bad request path: {error}")))?;
        let headers = request.headers_mut();
        headers.insert(HOST, HeaderValue::from_static("logs.amazonaws.com"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        headers.insert("x-cloudwatch-log-group", header(&document.log_group)?);
        headers.insert("x-cloudwatch-log-stream", header(&document.log_stream)?);
        headers.insert("x-cloudwatch-owner", header(&document.owner)?);
        request
            .extensions_mut()
            .insert(RequestContext::new(NAME, context.to_string()));
        *request.body_mut() = Body::from(body);
        Ok(request)
    }
}

/// Base64, then gzip, bounded by [`MAX_DECOMPRESSED`].
fn decompress(data: &str) -> Result<Vec<u8>, Error> {
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|error| Error::malformed_event(format!("awslogs.data is not base64: {error}")))?;
    let mut document = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut document)
        .map_err(|error| Error::malformed_event(format!("awslogs.data is not gzip: {error}")))?;
    if document.len() as u64 > MAX_DECOMPRESSED {
        return Err(Error::malformed_event(format!(
            "awslogs.data decompresses to more than {MAX_DECOMPRESSED} bytes"
        )));
    }
    Ok(document)
}

/// The app's body on 2xx; otherwise the invocation fails so Lambda retries the batch.
fn settle(outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error> {
    let Some(outcome) = outcomes.into_iter().next() else {
        return Err(Error::adapter("the CloudWatch Logs batch was not served"));
    };
    match outcome.result {
        ItemResult::Answered { head, body } if head.status.is_success() => Ok(body),
        ItemResult::Answered { head, body } => {
            let start = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
            Err(Error::custom(
                "App.ErrorStatus",
                format!(
                    "the app answered {} to the CloudWatch Logs batch {}: {start}",
                    head.status, outcome.id
                ),
            ))
        }
        ItemResult::Failed(error) => Err(error),
        ItemResult::Skipped => Err(Error::adapter(format!(
            "the CloudWatch Logs batch {} was skipped",
            outcome.id
        ))),
    }
}

/// An event as CloudWatch Logs sends it, for the document `document` (tests and examples).
pub fn encode_event(document: &serde_json::Value) -> Vec<u8> {
    use std::io::Write as _;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(document.to_string().as_bytes())
        .and_then(|()| gzip.flush())
        .expect("writing to a Vec cannot fail");
    let compressed = gzip.finish().expect("writing to a Vec cannot fail");
    let data = base64::engine::general_purpose::STANDARD.encode(compressed);
    serde_json::to_vec(&serde_json::json!({ "awslogs": { "data": data } }))
        .expect("a JSON value serializes")
}

#[cfg(test)]
mod tests;
