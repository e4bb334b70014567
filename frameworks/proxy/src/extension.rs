//! The Lambda Extensions API, for running as an external extension
//! (`/opt/extensions/lambda-adapter`): register, then wait for events.
//!
//! As an extension the adapter registers for `SHUTDOWN` only: it polls the Runtime API itself
//! (the app never talks to Lambda), and a task long-polls `/extension/event/next` so that the
//! adapter exits cleanly when the environment shuts down.

use std::path::Path;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serverless_adapter_core::runtime::Endpoint;
use serverless_adapter_core::Error;
use tokio::net::TcpStream;

/// The header naming the extension on registration.
pub const NAME_HEADER: &str = "lambda-extension-name";
/// The header carrying the extension's identifier.
pub const IDENTIFIER_HEADER: &str = "lambda-extension-identifier";

/// Whether a program started as `argv0` runs as an external extension: the directory it was
/// started from is named `extensions` (Lambda starts every file in `/opt/extensions/`).
pub fn is_extension_path(argv0: &Path) -> bool {
    argv0
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|name| name == "extensions")
}

/// An event from `/extension/event/next`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionEvent {
    /// The environment shuts down.
    Shutdown {
        /// `spindown`, `timeout` or `failure`.
        reason: String,
    },
    /// An invocation started (only for extensions registered for `INVOKE`).
    Invoke {
        /// The invocation's request id.
        request_id: String,
    },
    /// An event type this client does not know.
    Other(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    event_type: String,
    #[serde(default)]
    shutdown_reason: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

/// A registered extension.
#[derive(Debug)]
pub struct ExtensionClient {
    endpoint: Endpoint,
    identifier: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

async fn connect(endpoint: &Endpoint) -> Result<SendRequest<Full<Bytes>>, Error> {
    let unreachable = |error: String| {
        Error::runtime_api(
            format!("the Extensions API at {endpoint:?} cannot be reached (outside Lambda or the emulator, run with --no-extension)"),
            error,
        )
    };
    let stream = TcpStream::connect(endpoint.authority().as_str())
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn call(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), Error> {
    let failed = |e: String| Error::runtime_api("the Extensions API call failed", e);
    sender.ready().await.map_err(|e| failed(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let (head, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| failed(e.to_string()))?
        .to_bytes();
    Ok((head, body))
}

impl ExtensionClient {
    /// Registers the extension `name` (the file name in `/opt/extensions/`) for `events`
    /// (such as `["SHUTDOWN"]`).
    pub async fn register(endpoint: &Endpoint, name: &str, events: &[&str]) -> Result<Self, Error> {
        let mut sender = connect(endpoint).await?;
        let body = serde_json::json!({ "events": events }).to_string();
        let request = Request::builder()
            .method(Method::POST)
            .uri(endpoint.uri("/2020-01-01/extension/register"))
            .header(http::header::HOST, endpoint.authority().as_str())
            .header(NAME_HEADER, name)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::config(format!("invalid extension name {name:?}: {e}")))?;
        let (head, body) = call(&mut sender, request).await?;
        if head.status != StatusCode::OK {
            return Err(Error::runtime_api(
                format!("the extension registration was refused ({})", head.status),
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        let identifier = head
            .headers
            .get(IDENTIFIER_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                Error::runtime_api(
                    "the extension registration gave no identifier",
                    "missing Lambda-Extension-Identifier",
                )
            })?
            .to_owned();
        tracing::info!(name, events = ?events, "registered as a Lambda extension");
        Ok(Self {
            endpoint: endpoint.clone(),
            identifier,
            sender: Some(sender),
        })
    }

    /// The identifier Lambda gave on registration.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// Long-polls for the next event.
    pub async fn next_event(&mut self) -> Result<ExtensionEvent, Error> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => connect(&self.endpoint).await?,
        };
        let request = Request::builder()
            .method(Method::GET)
            .uri(self.endpoint.uri("/2020-01-01/extension/event/next"))
            .header(http::header::HOST, self.endpoint.authority().as_str())
            .header(IDENTIFIER_HEADER, self.identifier.as_str())
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::runtime_api("invalid event request", e.to_string()))?;
        let (head, body) = call(&mut sender, request).await?;
        self.sender = Some(sender);
        if head.status != StatusCode::OK {
            return Err(Error::runtime_api(
                format!(
                    "the Extensions API answered /event/next with {}",
                    head.status
                ),
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        let event: RawEvent = serde_json::from_slice(&body).map_err(|e| {
            Error::runtime_api("the Extensions API sent an unreadable event", e.to_string())
        })?;
        Ok(match event.event_type.as_str() {
            "SHUTDOWN" => ExtensionEvent::Shutdown {
                reason: event.shutdown_reason.unwrap_or_default(),
            },
            "INVOKE" => ExtensionEvent::Invoke {
                request_id: event.request_id.unwrap_or_default(),
            },
            _ => ExtensionEvent::Other(event.event_type),
        })
    }

    /// Polls events until `SHUTDOWN` (returning its reason) or an error.
    pub async fn until_shutdown(&mut self) -> Result<String, Error> {
        loop {
            if let ExtensionEvent::Shutdown { reason } = self.next_event().await? {
                return Ok(reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extensions_directory_decides() {
        assert!(is_extension_path(Path::new(
            "/opt/extensions/lambda-adapter"
        )));
        assert!(is_extension_path(Path::new("extensions/lambda-adapter")));
        assert!(!is_extension_path(Path::new("/opt/bootstrap")));
        assert!(!is_extension_path(Path::new("lambda-adapter")));
        assert!(!is_extension_path(Path::new(
            "/usr/local/bin/lambda-adapter"
        )));
        assert!(!is_extension_path(Path::new("/opt/extensions")));
    }
}
