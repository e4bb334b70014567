//! Any other event, posted as it is (the Lambda Web Adapter's pass-through).
//!
//! **This adapter accepts every JSON object, so it must be added last**: adapters are asked in
//! the order they were added, and any adapter after this one would never be reached.
//!
//! The event becomes a `POST` to `/events` (configurable, or from `AWS_LWA_PASS_THROUGH_PATH`
//! with [`PassThroughConfigured::from_lwa_env`]) with the event's JSON as the body
//! (`content-type: application/json`) and a
//! [`RequestContext`](serverless_adapter_core::RequestContext) extension of source
//! `pass-through` (JSON `{}`) that tells the app the request came from Lambda, not from an HTTP
//! client.
//!
//! The answer is the app's body when it is JSON (`null` when empty); any other UTF-8 body is
//! answered as a JSON string, and a body that is not UTF-8 as a JSON string of its base64. The
//! app's status is honoured: outside 2xx the invocation fails with `App.ErrorStatus`, whose
//! message holds the status and the start of the body (and an app failure, panic or timeout
//! fails it with its own error), so Lambda reports or retries it rather than taking an error
//! page for a result.

mod answer;
mod event;

use std::borrow::Cow;

use bytes::Bytes;
use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};

/// The name these adapters go by.
pub const NAME: &str = "pass-through";
/// Where events are posted unless configured otherwise.
pub const DEFAULT_PATH: &str = "/events";
/// The environment variable the Lambda Web Adapter reads the path from.
pub const LWA_PATH_VARIABLE: &str = "AWS_LWA_PASS_THROUGH_PATH";

/// The pass-through adapter with the default path `/events`. Add it last. See
/// [`PassThroughAdapter::configure`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThroughAdapter;

impl PassThroughAdapter {
    /// The adapter with options: `PassThroughAdapter::configure().path("/invoke")`.
    pub fn configure() -> PassThroughConfigured {
        PassThroughConfigured::default()
    }
}

/// [`PassThroughAdapter`] with options.
#[derive(Debug, Clone)]
pub struct PassThroughConfigured {
    path: Cow<'static, str>,
}

impl Default for PassThroughConfigured {
    fn default() -> Self {
        Self {
            path: Cow::Borrowed(DEFAULT_PATH),
        }
    }
}

impl PassThroughConfigured {
    /// The path events are posted to (default `/events`).
    pub fn path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.path = path.into();
        self
    }

    /// The adapter with the path from `AWS_LWA_PASS_THROUGH_PATH` (as the Lambda Web Adapter
    /// reads it); `/events` when it is unset or empty.
    pub fn from_lwa_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_lwa_env`](Self::from_lwa_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        match lookup(LWA_PATH_VARIABLE) {
            Some(path) if !path.trim().is_empty() => Self::default().path(path.trim().to_owned()),
            _ => Self::default(),
        }
    }
}

impl Adapter for PassThroughAdapter {
    fn name(&self) -> &str {
        NAME
    }

    /// Every JSON object (the probe only exists for JSON objects).
    fn can_handle(&self, _event: &EventProbe<'_>) -> bool {
        true
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::to_batch(event, DEFAULT_PATH)
    }
}

impl Adapter for PassThroughConfigured {
    fn name(&self) -> &str {
        NAME
    }

    /// Every JSON object (the probe only exists for JSON objects).
    fn can_handle(&self, _event: &EventProbe<'_>) -> bool {
        true
    }

    fn decode(&self, event: Bytes, _context: &LambdaContext) -> Result<Decoded, Error> {
        event::to_batch(event, &self.path)
    }
}

#[cfg(test)]
mod tests;
