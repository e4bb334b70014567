//! The HTTP/1.1 client to the app: a pool of kept-alive connections with `TCP_NODELAY`, and
//! one careful retry when the app closed a kept-alive connection under us.
//!
//! # When a request is sent again
//! A connection the app closed while it sat idle in the pool (an app's keep-alive timeout,
//! often 5 s, running out while the function was frozen) fails the next request sent on it
//! with "connection closed before message completed" or a reset — the classic 502 of proxies
//! that reuse connections. The app never read that request. So a request is sent once more,
//! on a fresh connection, when all of these hold:
//! - no byte of a response arrived;
//! - the body can be sent again: it was empty, or it is rebuilt from the frames already sent
//!   (kept up to 8 MiB, see [`crate::replay`]) and the unsent rest;
//! - either the request never left (hyper hands it back: any request qualifies), or it failed
//!   on a connection taken from the pool with a closed/reset error, and the method is
//!   idempotent (`GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`, `DELETE`) or the failure came within
//!   [`STALE_RACE_WINDOW`] of sending. The window keeps a `POST` the app worked on for a while
//!   before dying from being run twice: an app closing an idle connection answers the request
//!   with a close at once, an app crashing after seconds of work does not.
//!
//! A fresh connection's failure is never retried: it is the app's answer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serverless_adapter_core::{Body, BoxError, Error};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::replay::{self, Replay};

/// A non-idempotent request that failed on a reused connection later than this after it was
/// sent is not sent again.
pub const STALE_RACE_WINDOW: Duration = Duration::from_secs(1);

/// Most idle connections kept.
const MAX_IDLE: usize = 64;

/// Attempts for requests that never left (each discards one dead pooled connection).
const MAX_UNSENT_ATTEMPTS: usize = 4;

type Sender = SendRequest<Body>;

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No connection to the app could be made (it is not listening); the request, unsent.
    Connect(io::Error, Box<Request<Body>>),
    /// The request failed on a connection.
    Request(hyper::Error),
}

impl SendError {
    pub(crate) fn into_box(self, target: &str) -> BoxError {
        match self {
            Self::Connect(error, _) => Box::new(
                Error::app(format!("the app at {target} cannot be reached: {error} (is it running and listening on AWS_LWA_HOST:AWS_LWA_PORT?)"))
                    .with_source(error),
            ),
            Self::Request(error) => Box::new(
                Error::app(format!("the app at {target} failed the request: {error}"))
                    .with_source(error),
            ),
        }
    }
}

/// The pool and how to reach the app.
pub(crate) struct AppClient {
    host: String,
    port: u16,
    pool: Option<Arc<Pool>>,
}

pub(crate) struct Pool {
    idle: Mutex<Vec<Sender>>,
}

