//! `ErrorStatusResolver`: chosen app statuses become invocation errors.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::Response;
use http_body_util::BodyExt;
use serverless_adapter_core::{
    error_response, Body, DefaultResolver, Error, LambdaContext, Resolution, Resolver,
};

/// The environment variable the Lambda Web Adapter reads the list from.
pub const LWA_ERROR_STATUS_CODES: &str = "AWS_LWA_ERROR_STATUS_CODES";

/// The `errorType` of an invocation failed because of the app's status.
const ERROR_TYPE: &str = "App.ErrorStatus";

/// How much of the app's body the error keeps.
const EXCERPT_LIMIT: usize = 4 * 1024;

/// How long reading that much of the body may take at most (a slow or endless body).
const EXCERPT_TIME: Duration = Duration::from_secs(2);

/// A set of HTTP status codes, parsed from a list of codes and ranges: `500-599,404`.
///
/// One type for every status list of the project: the error statuses here, and the proxy's
/// settings (`AWS_LWA_ERROR_STATUS_CODES`, `AWS_LWA_READINESS_CHECK_HEALTHY_STATUS`).
/// [`Display`](fmt::Display) writes it back as a list (`500-599,404`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StatusCodes {
    ranges: Vec<(u16, u16)>,
}

impl StatusCodes {
    /// Parses `list`: codes (`404`) and inclusive ranges (`500-599`), separated by commas,
    /// spaces allowed. An empty list holds no code. Anything else (`5xx`, `600-500`, `99`,
    /// `500,,502`) is a [configuration error](Error::is_config) naming the bad item.
    pub fn parse(list: &str) -> Result<Self, Error> {
        Self::parse_named(list, "the status code list")
    }

    /// As [`parse`](Self::parse), naming `what` (such as the environment variable the list
    /// came from) in the error message.
    pub fn parse_named(list: &str, what: &str) -> Result<Self, Error> {
        if list.trim().is_empty() {
            return Ok(Self::default());
        }
        let bad = |item: &str, why: &str| {
            Error::config(format!(
                "{what} {list:?} is invalid: {item:?} {why}; expected codes and ranges such as \
                 \"500-599,404\""
            ))
        };
        let code = |text: &str, item: &str| -> Result<u16, Error> {
            let text = text.trim();
            match text.parse::<u16>() {
                Ok(code)
                    if (100..=999).contains(&code) && text.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Ok(code)
                }
                _ => Err(bad(item, "is not a status code (100 to 999)")),
            }
        };
        let mut ranges = Vec::new();
        for item in list.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(bad(item, "is empty"));
            }
            let range = match item.split_once('-') {
                Some((low, high)) => {
                    let (low, high) = (code(low, item)?, code(high, item)?);
                    if low > high {
                        return Err(bad(item, "is a range that ends before it starts"));
                    }
                    (low, high)
                }
                None => {
                    let code = code(item, item)?;
                    (code, code)
                }
            };
            ranges.push(range);
        }
        Ok(Self { ranges })
    }

    /// The codes from `low` to `high`, inclusive (none when `low > high`).
    pub fn range(low: u16, high: u16) -> Self {
        Self {
            ranges: if low <= high {
                vec![(low, high)]
            } else {
                Vec::new()
            },
        }
    }

    /// Whether the set holds `status`.
    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }

    /// True when the set holds no code.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

impl FromStr for StatusCodes {
    type Err = Error;

    fn from_str(list: &str) -> Result<Self, Error> {
        Self::parse(list)
    }
}

impl fmt::Display for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, &(low, high)) in self.ranges.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            if low == high {
                write!(f, "{low}")?;
            } else {
                write!(f, "{low}-{high}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusCodes({:?})", self.to_string())
    }
}

/// Fails the invocation when the app answers with one of the chosen status codes, instead of
/// returning the answer to the caller: Lambda then counts an error, an asynchronous invocation
/// is retried, and alarms on the function's errors fire.
///
/// The error's type is `App.ErrorStatus`; its message holds the status and the start of the
/// app's body (the first 4 KiB, read for at most 2 seconds), so the cause is in the logs and in
/// what the caller sees. An app failure (error, panic, timeout) whose default answer's status
/// is in the list fails the invocation with its own error (`App.Panic`...). Everything else is
/// settled by the inner resolver ([`DefaultResolver`] unless
/// [`with_inner`](ErrorStatusResolver::with_inner) says otherwise).
///
/// The app's response has not been sent yet when the resolver runs, so this works for
/// streamed answers too.
///
/// ```
/// use serverless_adapter_resolvers::ErrorStatusResolver;
/// let resolver = ErrorStatusResolver::parse("500-599,404")?;
/// # Ok::<(), serverless_adapter_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ErrorStatusResolver<R = DefaultResolver> {
    codes: StatusCodes,
    inner: R,
}

