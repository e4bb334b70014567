//! `ProxyFramework`: serves each request by forwarding it to the app on its port.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderValue, HOST};
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri, Version};
use serverless_adapter_core::{
    error_response, Body, BoxError, Error, Framework, LambdaContext, RequestContext,
};

use crate::client::{AppBody, AppClient, SendError};
use crate::compression::{self, Negotiated};
use crate::headers;
use crate::readiness::{poll_interval, ReadinessGate};
use crate::settings::{ProxySettings, StatusCodes};

/// Time kept before the Lambda deadline: a request still waiting on the app then gets a `504`
/// from the proxy, and a body still streaming ends with a timeout error, so that the function
/// answers before Lambda stops it. Larger than the core's own margin (300 ms), so the proxy's
/// answer comes first.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// A [`Framework`] that forwards every request to a web app listening on a local port, over
/// pooled kept-alive HTTP/1.1 connections, streaming both bodies.
///
/// For each request it:
/// - waits, if the app is not ready yet ([`ReadinessGate`]), at most until the deadline;
/// - removes hop-by-hop headers (`connection` and the headers it names, `keep-alive`,
///   `proxy-*`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `expect`) both ways;
/// - sets `x-amzn-request-context` (from the [`RequestContext`] extension),
///   `x-amzn-lambda-context` (JSON of the [`LambdaContext`] extension), `x-amzn-trace-id` and
///   `x-amz-tenant-id`, replacing values a client sent (removing them when there is no value);
/// - removes the base path (`AWS_LWA_REMOVE_BASE_PATH`) at a segment boundary and renames the
///   authorization source header (`AWS_LWA_AUTHORIZATION_SOURCE`) to `authorization`;
/// - keeps the event's `host` header (or sets the app's address when there is none);
/// - sends the request once more when the app had closed the kept-alive connection (see the
///   `client` module notes in the crate documentation);
/// - answers `504` when the app gives no response head before the Lambda deadline minus
///   [`DEFAULT_DEADLINE_MARGIN`], and ends a response body still streaming then with a
///   timeout error;
/// - with `AWS_LWA_ENABLE_COMPRESSION=true`, compresses the response body as it streams
///   (gzip, Brotli or Zstandard, as the request's `accept-encoding` allows; see
///   [`compression`](crate::compression)); except answers whose status is one of
///   `AWS_LWA_ERROR_STATUS_CODES`: they become invocation errors quoting the body, which
///   must stay readable.
///
/// Cloning is cheap: clones share the connection pool.
#[derive(Clone)]
pub struct ProxyFramework {
    shared: Arc<Shared>,
}

struct Shared {
    client: AppClient,
    target: String,
    host_header: HeaderValue,
    remove_base_path: Option<String>,
    authorization_source: Option<http::HeaderName>,
    deadline_margin: Duration,
    gate: ReadinessGate,
    compress: bool,
    error_statuses: Option<StatusCodes>,
}

impl std::fmt::Debug for ProxyFramework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyFramework")
            .field("target", &self.shared.target)
            .field("remove_base_path", &self.shared.remove_base_path)
            .field("authorization_source", &self.shared.authorization_source)
            .field("deadline_margin", &self.shared.deadline_margin)
            .field("gate", &self.shared.gate)
            .field("compress", &self.shared.compress)
            .finish()
    }
}

impl ProxyFramework {
    /// A proxy to the app the settings describe, taken to be ready (see [`builder`](Self::builder)).
    pub fn new(settings: &ProxySettings) -> Self {
        Self::builder(settings).build()
    }

    /// A proxy to the app at `host:port` with default settings.
    pub fn to(host: &str, port: u16) -> Self {
        Self::new(&ProxySettings::for_app(host, port))
    }

