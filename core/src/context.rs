//! The Lambda context of an invocation and the function's configuration.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::HeaderMap;

use crate::error::Error;

/// The function's configuration, read once from the environment Lambda sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub function_version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    pub memory_size_mb: Option<u32>,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group_name: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream_name: String,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: String,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand`, `provisioned-concurrency` or `snap-start`.
    pub initialization_type: String,
    /// `AWS_LAMBDA_MAX_CONCURRENCY`: invocations served at once (Lambda Managed Instances); 1 by default.
    pub max_concurrency: usize,
}

impl FunctionConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a stand-in for the environment, in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let text = |name: &str| lookup(name).unwrap_or_default();
        let memory_size_mb = match lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            None => None,
            Some(value) => Some(value.trim().parse::<u32>().map_err(|_| {
                Error::config(format!(
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of MB, got {value:?}"
                ))
            })?),
        };
        let max_concurrency = match lookup("AWS_LAMBDA_MAX_CONCURRENCY") {
            None => 1,
            Some(value) => match value.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(Error::config(format!(
                        "AWS_LAMBDA_MAX_CONCURRENCY must be a whole number of at least 1, got {value:?}"
                    )))
                }
            },
        };
        Ok(Self {
            function_name: text("AWS_LAMBDA_FUNCTION_NAME"),
            function_version: text("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size_mb,
            log_group_name: text("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name: text("AWS_LAMBDA_LOG_STREAM_NAME"),
            region: lookup("AWS_REGION")
                .or_else(|| lookup("AWS_DEFAULT_REGION"))
                .unwrap_or_default(),
            initialization_type: text("AWS_LAMBDA_INITIALIZATION_TYPE"),
            max_concurrency,
        })
    }
}

/// What Lambda says about one invocation, available to the app as a request extension.
///
/// ```
/// # use serverless_adapter_core::LambdaContext;
/// fn handler(request: http::Request<()>) {
///     if let Some(context) = request.extensions().get::<LambdaContext>() {
///         println!("serving {}", context.request_id);
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LambdaContext {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`; `None` when absent or already past on arrival
    /// (some local emulators send a constant instead of a timestamp).
    pub deadline: Option<SystemTime>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id` (the X-Ray trace header).
    pub trace_id: Option<String>,
    /// `Lambda-Runtime-Client-Context`, decoded (JSON, or base64 of JSON as some emulators send).
    pub client_context: Option<serde_json::Value>,
    /// `Lambda-Runtime-Cognito-Identity`, decoded.
    pub cognito_identity: Option<serde_json::Value>,
    /// `Lambda-Runtime-Aws-Tenant-Id`.
    pub tenant_id: Option<String>,
    /// `Lambda-Runtime-Invocation-Id`, echoed back on the answer.
    pub invocation_id: Option<String>,
    /// The function's configuration.
    pub config: Arc<FunctionConfig>,
}

impl LambdaContext {
    /// Reads the context from the headers of a `/next` answer. Only the request id is required;
    /// everything odd is tolerated and logged.
    pub fn from_headers(headers: &HeaderMap, config: Arc<FunctionConfig>) -> Result<Self, Error> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
                .filter(|value| !value.is_empty())
        };
        let request_id = text("lambda-runtime-aws-request-id").ok_or_else(|| {
            Error::runtime_api(
                "the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id",
                "missing request id",
            )
        })?;
        let deadline = text("lambda-runtime-deadline-ms")
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
            .filter(|deadline| *deadline > SystemTime::now());
        Ok(Self {
            deadline,
            invoked_function_arn: text("lambda-runtime-invoked-function-arn").unwrap_or_default(),
            trace_id: text("lambda-runtime-trace-id"),
            client_context: text("lambda-runtime-client-context")
                .and_then(|raw| decode_json_header("Lambda-Runtime-Client-Context", &raw)),
            cognito_identity: text("lambda-runtime-cognito-identity")
                .and_then(|raw| decode_json_header("Lambda-Runtime-Cognito-Identity", &raw)),
            tenant_id: text("lambda-runtime-aws-tenant-id"),
            invocation_id: text("lambda-runtime-invocation-id"),
            request_id,
            config,
        })
    }

    /// A context for tests and local tools: the given request id, no deadline.
    pub fn for_request_id(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            deadline: None,
            invoked_function_arn: String::new(),
            trace_id: None,
            client_context: None,
            cognito_identity: None,
            tenant_id: None,
            invocation_id: None,
            config: Arc::default(),
        }
    }

    /// Time left until the deadline, if it is known (zero once it has passed).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|deadline| {
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default()
        })
    }

    /// The deadline in milliseconds since the epoch, if known.
    pub fn deadline_ms(&self) -> Option<u64> {
        self.deadline
            .and_then(|d| d.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
    }
}