impl ErrorStatusResolver {
    /// A resolver failing the invocation on `codes`.
    pub fn new(codes: StatusCodes) -> Self {
        Self {
            codes,
            inner: DefaultResolver,
        }
    }

    /// A resolver failing the invocation on the codes and ranges of `list` (`500-599,404`).
    pub fn parse(list: &str) -> Result<Self, Error> {
        StatusCodes::parse(list).map(Self::new)
    }

    /// A resolver failing the invocation on the codes of `AWS_LWA_ERROR_STATUS_CODES`, as the
    /// Lambda Web Adapter reads it. Unset or empty, no code fails the invocation (the resolver
    /// then behaves as the default one); an invalid list is a configuration error.
    pub fn from_lwa_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_lwa_env`](Self::from_lwa_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        match lookup(LWA_ERROR_STATUS_CODES) {
            None => Ok(Self::new(StatusCodes::default())),
            Some(list) => StatusCodes::parse_named(&list, LWA_ERROR_STATUS_CODES).map(Self::new),
        }
    }
}

impl<R> ErrorStatusResolver<R> {
    /// Hands what is not an error status to `inner` instead of the default resolver.
    pub fn with_inner<R2: Resolver>(self, inner: R2) -> ErrorStatusResolver<R2> {
        ErrorStatusResolver {
            codes: self.codes,
            inner,
        }
    }

    /// The status codes that fail the invocation.
    pub fn codes(&self) -> &StatusCodes {
        &self.codes
    }
}

/// The start of a body as text: at most `limit` bytes, `…` when there was more, a note when
/// the body failed or was too slow.
async fn excerpt(mut body: Body, limit: usize, budget: Duration) -> String {
    let mut bytes: Vec<u8> = Vec::new();
    let mut note = None;
    let read = async {
        while bytes.len() <= limit {
            match body.frame().await {
                None => return,
                Some(Err(err)) => {
                    note = Some(format!(" (the body failed: {err})"));
                    return;
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
            }
        }
    };
    let finished = tokio::time::timeout(budget, read).await.is_ok();
    let cut = bytes.len() > limit;
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]).into_owned();
    if cut {
        if text.ends_with('\u{fffd}') {
            text.pop();
        }
        text.push('…');
    }
    if !finished {
        text.push_str(" (the body was still coming)");
    }
    if let Some(note) = note {
        text.push_str(&note);
    }
    text
}

impl<R: Resolver> Resolver for ErrorStatusResolver<R> {
    async fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        context: &LambdaContext,
    ) -> Resolution {
        match outcome {
            Ok(response) if self.codes.contains(response.status().as_u16()) => {
                let status = response.status();
                let budget = context
                    .remaining()
                    .map_or(EXCERPT_TIME, |left| left.min(EXCERPT_TIME));
                let body = excerpt(response.into_body(), EXCERPT_LIMIT, budget).await;
                let error = Error::custom(ERROR_TYPE, format!("the app answered {status}: {body}"));
                tracing::warn!(
                    request_id = %context.request_id,
                    status = status.as_u16(),
                    "the app's status is an error status; the invocation fails"
                );
                Resolution::Fail(error)
            }
            Err(error)
                if error_response(&error)
                    .is_some_and(|response| self.codes.contains(response.status().as_u16())) =>
            {
                Resolution::Fail(error)
            }
            other => self.inner.resolve(other, context).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::BodyExt;

    fn response(status: u16, body: impl Into<Body>) -> Response<Body> {
        Response::builder()
            .status(status)
            .body(body.into())
            .unwrap()
    }

    #[test]
    fn lists_parse_or_fail_clearly() {
        let codes = StatusCodes::parse(" 500-599 , 404,418").unwrap();
        for code in [500, 503, 599, 404, 418] {
            assert!(codes.contains(code), "{code}");
        }
        for code in [200, 403, 499, 600] {
            assert!(!codes.contains(code), "{code}");
        }
        assert_eq!(format!("{codes:?}"), r#"StatusCodes("500-599,404,418")"#);
        assert_eq!(codes.to_string(), "500-599,404,418");
        assert_eq!(StatusCodes::range(100, 499).to_string(), "100-499");
        assert!(StatusCodes::range(5, 1).is_empty());
        let named = StatusCodes::parse_named("5xx", "AWS_LWA_X").unwrap_err();
        assert!(named.message().starts_with("AWS_LWA_X \"5xx\""), "{named}");
        assert!(StatusCodes::parse("").unwrap().is_empty());
        assert!("502".parse::<StatusCodes>().unwrap().contains(502));
        for bad in [
            "5xx", "600-500", "99", "500,,502", "500-", "-500", "1000", "500;502", "+500",
        ] {
            let err = StatusCodes::parse(bad).unwrap_err();
            assert!(err.is_config(), "{bad}");
            assert!(err.message().contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn lwa_environment() {
        let resolver = ErrorStatusResolver::from_lookup(|name| {
            (name == "AWS_LWA_ERROR_STATUS_CODES").then(|| "502,504".to_owned())
        })
        .unwrap();
        assert!(resolver.codes().contains(504));
        assert!(ErrorStatusResolver::from_lookup(|_| None)
            .unwrap()
            .codes()
            .is_empty());
        let err = ErrorStatusResolver::from_lookup(|_| Some("oops".into())).unwrap_err();
        assert!(err.is_config());
        assert!(
            err.message().contains("AWS_LWA_ERROR_STATUS_CODES"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn chosen_statuses_fail_with_the_body() {
        let resolver = ErrorStatusResolver::parse("500-599,404").unwrap();
        let ctx = LambdaContext::for_request_id("r");
        let Resolution::Fail(err) = resolver
            .resolve(Ok(response(503, r#"{"error":"db down"}"#)), &ctx)
            .await
        else {
            panic!("503 fails")
        };
        assert_eq!(err.error_type(), "App.ErrorStatus");
        assert_eq!(
            err.message(),
            r#"the app answered 503 Service Unavailable: {"error":"db down"}"#
        );

        let big = "x".repeat(10_000);
        let Resolution::Fail(err) = resolver.resolve(Ok(response(404, big)), &ctx).await else {
            panic!("404 fails")
        };
        assert!(
            err.message().len() < 4_200,
            "bounded: {}",
            err.message().len()
        );
        assert!(err.message().ends_with('…'));

        let Resolution::Respond(ok) = resolver.resolve(Ok(response(201, "made")), &ctx).await
        else {
            panic!("201 is answered")
        };
        assert_eq!(ok.status(), 201);
        assert_eq!(ok.into_body().collect().await.unwrap().to_bytes(), "made");
        assert!(matches!(
            resolver.resolve(Ok(response(403, "")), &ctx).await,
            Resolution::Respond(r) if r.status() == 403
        ));
    }

    #[tokio::test]
    async fn app_failures_in_the_list_fail_with_their_own_error() {
        let ctx = LambdaContext::for_request_id("r");
        let resolver = ErrorStatusResolver::parse("500").unwrap();
        assert!(matches!(
            resolver.resolve(Err(Error::panic("boom")), &ctx).await,
            Resolution::Fail(e) if e.is_panic()
        ));
        // 502 (app error) is not in the list: the default resolver answers it
        assert!(matches!(
            resolver.resolve(Err(Error::app("x")), &ctx).await,
            Resolution::Respond(r) if r.status() == 502
        ));
        assert!(matches!(
            resolver.resolve(Err(Error::malformed_event("x")), &ctx).await,
            Resolution::Fail(e) if e.is_malformed_event()
        ));
        let debug = resolver.with_inner(crate::DebugResolver);
        let Resolution::Respond(r) = debug.resolve(Err(Error::timeout("slow")), &ctx).await else {
            panic!("504 is answered by the inner resolver")
        };
        assert_eq!(r.status(), 504);
    }

    /// A body of given frames, then an error or an endless wait.
    struct TestBody {
        frames: std::collections::VecDeque<Bytes>,
        then_fail: bool,
    }

    impl http_body::Body for TestBody {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            match self.frames.pop_front() {
                Some(data) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data)))),
                None if self.then_fail => {
                    std::task::Poll::Ready(Some(Err(std::io::Error::other("broken"))))
                }
                None => std::task::Poll::Pending,
            }
        }
    }

    #[tokio::test]
    async fn failing_and_endless_bodies_are_bounded() {
        let failing = TestBody {
            frames: [Bytes::from("partial")].into(),
            then_fail: true,
        };
        let text = excerpt(Body::new(failing), 100, EXCERPT_TIME).await;
        assert_eq!(text, "partial (the body failed: broken)");

        let endless = TestBody {
            frames: [Bytes::from("first")].into(),
            then_fail: false,
        };
        let text = excerpt(Body::new(endless), 100, Duration::from_millis(50)).await;
        assert_eq!(text, "first (the body was still coming)");
    }
}
