//! The raw request context of an HTTP event, kept for the app as a request extension.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

/// The `requestContext` of the event a request came from (API Gateway, Function URL, ALB),
/// exactly as the event carried it. Adapters insert it as a request extension.
///
/// ```
/// # use serverless_adapter_core::RequestContext;
/// fn source_ip(request: &http::Request<()>) -> Option<String> {
///     let context = request.extensions().get::<RequestContext>()?;
///     let value: serde_json::Value = context.parse().ok()?;
///     value["http"]["sourceIp"].as_str().map(str::to_owned)
/// }
/// ```
#[derive(Clone)]
pub struct RequestContext {
    source: &'static str,
    json: Arc<str>,
}

impl RequestContext {
    /// A request context from `source` (the adapter's name) with its compact JSON.
    pub fn new(source: &'static str, json: impl Into<Arc<str>>) -> Self {
        Self {
            source,
            json: json.into(),
        }
    }

    /// The name of the adapter that read the event.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The context's JSON text, compact (as sent in the `x-amzn-request-context` header).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The context deserialized into a type of your choosing (`serde_json::Value`, or an
    /// `aws_lambda_events` request context type).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.json)
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("source", &self.source)
            .field("json", &self.json)
            .finish()
    }
}
