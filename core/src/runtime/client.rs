//! Our own Runtime API client: one kept-alive HTTP/1.1 connection with `TCP_NODELAY`.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::endpoint::Endpoint;
use crate::body::{Body, BoxError};
use crate::context::LambdaContext;
use crate::error::Error;

/// Header naming the `errorType` of an error answer or trailer.
pub const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
/// Trailer carrying the base64 of the JSON error of a stream that failed.
pub const ERROR_BODY_HEADER: &str = "lambda-runtime-function-error-body";
/// Content type of a streamed HTTP answer (prelude, eight NUL bytes, body).
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

const INVOCATION_ID_HEADER: &str = "lambda-runtime-invocation-id";
const RESPONSE_MODE_HEADER: &str = "lambda-runtime-function-response-mode";
/// Attempts at reaching the Runtime API before giving up (with backoff, about 5 s in all).
const CONNECT_ATTEMPTS: u32 = 10;

/// One event handed out by the Runtime API's `/next`.
#[derive(Debug)]
pub struct NextInvocation {
    /// The response head (the context headers).
    pub head: http::response::Parts,
    /// The event's bytes.
    pub event: Bytes,
}

/// A client for the Lambda Runtime API over one kept-alive connection.
///
/// The connection sets `TCP_NODELAY`: a streamed answer leaves as several small writes,
/// and with Nagle's algorithm on each small answer would wait ~40 ms for a delayed ACK.
/// A dropped connection is re-established with a short, bounded backoff.
pub struct RuntimeClient {
    endpoint: Endpoint,
    sender: Option<SendRequest<Body>>,
}

impl fmt::Debug for RuntimeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeClient")
            .field("endpoint", &self.endpoint)
            .field("connected", &self.sender.is_some())
            .finish()
    }
}

impl RuntimeClient {
    /// A client for the Runtime API at `endpoint`; it connects on first use.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            sender: None,
        }
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&self) -> Result<SendRequest<Body>, BoxError> {
        let stream = TcpStream::connect(self.endpoint.authority().as_str()).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "Runtime API connection ended");
            }
        });
        Ok(sender)
    }

    /// A ready sender, connecting (once) if there is none or the old one closed.
    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Body>, BoxError> {
        if let Some(sender) = &mut self.sender {
            if sender.ready().await.is_err() {
                self.sender = None;
            }
        }
        if self.sender.is_none() {
            self.sender = Some(self.connect().await?);
        }
        let sender = self.sender.as_mut().expect("a sender was just set");
        sender.ready().await?;
        Ok(sender)
    }

    async fn send(
        &mut self,
        mut request: Request<Body>,
    ) -> Result<http::Response<hyper::body::Incoming>, BoxError> {
        if let Ok(host) = http::HeaderValue::from_str(self.endpoint.authority().as_str()) {
            request
                .headers_mut()
                .entry(http::header::HOST)
                .or_insert(host);
        }
        let sender = self.ready_sender().await?;
        match sender.send_request(request).await {
            Ok(response) => Ok(response),
            Err(err) => {
                self.sender = None;
                Err(err.into())
            }
        }
    }

    /// Long-polls `GET /runtime/invocation/next` for the next event. A lost connection is
    /// re-established with backoff; after about five seconds without a Runtime API it fails.
    pub async fn next_invocation(&mut self) -> Result<NextInvocation, Error> {
        let mut delay = Duration::from_millis(10);
        let mut attempt = 1;
        loop {
            let request = Request::get(self.endpoint.uri("/2018-06-01/runtime/invocation/next"))
                .body(Body::empty())
                .expect("a valid request");
            let outcome: Result<NextInvocation, BoxError> = async {
                let response = self.send(request).await?;
                let (head, body) = response.into_parts();
                let event = body.collect().await?.to_bytes();
                Ok(NextInvocation { head, event })
            }
            .await;
            match outcome {
                Ok(next) if next.head.status == StatusCode::OK => return Ok(next),
                Ok(next) => {
                    return Err(Error::runtime_api(
                        format!(
                            "the Runtime API answered /next with {} instead of an event; the \
                             Runtime API at {:?} is not a Lambda Runtime API, or it is shutting \
                             down (check AWS_LAMBDA_RUNTIME_API)",
                            next.head.status, self.endpoint
                        ),
                        String::from_utf8_lossy(&next.event).into_owned(),
                    ))
                }
                Err(err) if attempt < CONNECT_ATTEMPTS => {
                    self.sender = None;
                    tracing::warn!(error = %err, attempt, "Runtime API unreachable; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                    attempt += 1;
                }
                Err(err) => {
                    let message = format!(
                        "the Runtime API at {:?} cannot be reached ({CONNECT_ATTEMPTS} \
                         attempts over about 5 s); check AWS_LAMBDA_RUNTIME_API, and when \
                         running locally that the emulator is still running",
                        self.endpoint
                    );
                    return Err(Error::runtime_api(message, err));
                }
            }
        }
    }

    fn invocation_uri(&self, context: &LambdaContext, what: &str) -> http::Uri {
        self.endpoint.uri(&format!(
            "/2018-06-01/runtime/invocation/{}/{what}",
            context.request_id
        ))
    }

    fn invocation_headers(context: &LambdaContext) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(id) = context
            .invocation_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(INVOCATION_ID_HEADER, id);
        }
        headers
    }

    /// Posts a body that can be replayed, retrying once on a fresh connection if the
    /// kept-alive one turned out to be closed.
    async fn post_replayable(
        &mut self,
        uri: http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<StatusCode, Error> {
        let build = || {
            let mut request = Request::new(Body::full(body.clone()));
            *request.method_mut() = Method::POST;
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = headers.clone();
            request
        };
        let response = match self.send(build()).await {
            Ok(response) => response,
            Err(first) => {
                tracing::debug!(error = %first, "retrying on a fresh Runtime API connection");
                self.send(build()).await.map_err(|err| {
                    Error::runtime_api(
                        "posting to the Runtime API failed twice (on the kept-alive and on a \
                             fresh connection); the Runtime API went away, so Lambda will time \
                             out this invocation",
                        err,
                    )
                })?
            }
        };
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        check_status(status, &body)
    }

    /// Posts a buffered answer.
    pub async fn post_response(
        &mut self,
        context: &LambdaContext,
        answer: Bytes,
    ) -> Result<(), Error> {
        let uri = self.invocation_uri(context, "response");
        self.post_replayable(uri, Self::invocation_headers(context), answer)
            .await
            .map(drop)
    }

    /// Posts a streamed answer: `body` is sent chunk by chunk as it produces frames, and its
    /// trailers (the error trailers) are sent as real HTTP trailers.
    pub async fn post_streaming(
        &mut self,
        context: &LambdaContext,
        content_type: &str,
        body: Body,
    ) -> Result<(), Error> {
        // The body is polled by the connection's own task: carry the invocation's span into
        // it, so that what the app logs while producing frames names the request id.
        let body = Body::new(InSpan {
            inner: body,
            span: tracing::Span::current(),
        });
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.invocation_uri(context, "response");
        *request.headers_mut() = Self::invocation_headers(context);
        let headers = request.headers_mut();
        headers.insert(RESPONSE_MODE_HEADER, HeaderValue::from_static("streaming"));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        let content_type = HeaderValue::from_str(content_type).map_err(|err| {
            Error::runtime_api(
                format!(
                    "the streamed answer's content type {content_type:?} is not a valid header \
                     value; the handler must pass a plain ASCII media type"
                ),
                err,
            )
        })?;
        headers.insert(CONTENT_TYPE, content_type);
        headers.append(TRAILER, HeaderValue::from_static(ERROR_TYPE_HEADER));
        headers.append(TRAILER, HeaderValue::from_static(ERROR_BODY_HEADER));
        let response = self.send(request).await.map_err(|err| {
            Error::runtime_api(
                "streaming the answer to the Runtime API failed: the connection broke while the \
                 body was sent (the Runtime API went away or refused the stream, e.g. over its \
                 size limit)",
                err,
            )
        })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        check_status(status, &body).map(drop)
    }

    /// Reports that the invocation failed.
    pub async fn post_error(
        &mut self,
        context: &LambdaContext,
        error: &Error,
    ) -> Result<(), Error> {
        let uri = self.invocation_uri(context, "error");
        self.post_error_to(uri, Self::invocation_headers(context), error)
            .await
    }

    /// Reports that the function could not start (`/runtime/init/error`).
    pub async fn post_init_error(&mut self, error: &Error) -> Result<(), Error> {
        let uri = self.endpoint.uri("/2018-06-01/runtime/init/error");
        self.post_error_to(uri, HeaderMap::new(), error).await
    }

    async fn post_error_to(
        &mut self,
        uri: http::Uri,
        mut headers: HeaderMap,
        error: &Error,
    ) -> Result<(), Error> {
        let error_type = HeaderValue::from_str(error.error_type())
            .unwrap_or_else(|_| HeaderValue::from_static("Runtime.Unknown"));
        headers.insert(ERROR_TYPE_HEADER, error_type);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.post_replayable(uri, headers, Bytes::from(error_json(error)))
            .await
            .map(drop)
    }
}