    /// A builder, to set the readiness gate or the deadline margin.
    pub fn builder(settings: &ProxySettings) -> ProxyBuilder {
        ProxyBuilder {
            settings: settings.clone(),
            gate: ReadinessGate::ready(),
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }

    /// The readiness gate requests wait at.
    pub fn gate(&self) -> &ReadinessGate {
        &self.shared.gate
    }

    /// `http://host:port` of the app.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// Turns the request into the one the app gets.
    fn prepare(&self, request: Request<Body>) -> Request<Body> {
        let shared = &self.shared;
        let (mut parts, body) = request.into_parts();
        let mut path = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        if let Some(base) = &shared.remove_base_path {
            if let Some(stripped) = headers::remove_base_path(&path, base) {
                path = stripped;
            }
        }
        parts.uri = Uri::from(path);
        parts.version = Version::HTTP_11;
        let headers = &mut parts.headers;
        headers::strip_hop_by_hop(headers);
        if let Some(source) = &shared.authorization_source {
            headers::rename_authorization(headers, source);
        }
        headers::set_context_headers(
            headers,
            parts.extensions.get::<LambdaContext>(),
            parts.extensions.get::<RequestContext>(),
        );
        if !headers.contains_key(HOST) {
            headers.insert(HOST, shared.host_header.clone());
        }
        parts.extensions = http::Extensions::new();
        Request::from_parts(parts, body)
    }

    async fn forward(
        &self,
        request: Request<Body>,
        deadline: Option<(tokio::time::Instant, Duration)>,
    ) -> Result<Response<Body>, BoxError> {
        let shared = &self.shared;
        let until = |at: Option<(tokio::time::Instant, Duration)>| async move {
            match at {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        if !shared.gate.is_ready() {
            tokio::select! {
                biased;
                waited = shared.gate.wait() => if let Err(reason) = waited {
                    tracing::error!(reason = %reason, "the app is not ready; answering 503");
                    return Ok(not_ready_response());
                },
                () = until(deadline) => return Ok(timeout_response(deadline, "the app was not ready")),
            }
        }
        let negotiated = shared
            .compress
            .then(|| Negotiated::from_request(request.method(), request.headers()));
        let request = self.prepare(request);
        let sending = async {
            let mut request = request;
            let started = std::time::Instant::now();
            loop {
                match shared.client.send(request).await {
                    // A supervised app may be restarting: a refused connection waits for it
                    // (the request has not left, so it is simply sent when the app listens).
                    Err(SendError::Connect(error, unsent)) if shared.gate.is_supervised() => {
                        tracing::debug!(error = %error, "the app is not listening; waiting for it");
                        if shared.gate.wait().await.is_err() {
                            return Err(SendError::Connect(error, unsent));
                        }
                        tokio::time::sleep(poll_interval(started.elapsed())).await;
                        request = *unsent;
                    }
                    other => return other,
                }
            }
        };
        let sent = tokio::select! {
            biased;
            sent = sending => sent,
            () = until(deadline) => return Ok(timeout_response(deadline, "the app gave no response")),
        };
        let (response, checkin) = sent.map_err(|error| error.into_box(&shared.target))?;
        let (mut head, incoming) = response.into_parts();
        headers::strip_hop_by_hop(&mut head.headers);
        let response =
            Response::from_parts(head, Body::new(AppBody::new(incoming, checkin, deadline)));
        Ok(match negotiated {
            Some(_)
                if shared
                    .error_statuses
                    .as_ref()
                    .is_some_and(|codes| codes.contains(response.status().as_u16())) =>
            {
                response
            }
            Some(negotiated) => compression::compress(negotiated, response),
            None => response,
        })
    }
}

/// Builds a [`ProxyFramework`].
#[derive(Debug)]
pub struct ProxyBuilder {
    settings: ProxySettings,
    gate: ReadinessGate,
    deadline_margin: Duration,
}

impl ProxyBuilder {
    /// Uses `gate` to know whether the app is ready: requests wait at it while it is closed
    /// (by default the app is taken to be ready).
    pub fn gate(mut self, gate: ReadinessGate) -> Self {
        self.gate = gate;
        self
    }

    /// Sets the time kept before the Lambda deadline ([`DEFAULT_DEADLINE_MARGIN`] by default).
    pub fn deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = margin;
        self
    }

    /// The proxy.
    pub fn build(self) -> ProxyFramework {
        let settings = &self.settings;
        let authority = settings.authority();
        ProxyFramework {
            shared: Arc::new(Shared {
                client: AppClient::new(&settings.host, settings.port, settings.pool_connections),
                host_header: HeaderValue::from_str(&authority)
                    .unwrap_or_else(|_| HeaderValue::from_static("localhost")),
                target: format!("http://{authority}"),
                remove_base_path: settings.remove_base_path.clone(),
                authorization_source: settings.authorization_source.clone(),
                deadline_margin: self.deadline_margin,
                gate: self.gate,
                compress: settings.enable_compression,
                error_statuses: settings.error_status_codes.clone(),
            }),
        }
    }
}

fn timeout_response(
    deadline: Option<(tokio::time::Instant, Duration)>,
    what: &str,
) -> Response<Body> {
    let budget = deadline.map_or(0, |(_, budget)| budget.as_millis());
    let error = Error::timeout(format!(
        "{what} within {budget} ms, before the Lambda deadline: make the app answer faster, or raise the function timeout"
    ));
    tracing::error!(error = error.message(), "answering 504");
    error_response(&error).unwrap_or_else(|| {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::GATEWAY_TIMEOUT;
        response
    })
}

fn not_ready_response() -> Response<Body> {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"message":"Service Unavailable","errorType":"App.NotReady"}"#,
        ))
        .unwrap_or_default()
}

impl Framework for ProxyFramework {
    fn serve(
        &self,
        request: Request<Body>,
    ) -> impl std::future::Future<Output = Result<Response<Body>, BoxError>> + Send {
        let deadline = request
            .extensions()
            .get::<LambdaContext>()
            .and_then(LambdaContext::remaining)
            .map(|left| {
                let budget = left.saturating_sub(self.shared.deadline_margin);
                (tokio::time::Instant::now() + budget, budget)
            });
        self.forward(request, deadline)
    }
}