/// Decodes a JSON header that some platforms base64-encode; undecodable values are logged and dropped.
fn decode_json_header(name: &str, raw: &str) -> Option<serde_json::Value> {
    if let Ok(value) = serde_json::from_str(raw) {
        return Some(value);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if decoded.is_none() {
        tracing::warn!(
            header = name,
            "ignoring a header that is neither JSON nor base64 of JSON"
        );
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reads_every_context_header() {
        let future_ms = (SystemTime::now() + Duration::from_secs(30))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .to_string();
        let ctx = LambdaContext::from_headers(
            &headers(&[
                ("lambda-runtime-aws-request-id", "req-1"),
                ("lambda-runtime-deadline-ms", &future_ms),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:1:function:f",
                ),
                ("lambda-runtime-trace-id", "Root=1-abc"),
                ("lambda-runtime-client-context", r#"{"custom":{"a":"b"}}"#),
                ("lambda-runtime-cognito-identity", r#"{"identity_id":"x"}"#),
                ("lambda-runtime-aws-tenant-id", "tenant-9"),
                ("lambda-runtime-invocation-id", "inv-3"),
            ]),
            Arc::default(),
        )
        .unwrap();
        assert_eq!(ctx.request_id, "req-1");
        assert!(ctx.remaining().unwrap() > Duration::from_secs(20));
        assert_eq!(ctx.trace_id.as_deref(), Some("Root=1-abc"));
        assert_eq!(ctx.client_context.unwrap()["custom"]["a"], "b");
        assert_eq!(ctx.cognito_identity.unwrap()["identity_id"], "x");
        assert_eq!(ctx.tenant_id.as_deref(), Some("tenant-9"));
        assert_eq!(ctx.invocation_id.as_deref(), Some("inv-3"));
    }

    #[test]
    fn lenient_with_odd_headers() {
        // cargo-lambda sends a constant deadline and base64 client context.
        let ctx = LambdaContext::from_headers(
            &headers(&[
                ("lambda-runtime-aws-request-id", "req-2"),
                ("lambda-runtime-deadline-ms", "600000"),
                ("lambda-runtime-client-context", "eyJhIjoxfQ=="),
                ("lambda-runtime-cognito-identity", "%%% not json"),
            ]),
            Arc::default(),
        )
        .unwrap();
        assert!(ctx.deadline.is_none());
        assert_eq!(ctx.client_context.unwrap()["a"], 1);
        assert!(ctx.cognito_identity.is_none());
    }

    #[test]
    fn missing_request_id_is_an_error_not_a_panic() {
        let err = LambdaContext::from_headers(&HeaderMap::new(), Arc::default()).unwrap_err();
        assert!(err.is_runtime_api());
    }

    #[test]
    fn config_from_env_reports_bad_values() {
        let cfg = FunctionConfig::from_lookup(|name| match name {
            "AWS_LAMBDA_FUNCTION_NAME" => Some("f".into()),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("512".into()),
            "AWS_DEFAULT_REGION" => Some("eu-west-1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.function_name, "f");
        assert_eq!(cfg.memory_size_mb, Some(512));
        assert_eq!(cfg.region, "eu-west-1");
        assert_eq!(cfg.max_concurrency, 1);
        let err = FunctionConfig::from_lookup(|name| {
            (name == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE").then(|| "lots".to_owned())
        })
        .unwrap_err();
        assert!(err.is_config() && err.message().contains("MEMORY_SIZE"));
        let err = FunctionConfig::from_lookup(|name| {
            (name == "AWS_LAMBDA_MAX_CONCURRENCY").then(|| "0".to_owned())
        })
        .unwrap_err();
        assert!(err.is_config());
    }
}
