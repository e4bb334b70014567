//! The error type: opaque, with a private kind, `is_*` predicates and the Lambda `errorType`.

use std::borrow::Cow;
use std::fmt;

use crate::body::BoxError;

/// What went wrong while serving an invocation.
///
/// Every error carries the `errorType` Lambda is told (such as `Adapter.NoMatch` or
/// `App.Panic`, never a Rust type name) and a message that names the cause.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Config,
    RuntimeApi,
    NoAdapter,
    MalformedEvent,
    Adapter,
    App,
    Panic,
    Timeout,
    ResponseTooLarge,
    LateAnswer,
    Custom(Cow<'static, str>),
}

impl Error {
    fn from_parts(
        kind: Kind,
        message: impl Into<Cow<'static, str>>,
        source: Option<BoxError>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source,
            }),
        }
    }

    /// The function is misconfigured (a missing or invalid environment variable, say).
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_parts(Kind::Config, message, None)
    }

    /// Talking to the Lambda Runtime API failed.
    pub fn runtime_api(message: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        Self::from_parts(Kind::RuntimeApi, message, Some(source.into()))
    }

    /// No adapter accepted the event; `tried` names the adapters asked, in order.
    pub fn no_adapter<'a>(tried: impl IntoIterator<Item = &'a str>) -> Self {
        let names: Vec<&str> = tried.into_iter().collect();
        let message = if names.is_empty() {
            "no adapter is configured, so no event can be handled; add one with `.adapter(..)` \
             (e.g. `ApiGatewayV2Adapter` for Function URLs)"
                .to_owned()
        } else {
            format!(
                "no adapter accepts this event (tried, in order: {}); add the adapter for this \
                 event source (`SqsAdapter`, `SnsAdapter`, ...; `register_all` adds every one), \
                 or `PassThroughAdapter` last to receive any event as `POST /events`",
                names.join(", ")
            )
        };
        Self::from_parts(Kind::NoAdapter, message, None)
    }

    /// The event is not what its source sends (not JSON, wrong shape, bad base64...).
    pub fn malformed_event(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_parts(Kind::MalformedEvent, message, None)
    }

    /// An adapter could not turn the event into requests or the responses into an answer.
    pub fn adapter(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_parts(Kind::Adapter, message, None)
    }

    /// The application failed: its service or its response body returned an error.
    pub fn app(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        Self::from_parts(Kind::App, source.to_string(), Some(source))
    }

    /// The application panicked; `message` is the panic's message.
    pub fn panic(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_parts(Kind::Panic, message, None)
    }

    /// The application did not finish before the deadline.
    pub fn timeout(message: impl Into<Cow<'static, str>>) -> Self {
        Self::from_parts(Kind::Timeout, message, None)
    }

    /// The answer is larger than Lambda accepts (`limit` bytes).
    pub fn response_too_large(limit: usize) -> Self {
        Self::from_parts(
            Kind::ResponseTooLarge,
            format!(
                "the response is larger than Lambda's {limit}-byte limit for buffered answers; \
                 stream it (AwsStreamHandler) or make it smaller"
            ),
            None,
        )
    }

    /// An error with an `errorType` of your choosing, for adapters and resolvers.
    pub fn custom(
        error_type: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::from_parts(Kind::Custom(error_type.into()), message, None)
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The `errorType` reported to Lambda.
    pub fn error_type(&self) -> &str {
        match &self.inner.kind {
            Kind::Config => "Runtime.InvalidConfig",
            Kind::RuntimeApi => "Runtime.ApiError",
            Kind::NoAdapter => "Adapter.NoMatch",
            Kind::MalformedEvent => "Event.Malformed",
            Kind::Adapter => "Adapter.Error",
            Kind::App => "App.Error",
            Kind::Panic => "App.Panic",
            Kind::Timeout => "App.Timeout",
            Kind::ResponseTooLarge => "Function.ResponseSizeTooLarge",
            Kind::LateAnswer => "Runtime.LateAnswer",
            Kind::Custom(name) => name,
        }
    }

    /// The message reported to Lambda (without the `errorType`).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// True for a misconfigured function.
    pub fn is_config(&self) -> bool {
        self.inner.kind == Kind::Config
    }
    /// True when the Runtime API could not be reached or answered unexpectedly (a late answer
    /// refused included).
    pub fn is_runtime_api(&self) -> bool {
        matches!(self.inner.kind, Kind::RuntimeApi | Kind::LateAnswer)
    }

    /// True when the Runtime API refused an answer with `410 Gone`: the invocation had already
    /// timed out. Not a fault of the function's process: it goes on to the next invocation.
    pub fn is_late_answer(&self) -> bool {
        self.inner.kind == Kind::LateAnswer
    }

    /// The Runtime API refused an answer as too late (`410 Gone`).
    pub(crate) fn late_answer(source: impl Into<BoxError>) -> Self {
        Self::from_parts(
            Kind::LateAnswer,
            "the Runtime API refused the answer with 410 Gone: the invocation had already timed out",
            Some(source.into()),
        )
    }
    /// True when no adapter accepted the event.
    pub fn is_no_adapter(&self) -> bool {
        self.inner.kind == Kind::NoAdapter
    }
    /// True for an event that is not what its source sends.
    pub fn is_malformed_event(&self) -> bool {
        self.inner.kind == Kind::MalformedEvent
    }
    /// True when an adapter failed.
    pub fn is_adapter(&self) -> bool {
        self.inner.kind == Kind::Adapter
    }
    /// True when the application returned an error.
    pub fn is_app(&self) -> bool {
        self.inner.kind == Kind::App
    }
    /// True when the application panicked.
    pub fn is_panic(&self) -> bool {
        self.inner.kind == Kind::Panic
    }
    /// True when the deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
    }
    /// True when an answer exceeded Lambda's size limit.
    pub fn is_response_too_large(&self) -> bool {
        self.inner.kind == Kind::ResponseTooLarge
    }
    /// True when the invocation failed because of the event or the application, as opposed
    /// to the function's own plumbing (configuration, Runtime API).
    pub fn is_invocation_failure(&self) -> bool {
        !matches!(self.inner.kind, Kind::Config | Kind::RuntimeApi)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("error_type", &self.error_type())
            .field("message", &self.inner.message);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type(), self.inner.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_meaningful_names() {
        assert_eq!(
            Error::no_adapter(["a", "b"]).error_type(),
            "Adapter.NoMatch"
        );
        assert!(Error::no_adapter(["api-gateway-v2", "sqs"])
            .message()
            .contains("api-gateway-v2, sqs"));
        assert_eq!(Error::malformed_event("x").error_type(), "Event.Malformed");
        assert_eq!(Error::panic("boom").error_type(), "App.Panic");
        assert_eq!(
            Error::response_too_large(6).error_type(),
            "Function.ResponseSizeTooLarge"
        );
        assert_eq!(
            Error::custom("App.ErrorStatus", "500").error_type(),
            "App.ErrorStatus"
        );
        assert!(Error::app("x").is_app());
        assert!(!Error::config("x").is_invocation_failure());
        assert!(Error::timeout("x").is_invocation_failure());
    }

    #[test]
    fn display_shows_type_and_message() {
        assert_eq!(
            Error::malformed_event("not JSON").to_string(),
            "Event.Malformed: not JSON"
        );
    }
}