pin_project_lite::pin_project! {
    /// A body polled inside a span (the invocation's), wherever it is polled.
    struct InSpan {
        #[pin]
        inner: Body,
        span: tracing::Span,
    }
}

impl http_body::Body for InSpan {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The JSON body of an error report: `{"errorType":..,"errorMessage":..}`.
pub fn error_json(error: &Error) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "errorType": error.error_type(),
        "errorMessage": error.message(),
    }))
    .unwrap_or_default()
}

fn check_status(status: StatusCode, body: &[u8]) -> Result<StatusCode, Error> {
    if status.is_success() {
        return Ok(status);
    }
    let detail = String::from_utf8_lossy(body).into_owned();
    if status == StatusCode::GONE {
        return Err(Error::late_answer(detail));
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Err(Error::custom(
            "Function.ResponseSizeTooLarge",
            format!(
                "the Runtime API refused the answer as too large (over Lambda's limit): {detail}; \
                 stream it (AwsStreamHandler, behind a Function URL) or make it smaller"
            ),
        ));
    }
    Err(Error::runtime_api(
        format!(
            "the Runtime API answered {status}{}",
            match status.as_u16() {
                400 => " (the answer was refused as invalid)",
                403 | 404 => {
                    " (the invocation is unknown or over: it timed out or was already answered)"
                }
                500..=599 => " (the Runtime API failed; Lambda will restart the function)",
                _ => "",
            }
        ),
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_answer_is_told_apart_from_other_refusals() {
        let gone = check_status(StatusCode::GONE, br#"{"errorType":"InvokeTimeout"}"#)
            .expect_err("410 is a refusal");
        assert!(gone.is_late_answer());
        assert!(gone.is_runtime_api());
        assert_eq!(gone.error_type(), "Runtime.LateAnswer");
        let unknown = check_status(StatusCode::BAD_REQUEST, b"{}").expect_err("400 too");
        assert!(!unknown.is_late_answer());
        assert!(unknown.is_runtime_api());
        assert!(check_status(StatusCode::ACCEPTED, b"").is_ok());
    }
}
