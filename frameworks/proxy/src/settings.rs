//! The proxy's settings, read from the `AWS_LWA_*` environment variables the Lambda Web Adapter
//! uses (and their legacy names), with the same defaults.
//!
//! Rules, the same for every variable:
//! - an `AWS_LWA_*` name wins over its legacy name;
//! - a variable set to the empty string counts as unset (templates often write `VAR: ""`);
//! - booleans are the exact strings `true` and `false`;
//! - any other invalid value is an [`Error::config`] naming the variable and the value: a
//!   function with a typo in its settings fails its init instead of running with defaults.

use std::time::Duration;

use http::header::HeaderName;
use serverless_adapter_core::Error;
pub use serverless_adapter_resolvers::StatusCodes;

/// The default app port.
pub const DEFAULT_PORT: u16 = 8080;
/// The default app host.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// The default readiness path.
pub const DEFAULT_READINESS_PATH: &str = "/";
/// The default path non-HTTP events are posted to.
pub const DEFAULT_PASS_THROUGH_PATH: &str = "/events";
/// The default healthy statuses of the readiness check.
pub const DEFAULT_HEALTHY_STATUS: &str = "100-499";

/// How the app is checked for readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadinessProtocol {
    /// `GET` the readiness path; ready when the status is one of the healthy ones.
    #[default]
    Http,
    /// Ready as soon as a TCP connection is accepted.
    Tcp,
}

/// How HTTP invocations are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InvokeMode {
    /// Buffered answers (`AWS_LWA_INVOKE_MODE=buffered`, the default).
    #[default]
    Buffered,
    /// Streamed answers to callers that can receive them (`response_stream`).
    ResponseStream,
}

fn parse_code(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(code) if (100..=999).contains(&code) && text.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(code)
        }
        _ => Err(format!("{text:?} is not a status code (100 to 999)")),
    }
}

