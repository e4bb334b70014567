//! A small HTTP/1.1 client for talking to the front door, that records when each body
//! chunk arrives and whether the response ended normally.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::error::EmulatorError;

/// An HTTP response whose body is read as it arrives.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// When the request was sent.
    pub sent_at: Instant,
    body: Incoming,
    trailers: Option<HeaderMap>,
    conn: JoinHandle<()>,
}

impl Drop for HttpResponse {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

impl HttpResponse {
    /// The next body chunk with its arrival time; `Ok(None)` at a normal end; an error when
    /// the response ended abnormally (e.g. a chunked body cut off).
    pub async fn chunk(&mut self) -> Result<Option<(Instant, Bytes)>, EmulatorError> {
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(EmulatorError::Http(e.to_string())),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Ok(Some((Instant::now(), data))),
                    Err(frame) => {
                        if let Ok(t) = frame.into_trailers() {
                            self.trailers = Some(t);
                        }
                    }
                },
            }
        }
    }

    /// Reads the rest of the body.
    pub async fn collect(mut self) -> CollectedResponse {
        let mut chunks = Vec::new();
        let error = loop {
            match self.chunk().await {
                Ok(Some(c)) => chunks.push(c),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        CollectedResponse {
            status: self.status,
            headers: std::mem::take(&mut self.headers),
            sent_at: self.sent_at,
            chunks,
            trailers: self.trailers.take(),
            error,
        }
    }
}

/// A whole HTTP response.
#[derive(Debug, Clone)]
pub struct CollectedResponse {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// When the request was sent.
    pub sent_at: Instant,
    /// The body in the pieces it arrived in, each with its arrival time.
    pub chunks: Vec<(Instant, Bytes)>,
    /// Trailers, if the server sent any.
    pub trailers: Option<HeaderMap>,
    /// Why the body ended abnormally, if it did (`None`: a complete message).
    pub error: Option<String>,
}

impl CollectedResponse {
    /// The body, concatenated.
    pub fn body(&self) -> Bytes {
        let mut out = BytesMut::new();
        for (_, c) in &self.chunks {
            out.extend_from_slice(c);
        }
        out.freeze()
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }

    /// Whether the message ended normally.
    pub fn complete(&self) -> bool {
        self.error.is_none()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// Sends one request over a new connection to `authority` (`host:port`). The request's URI
/// should be a path (`/echo?a=1`); a `Host` header is added when missing.
pub async fn send(authority: &str, req: Request<Bytes>) -> Result<HttpResponse, EmulatorError> {
    let stream = TcpStream::connect(authority).await?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| EmulatorError::Http(e.to_string()))?;
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    let (mut parts, body) = req.into_parts();
    if !parts.headers.contains_key(header::HOST) {
        if let Ok(v) = HeaderValue::from_str(authority) {
            parts.headers.insert(header::HOST, v);
        }
    }
    let req = Request::from_parts(parts, Full::new(body));
    let sent_at = Instant::now();
    let resp = match sender.send_request(req).await {
        Ok(r) => r,
        Err(e) => {
            conn.abort();
            return Err(EmulatorError::Http(e.to_string()));
        }
    };
    let (parts, body) = resp.into_parts();
    Ok(HttpResponse {
        status: parts.status,
        headers: parts.headers,
        sent_at,
        body,
        trailers: None,
        conn,
    })
}

/// Splits `http://host:port/path?q` into the authority and the path (with query).
pub fn split_url(url: &str) -> Result<(String, String), EmulatorError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| EmulatorError::Config(format!("only http:// URLs are supported: {url}")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_owned()))
}