impl AppClient {
    pub(crate) fn new(host: &str, port: u16, pooled: bool) -> Self {
        Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            pool: pooled.then(|| {
                Arc::new(Pool {
                    idle: Mutex::new(Vec::new()),
                })
            }),
        }
    }

    /// Idle connections right now (for tests).
    #[cfg(test)]
    pub(crate) fn idle_count(&self) -> usize {
        self.pool.as_ref().map_or(0, |pool| {
            pool.idle.lock().map(|idle| idle.len()).unwrap_or(0)
        })
    }

    async fn connect(&self) -> io::Result<Sender> {
        let stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "a connection to the app ended");
            }
        });
        Ok(sender)
    }

    /// A pooled connection that is still open, the most recently used first.
    async fn checkout(&self) -> Option<Sender> {
        let pool = self.pool.as_ref()?;
        loop {
            let mut sender = {
                let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.pop()?
            };
            if sender.is_closed() {
                continue;
            }
            // A connection checked in at the end of a response body may still be finishing it.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// Sends `request`, retrying as the module documentation says. On success, the response
    /// and the connection's check-in (to return it to the pool once the body is read).
    pub(crate) async fn send(
        &self,
        request: Request<Body>,
    ) -> Result<(Response<Incoming>, Option<Checkin>), SendError> {
        let (mut parts, body) = request.into_parts();
        let empty = http_body::Body::is_end_stream(&body);
        let (mut body, mut replay): (Body, Option<Replay>) = if empty {
            (body, None)
        } else {
            let (body, replay) = replay::record(body);
            (Body::new(body), Some(replay))
        };
        let mut unsent_attempts = 0;
        let mut resent = false;
        loop {
            let (mut sender, reused) = match self.checkout().await {
                Some(sender) => (sender, true),
                None => match self.connect().await {
                    Ok(sender) => (sender, false),
                    Err(error) => {
                        return Err(SendError::Connect(
                            error,
                            Box::new(Request::from_parts(parts, body)),
                        ))
                    }
                },
            };
            // The head is kept for a second attempt only when one may happen.
            let head = (reused && !resent).then(|| copy_head(&parts));
            let sent_at = Instant::now();
            let request = Request::from_parts(parts, body);
            match sender.try_send_request(request).await {
                Ok(response) => {
                    if let Some(replay) = &replay {
                        replay.stop();
                    }
                    let checkin = self.pool.as_ref().map(|pool| Checkin {
                        sender,
                        pool: pool.clone(),
                    });
                    return Ok((response, checkin));
                }
                Err(mut failure) => {
                    let unsent = failure.take_message();
                    let error = failure.into_error();
                    if let Some(request) = unsent {
                        unsent_attempts += 1;
                        if unsent_attempts < MAX_UNSENT_ATTEMPTS {
                            tracing::debug!(error = %error, "a pooled connection was closed; sending on another");
                            (parts, body) = request.into_parts();
                            continue;
                        }
                        return Err(SendError::Request(error));
                    }
                    let Some(head) = head else {
                        return Err(SendError::Request(error));
                    };
                    let method_ok =
                        is_idempotent(&head.method) || sent_at.elapsed() <= STALE_RACE_WINDOW;
                    if !(is_closed_connection(&error) && method_ok) {
                        return Err(SendError::Request(error));
                    }
                    let rebuilt = match replay.as_mut() {
                        None => Some(Body::empty()),
                        Some(replay) => replay.rebuild().map(Body::new),
                    };
                    let Some(again) = rebuilt else {
                        return Err(SendError::Request(error));
                    };
                    tracing::debug!(error = %error, method = %head.method, "the app closed a kept-alive connection; sending the request again on a fresh one");
                    // The retry must use a fresh connection: the other pooled ones are as old.
                    if let Some(pool) = &self.pool {
                        pool.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
                    }
                    parts = head.into_parts();
                    body = again;
                    resent = true;
                }
            }
        }
    }
}

/// What a request is rebuilt from: everything but the body and the extensions.
struct Head {
    method: Method,
    uri: http::Uri,
    headers: http::HeaderMap,
}

impl Head {
    fn into_parts(self) -> http::request::Parts {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = self.method;
        parts.uri = self.uri;
        parts.headers = self.headers;
        parts
    }
}

fn copy_head(parts: &http::request::Parts) -> Head {
    Head {
        method: parts.method.clone(),
        uri: parts.uri.clone(),
        headers: parts.headers.clone(),
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// The connection closed or was reset before a response: what an app closing an idle
/// connection looks like from this side.
fn is_closed_connection(error: &hyper::Error) -> bool {
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// Returns a connection to the pool once its response body has been read to the end.
pub(crate) struct Checkin {
    sender: Sender,
    pool: Arc<Pool>,
}

impl Checkin {
    fn done(self) {
        if self.sender.is_closed() {
            return;
        }
        let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(self.sender);
        }
    }
}

pin_project_lite::pin_project! {
    /// The app's response body: streamed frame by frame, ended with a timeout error at the
    /// deadline, and its connection returned to the pool when it ends cleanly.
    pub(crate) struct AppBody {
        #[pin]
        inner: Incoming,
        #[pin]
        deadline: Option<Sleep>,
        checkin: Option<Checkin>,
        budget: Duration,
        finished: bool,
    }
}

impl AppBody {
    pub(crate) fn new(
        inner: Incoming,
        checkin: Option<Checkin>,
        deadline: Option<(tokio::time::Instant, Duration)>,
    ) -> Self {
        let mut body = Self {
            finished: false,
            budget: deadline.map_or(Duration::ZERO, |(_, budget)| budget),
            deadline: deadline.map(|(at, _)| tokio::time::sleep_until(at)),
            checkin,
            inner,
        };
        if http_body::Body::is_end_stream(&body.inner) {
            if let Some(checkin) = body.checkin.take() {
                checkin.done();
            }
        }
        body
    }
}

impl http_body::Body for AppBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    if let Some(checkin) = this.checkin.take() {
                        checkin.done();
                    }
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(error))) => {
                *this.finished = true;
                this.checkin.take();
                return Poll::Ready(Some(Err(Box::new(
                    Error::app(format!("the app's response body failed: {error}"))
                        .with_source(error),
                ))));
            }
            Poll::Ready(None) => {
                *this.finished = true;
                if let Some(checkin) = this.checkin.take() {
                    checkin.done();
                }
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some(deadline) = this.deadline.as_pin_mut() {
            if deadline.poll(cx).is_ready() {
                *this.finished = true;
                // The connection is mid-response: it is closed, not pooled.
                this.checkin.take();
                return Poll::Ready(Some(Err(Box::new(Error::timeout(format!(
                    "the app's response body did not end within {} ms, before the Lambda deadline",
                    this.budget.as_millis()
                ))))));
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.finished {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Reads one request (head and `content-length` body); `None` at EOF.
    async fn read_request(stream: &mut TcpStream) -> Option<String> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).to_string();
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while data.len() < end + 4 + length {
                    let n = stream.read(&mut buf).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    data.extend_from_slice(&buf[..n]);
                }
                let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]);
                return Some(format!("{head}\n\n{body}"));
            }
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            data.extend_from_slice(&buf[..n]);
        }
    }

    /// An app that answers the first request of each connection, then reads the second and
    /// closes the connection without answering: a close racing a reused connection.
    async fn closing_app() -> (u16, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (connections.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let log = log.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    let body = request.split("\n\n").nth(1).unwrap_or("").to_owned();
                    log.lock().unwrap().push(request);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(answer.as_bytes()).await.unwrap();
                    let _ = read_request(&mut stream).await;
                    // Dropped without an answer.
                });
            }
        });
        (port, connections, seen)
    }

    async fn send(
        client: &AppClient,
        method: Method,
        body: &'static str,
    ) -> Result<String, String> {
        let request = Request::builder()
            .method(method)
            .uri("/x")
            .header("host", "app")
            .body(if body.is_empty() {
                Body::empty()
            } else {
                Body::from(body)
            })
            .unwrap();
        let (response, checkin) = client.send(request).await.map_err(|e| format!("{e:?}"))?;
        let (_, incoming) = response.into_parts();
        let body = AppBody::new(incoming, checkin, None);
        let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn connections_are_reused_and_a_closed_one_is_retried() {
        let (port, connections, seen) = closing_app().await;
        let client = AppClient::new("127.0.0.1", port, true);
        assert_eq!(send(&client, Method::GET, "").await.unwrap(), "");
        tokio::task::yield_now().await;
        assert_eq!(client.idle_count(), 1);
        // Reused, closed by the app: sent again on a fresh connection.
        assert_eq!(send(&client, Method::GET, "").await.unwrap(), "");
        assert_eq!(connections.load(Ordering::SeqCst), 2);
        // A POST with a body, failing right away: sent again with its whole body.
        assert_eq!(
            send(&client, Method::POST, "payload").await.unwrap(),
            "payload"
        );
        assert_eq!(connections.load(Ordering::SeqCst), 3);
        let requests = seen.lock().unwrap().clone();
        assert_eq!(requests.len(), 3, "{requests:?}");
        assert!(requests[2].starts_with("POST /x"), "{}", requests[2]);
        assert!(requests[2].ends_with("\n\npayload"), "{}", requests[2]);
    }

    #[tokio::test]
    async fn a_fresh_connection_failure_is_not_retried() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let _ = read_request(&mut stream).await;
            }
        });
        let client = AppClient::new("127.0.0.1", port, true);
        assert!(send(&client, Method::GET, "").await.is_err());
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn nothing_listening_gives_the_request_back() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = AppClient::new("127.0.0.1", port, true);
        let request = Request::post("/x").body(Body::from("keep me")).unwrap();
        match client.send(request).await {
            Err(SendError::Connect(_, request)) => {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, "keep me");
            }
            other => panic!("expected a connect error, got {:?}", other.map(|_| ())),
        }
    }
}