/// Every setting of the proxy and the `lambda-adapter` binary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxySettings {
    /// `AWS_LWA_PORT` (legacy `PORT`): the app's port; 8080.
    pub port: u16,
    /// `AWS_LWA_HOST` (legacy `HOST`): the app's host; `127.0.0.1`.
    pub host: String,
    /// `AWS_LWA_READINESS_CHECK_PORT` (legacy `READINESS_CHECK_PORT`): the app port by default.
    pub readiness_port: u16,
    /// `AWS_LWA_READINESS_CHECK_PATH` (legacy `READINESS_CHECK_PATH`): `/`.
    pub readiness_path: String,
    /// `AWS_LWA_READINESS_CHECK_PROTOCOL` (legacy `READINESS_CHECK_PROTOCOL`): `http` or `tcp`.
    pub readiness_protocol: ReadinessProtocol,
    /// `AWS_LWA_READINESS_CHECK_HEALTHY_STATUS`: `100-499`; or, when only the 0.9-era
    /// `AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS` (legacy `READINESS_CHECK_MIN_UNHEALTHY_STATUS`)
    /// is set to N, `100-(N-1)`.
    pub readiness_healthy_status: StatusCodes,
    /// `AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS`: give up waiting for the app after this long
    /// (whole or decimal seconds, more than 0); no limit by default.
    pub readiness_timeout: Option<Duration>,
    /// `AWS_LWA_ASYNC_INIT` (legacy `ASYNC_INIT`): cap the init wait at 9.8 s and finish the
    /// readiness check during the first invocation; `false`.
    pub async_init: bool,
    /// `AWS_LWA_REMOVE_BASE_PATH` (legacy `REMOVE_BASE_PATH`): a path prefix removed from
    /// request paths, at a segment boundary; normalized to `/x/y` (no trailing slash).
    pub remove_base_path: Option<String>,
    /// `AWS_LWA_PASS_THROUGH_PATH`: where non-HTTP events are posted; `/events`.
    pub pass_through_path: String,
    /// `AWS_LWA_ENABLE_COMPRESSION`: `false`. When `true`, responses are compressed with
    /// gzip, Brotli or Zstandard as the request's `accept-encoding` allows, in buffered and
    /// streaming mode alike (see [`compression`](crate::compression)).
    pub enable_compression: bool,
    /// `AWS_LWA_INVOKE_MODE`: `buffered` or `response_stream` (any case).
    pub invoke_mode: InvokeMode,
    /// `AWS_LWA_AUTHORIZATION_SOURCE`: a header renamed to `authorization` on requests.
    pub authorization_source: Option<HeaderName>,
    /// `AWS_LWA_ERROR_STATUS_CODES`: app statuses reported as an invocation error.
    pub error_status_codes: Option<StatusCodes>,
    /// `AWS_LWA_LAMBDA_RUNTIME_API_PROXY`: the Runtime API to poll instead of
    /// `AWS_LAMBDA_RUNTIME_API` (the Extensions API is still reached through the latter).
    pub runtime_api_proxy: Option<String>,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start` turns connection pooling off (pooled
    /// connections would not survive a snapshot restore); on otherwise.
    pub pool_connections: bool,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            host: DEFAULT_HOST.to_owned(),
            readiness_port: DEFAULT_PORT,
            readiness_path: DEFAULT_READINESS_PATH.to_owned(),
            readiness_protocol: ReadinessProtocol::Http,
            readiness_healthy_status: StatusCodes::range(100, 499),
            readiness_timeout: None,
            async_init: false,
            remove_base_path: None,
            pass_through_path: DEFAULT_PASS_THROUGH_PATH.to_owned(),
            enable_compression: false,
            invoke_mode: InvokeMode::Buffered,
            authorization_source: None,
            error_status_codes: None,
            runtime_api_proxy: None,
            pool_connections: true,
        }
    }
}

/// Reads one setting through a lookup, AWS_LWA_* name first, then its legacy names.
struct Reader<L> {
    lookup: L,
}

impl<L: Fn(&str) -> Option<String>> Reader<L> {
    /// The first non-empty value among `names`, with the name it came from.
    fn get(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|&name| {
            (self.lookup)(name)
                .filter(|value| !value.is_empty())
                .map(|value| (name, value))
        })
    }

    fn parse<T>(
        &self,
        names: &[&'static str],
        expected: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Error> {
        match self.get(names) {
            None => Ok(None),
            Some((name, value)) => parse(&value).map(Some).map_err(|why| {
                let detail = if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                };
                Error::config(format!("{name} must be {expected}, got {value:?}{detail}"))
            }),
        }
    }

    fn boolean(&self, names: &[&'static str]) -> Result<Option<bool>, Error> {
        self.parse(names, "`true` or `false`", |value| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(String::new()),
        })
    }

    fn port(&self, names: &[&'static str]) -> Result<Option<u16>, Error> {
        self.parse(
            names,
            "a port number from 1 to 65535",
            |value| match value.parse::<u16>() {
                Ok(port) if port > 0 && value.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
                _ => Err(String::new()),
            },
        )
    }

    /// A list of status codes and ranges such as `200-399,404`; the error names the variable.
    /// Only spaces counts as unset, like the empty string.
    fn status_codes(&self, name: &'static str) -> Result<Option<StatusCodes>, Error> {
        let codes = self
            .get(&[name])
            .map(|(name, value)| StatusCodes::parse_named(&value, name))
            .transpose()?;
        Ok(codes.filter(|codes| !codes.is_empty()))
    }

    fn path(&self, names: &[&'static str]) -> Result<Option<String>, Error> {
        self.parse(names, "a path starting with `/`", parse_path)
    }
}

fn parse_path(value: &str) -> Result<String, String> {
    if !value.starts_with('/') {
        return Err("it does not start with `/`".to_owned());
    }
    match value.parse::<http::uri::PathAndQuery>() {
        Ok(path) if path.as_str() == value => Ok(value.to_owned()),
        _ => Err("it contains characters a request path cannot carry".to_owned()),
    }
}

fn parse_host(value: &str) -> Result<String, String> {
    if value.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(format!("[{value}]"));
    }
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        return match inner.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(value.to_owned()),
            Err(_) => Err("not an IPv6 address between the brackets".to_owned()),
        };
    }
    let valid = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    if valid {
        Ok(value.to_owned())
    } else {
        Err("not a host name or IP address".to_owned())
    }
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    let valid_text = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && value.bytes().filter(|&b| b == b'.').count() <= 1;
    match value.parse::<f64>() {
        Ok(seconds) if valid_text && seconds > 0.0 && seconds <= 86_400.0 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(String::new()),
    }
}

impl ProxySettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a stand-in for the environment, in tests).
    ///
    /// ```
    /// use serverless_adapter_proxy::{InvokeMode, ProxySettings};
    ///
    /// let env = |name: &str| match name {
    ///     "AWS_LWA_PORT" => Some("3000".to_owned()),
    ///     "AWS_LWA_INVOKE_MODE" => Some("response_stream".to_owned()),
    ///     _ => None,
    /// };
    /// let settings = ProxySettings::from_lookup(env)?;
    /// assert_eq!((settings.host.as_str(), settings.port), ("127.0.0.1", 3000));
    /// assert_eq!(settings.invoke_mode, InvokeMode::ResponseStream);
    ///
    /// // A bad value is an init error naming the variable, not a silent default.
    /// let error = ProxySettings::from_lookup(|name| {
    ///     (name == "AWS_LWA_ASYNC_INIT").then(|| "yes".to_owned())
    /// })
    /// .unwrap_err();
    /// assert_eq!(error.error_type(), "Runtime.InvalidConfig");
    /// assert!(error.message().contains("AWS_LWA_ASYNC_INIT"));
    /// # Ok::<(), serverless_adapter_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let env = Reader { lookup };
        let defaults = Self::default();

        let port = env
            .port(&["AWS_LWA_PORT", "PORT"])?
            .unwrap_or(defaults.port);
        let host = env
            .parse(
                &["AWS_LWA_HOST", "HOST"],
                "a host name or an IP address",
                parse_host,
            )?
            .unwrap_or(defaults.host);
        let readiness_port = env
            .port(&["AWS_LWA_READINESS_CHECK_PORT", "READINESS_CHECK_PORT"])?
            .unwrap_or(port);
        let readiness_path = env
            .path(&["AWS_LWA_READINESS_CHECK_PATH", "READINESS_CHECK_PATH"])?
            .unwrap_or(defaults.readiness_path);
        let readiness_protocol = env
            .parse(
                &[
                    "AWS_LWA_READINESS_CHECK_PROTOCOL",
                    "READINESS_CHECK_PROTOCOL",
                ],
                "`http` or `tcp`",
                |value| match value.to_ascii_lowercase().as_str() {
                    "http" => Ok(ReadinessProtocol::Http),
                    "tcp" => Ok(ReadinessProtocol::Tcp),
                    _ => Err(String::new()),
                },
            )?
            .unwrap_or_default();
        let healthy = env.status_codes("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS")?;
        let min_unhealthy = env.parse(
            &[
                "AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS",
                "READINESS_CHECK_MIN_UNHEALTHY_STATUS",
            ],
            "a status code from 101 to 999",
            |value| match parse_code(value)? {
                100 => Err(String::new()),
                code => Ok(code),
            },
        )?;
        let readiness_healthy_status = match (healthy, min_unhealthy) {
            (Some(set), _) => set,
            (None, Some(min)) => StatusCodes::range(100, min - 1),
            (None, None) => defaults.readiness_healthy_status,
        };
        let readiness_timeout = env.parse(
            &["AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS"],
            "a number of seconds greater than 0 (such as `30` or `2.5`)",
            parse_seconds,
        )?;
        let async_init = env
            .boolean(&["AWS_LWA_ASYNC_INIT", "ASYNC_INIT"])?
            .unwrap_or(false);
        let remove_base_path = env
            .path(&["AWS_LWA_REMOVE_BASE_PATH", "REMOVE_BASE_PATH"])?
            .map(|path| path.trim_end_matches('/').to_owned())
            .filter(|path| !path.is_empty());
        if remove_base_path.as_deref().is_some_and(|p| p.contains('?')) {
            return Err(Error::config(
                "AWS_LWA_REMOVE_BASE_PATH must be a path, without a query string",
            ));
        }
        let pass_through_path = env
            .path(&["AWS_LWA_PASS_THROUGH_PATH"])?
            .unwrap_or(defaults.pass_through_path);
        let enable_compression = env
            .boolean(&["AWS_LWA_ENABLE_COMPRESSION"])?
            .unwrap_or(false);
        let invoke_mode = env
            .parse(
                &["AWS_LWA_INVOKE_MODE"],
                "`buffered` or `response_stream`",
                |value| match value.to_ascii_lowercase().as_str() {
                    "buffered" => Ok(InvokeMode::Buffered),
                    "response_stream" => Ok(InvokeMode::ResponseStream),
                    _ => Err(String::new()),
                },
            )?
            .unwrap_or_default();
        let authorization_source = env.parse(
            &["AWS_LWA_AUTHORIZATION_SOURCE"],
            "a header name",
            |value| HeaderName::from_bytes(value.as_bytes()).map_err(|_| String::new()),
        )?;
        let error_status_codes = env.status_codes("AWS_LWA_ERROR_STATUS_CODES")?;
        let runtime_api_proxy = env
            .get(&["AWS_LWA_LAMBDA_RUNTIME_API_PROXY"])
            .map(|(_, value)| value);
        if let Some(value) = &runtime_api_proxy {
            serverless_adapter_core::runtime::Endpoint::parse(value).map_err(|_| {
                Error::config(format!(
                    "AWS_LWA_LAMBDA_RUNTIME_API_PROXY must be `host:port` or `http://host:port/path`, got {value:?}"
                ))
            })?;
        }
        let pool_connections = env
            .get(&["AWS_LAMBDA_INITIALIZATION_TYPE"])
            .is_none_or(|(_, value)| value != "snap-start");

        Ok(Self {
            port,
            host,
            readiness_port,
            readiness_path,
            readiness_protocol,
            readiness_healthy_status,
            readiness_timeout,
            async_init,
            remove_base_path,
            pass_through_path,
            enable_compression,
            invoke_mode,
            authorization_source,
            error_status_codes,
            runtime_api_proxy,
            pool_connections,
        })
    }

    /// Settings for an app at `host:port`, everything else at its default.
    pub fn for_app(host: impl Into<String>, port: u16) -> Self {
        Self {
            port,
            host: host.into(),
            readiness_port: port,
            ..Self::default()
        }
    }

    /// `host:port` of the app, as it goes in a `Host` header.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests;
