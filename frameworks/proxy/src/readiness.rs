//! Knowing when the app is ready: the check (an HTTP `GET` or a TCP connect, polled fast at
//! first) and the gate requests wait at while the app is not ready.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Request;
use http_body_util::Empty;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serverless_adapter_core::Error;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::settings::{ProxySettings, ReadinessProtocol, StatusCodes};

/// Longest one readiness attempt may take (an app that accepted the connection but does not
/// answer yet); the overall timeout, when set, still applies.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the wait is logged while the app is not ready.
const LOG_EVERY: Duration = Duration::from_secs(2);

/// The delay before the next readiness attempt, `elapsed` after the wait began: 1 ms for the
/// first 100 ms (a refused connect on the loopback costs microseconds, and most apps start
/// within this time), then 5 ms up to 1 s, 10 ms up to 3 s, and 50 ms after that. (Before the
/// first attempt, an app on this machine is also watched for its port opening every
/// [`FAST_POLL`] during the first [`FAST_PHASE`].)
pub fn poll_interval(elapsed: Duration) -> Duration {
    let ms = match elapsed.as_millis() {
        0..100 => 1,
        100..1_000 => 5,
        1_000..3_000 => 10,
        _ => 50,
    };
    Duration::from_millis(ms)
}

/// The readiness check of the app.
#[derive(Debug, Clone)]
pub struct ReadinessCheck {
    host: String,
    port: u16,
    protocol: ReadinessProtocol,
    path: String,
    healthy: StatusCodes,
}

impl ReadinessCheck {
    /// The check the settings describe.
    pub fn new(settings: &ProxySettings) -> Self {
        Self {
            host: settings.host.clone(),
            port: settings.readiness_port,
            protocol: settings.readiness_protocol,
            path: settings.readiness_path.clone(),
            healthy: settings.readiness_healthy_status.clone(),
        }
    }

    /// Where the check goes, for logs: `http://host:port/path` or `tcp://host:port`.
    pub fn target(&self) -> String {
        match self.protocol {
            ReadinessProtocol::Http => format!("http://{}:{}{}", self.host, self.port, self.path),
            ReadinessProtocol::Tcp => format!("tcp://{}:{}", self.host, self.port),
        }
    }

    fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// One attempt: `Ok` when the app is ready, else why not.
    pub async fn probe(&self) -> Result<(), String> {
        let stream = TcpStream::connect((self.connect_host(), self.port))
            .await
            .map_err(|error| format!("cannot connect: {error}"))?;
        if self.protocol == ReadinessProtocol::Tcp {
            return Ok(());
        }
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = http1::Builder::new()
            .handshake::<_, Empty<bytes::Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake failed: {error}"))?;
        let connection = tokio::spawn(connection);
        let request = Request::get(self.path.as_str())
            .header(http::header::HOST, format!("{}:{}", self.host, self.port))
            .header(http::header::USER_AGENT, "lambda-adapter readiness check")
            .body(Empty::new())
            .map_err(|error| format!("invalid readiness request: {error}"))?;
        let response = sender.send_request(request).await;
        connection.abort();
        let status = response
            .map_err(|error| format!("the readiness request failed: {error}"))?
            .status();
        if self.healthy.contains(status.as_u16()) {
            Ok(())
        } else {
            Err(format!("status {status} is not one of {}", self.healthy))
        }
    }

    /// Polls until the app is ready ([`poll_interval`] apart) and returns how long that took;
    /// past `timeout` it is a configuration error naming the check and the last failure.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<Duration, Error> {
        let start = Instant::now();
        let mut last_log = start;
        self.wait_for_port_fast(start, timeout).await;
        loop {
            let attempt_limit = match timeout {
                Some(limit) => ATTEMPT_TIMEOUT.min(limit.saturating_sub(start.elapsed())),
                None => ATTEMPT_TIMEOUT,
            };
            let outcome = tokio::time::timeout(attempt_limit, self.probe())
                .await
                .unwrap_or_else(|_| Err("no answer in time".to_owned()));
            let why = match outcome {
                Ok(()) => {
                    let waited = start.elapsed();
                    tracing::info!(target_url = %self.target(), waited_ms = waited.as_secs_f64() * 1e3, "the app is ready");
                    return Ok(waited);
                }
                Err(why) => why,
            };
            let elapsed = start.elapsed();
            if let Some(limit) = timeout {
                if elapsed >= limit {
                    return Err(Error::config(format!(
                        "the app was not ready at {} within {} s (AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS); last attempt: {why}. Check that the app listens on AWS_LWA_PORT and answers the readiness check (AWS_LWA_READINESS_CHECK_PATH / _PROTOCOL) with a healthy status (AWS_LWA_READINESS_CHECK_HEALTHY_STATUS), or raise the timeout",
                        self.target(),
                        limit.as_secs_f64()
                    )));
                }
            }
            if last_log.elapsed() >= LOG_EVERY {
                last_log = Instant::now();
                tracing::info!(target_url = %self.target(), waited_s = elapsed.as_secs(), last = %why, "still waiting for the app to be ready");
            }
            let mut pause = poll_interval(elapsed);
            if let Some(limit) = timeout {
                pause = pause.min(limit.saturating_sub(elapsed));
            }
            tokio::time::sleep(pause).await;
        }
    }
}

impl ReadinessCheck {
    /// The fast phase: for the first [`FAST_PHASE`], while the app's port is closed, a connect
    /// is tried every [`FAST_POLL`] on a blocking thread (the async timer ticks in whole
    /// milliseconds). A refused connect on the loopback costs microseconds, so the port is seen
    /// open a fraction of a millisecond after the app listens; the regular probe follows at
    /// once. Only for apps on this machine (a loopback or unspecified address).
    async fn wait_for_port_fast(&self, start: Instant, timeout: Option<Duration>) {
        let Ok(mut addresses) = tokio::net::lookup_host((self.connect_host(), self.port)).await
        else {
            return;
        };
        let Some(address) = addresses.find(|a| a.ip().is_loopback() || a.ip().is_unspecified())
        else {
            return;
        };
        let limit = timeout.map_or(FAST_PHASE, |limit| limit.min(FAST_PHASE));
        let polling = tokio::task::spawn_blocking(move || {
            while start.elapsed() < limit {
                if std::net::TcpStream::connect_timeout(&address, FAST_CONNECT_TIMEOUT).is_ok() {
                    return;
                }
                std::thread::sleep(FAST_POLL);
            }
        });
        let _ = polling.await;
    }
}

/// How long the fast phase of the readiness wait lasts.
pub const FAST_PHASE: Duration = Duration::from_millis(100);
/// How often the port is tried during the fast phase.
pub const FAST_POLL: Duration = Duration::from_micros(200);
/// A loopback connect is refused or accepted at once; this only bounds an odd one.
const FAST_CONNECT_TIMEOUT: Duration = Duration::from_millis(20);

const PENDING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

struct GateInner {
    state: AtomicU8,
    changed: Notify,
    failure: Mutex<String>,
    supervised: AtomicBool,
}

/// Whether the app is ready, shared by the proxy (requests wait at it) and whatever checks
/// the app (the readiness task, the supervisor).
///
/// The check on the request path is one atomic load once the app is ready.
#[derive(Clone)]
pub struct ReadinessGate {
    inner: Arc<GateInner>,
}

impl std::fmt::Debug for ReadinessGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.inner.state.load(Ordering::Acquire) {
            READY => "ready",
            FAILED => "failed",
            _ => "pending",
        };
        f.debug_struct("ReadinessGate")
            .field("state", &state)
            .finish()
    }
}

impl ReadinessGate {
    fn with_state(state: u8) -> Self {
        Self {
            inner: Arc::new(GateInner {
                state: AtomicU8::new(state),
                changed: Notify::new(),
                failure: Mutex::new(String::new()),
                supervised: AtomicBool::new(false),
            }),
        }
    }

    /// A gate that is open: the app is taken to be ready.
    pub fn ready() -> Self {
        Self::with_state(READY)
    }

    /// A gate that is closed until [`set_ready`](Self::set_ready).
    pub fn pending() -> Self {
        Self::with_state(PENDING)
    }

    /// True when the app is ready.
    pub fn is_ready(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == READY
    }

    /// Opens the gate: waiting requests go on.
    pub fn set_ready(&self) {
        self.set(READY);
    }

    /// Closes the gate (the app is restarting): requests wait until it opens again.
    pub fn set_pending(&self) {
        self.set(PENDING);
    }

    /// The app will not be ready: waiting requests are answered `503` with this reason logged.
    pub fn fail(&self, reason: impl Into<String>) {
        *self.inner.failure.lock().unwrap_or_else(|p| p.into_inner()) = reason.into();
        self.set(FAILED);
    }

    fn set(&self, state: u8) {
        self.inner.state.store(state, Ordering::Release);
        self.inner.changed.notify_waiters();
    }

    /// Marks the app as run by a supervisor that restarts it: a request that finds the app
    /// not listening then waits for it instead of failing at once.
    pub fn set_supervised(&self, supervised: bool) {
        self.inner.supervised.store(supervised, Ordering::Release);
    }

    /// True when a supervisor restarts the app.
    pub fn is_supervised(&self) -> bool {
        self.inner.supervised.load(Ordering::Acquire)
    }

    /// Waits until the gate opens (`Ok`) or fails (`Err` with the reason).
    pub async fn wait(&self) -> Result<(), String> {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.inner.state.load(Ordering::Acquire) {
                READY => return Ok(()),
                FAILED => {
                    return Err(self
                        .inner
                        .failure
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone())
                }
                _ => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_fast_then_backs_off() {
        assert_eq!(poll_interval(Duration::ZERO), Duration::from_millis(1));
        assert_eq!(
            poll_interval(Duration::from_millis(99)),
            Duration::from_millis(1)
        );
        assert_eq!(
            poll_interval(Duration::from_millis(100)),
            Duration::from_millis(5)
        );
        assert_eq!(
            poll_interval(Duration::from_millis(2_000)),
            Duration::from_millis(10)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(60)),
            Duration::from_millis(50)
        );
    }

    #[tokio::test]
    async fn the_gate_wakes_waiters() {
        let gate = ReadinessGate::pending();
        assert!(!gate.is_ready());
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.wait().await }
        });
        tokio::task::yield_now().await;
        gate.set_ready();
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert!(gate.is_ready());

        gate.set_pending();
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.wait().await }
        });
        tokio::task::yield_now().await;
        gate.fail("no app");
        assert_eq!(waiter.await.unwrap(), Err("no app".to_owned()));
    }

    fn check(protocol: ReadinessProtocol, port: u16, healthy: &str) -> ReadinessCheck {
        let mut settings = ProxySettings::for_app("127.0.0.1", port);
        settings.readiness_protocol = protocol;
        settings.readiness_path = "/health".into();
        settings.readiness_healthy_status = StatusCodes::parse(healthy).unwrap();
        ReadinessCheck::new(&settings)
    }

    async fn serve_status(status: u16) -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: Request<hyper::body::Incoming>| async move {
                        assert_eq!(request.uri().path(), "/health");
                        http::Response::builder()
                            .status(status)
                            .body(Empty::<bytes::Bytes>::new())
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn http_checks_use_the_healthy_statuses() {
        let (port, server) = serve_status(404).await;
        assert!(check(ReadinessProtocol::Http, port, "100-499")
            .probe()
            .await
            .is_ok());
        let why = check(ReadinessProtocol::Http, port, "200-399")
            .probe()
            .await
            .unwrap_err();
        assert!(why.contains("404"), "{why}");
        assert!(check(ReadinessProtocol::Http, port, "200-399,404")
            .probe()
            .await
            .is_ok());
        server.abort();
        let (port, server) = serve_status(503).await;
        assert!(check(ReadinessProtocol::Http, port, "100-499")
            .probe()
            .await
            .is_err());
        assert!(check(ReadinessProtocol::Tcp, port, "100-499")
            .probe()
            .await
            .is_ok());
        server.abort();
    }

    #[tokio::test]
    async fn the_wait_times_out_with_a_clear_error() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let start = Instant::now();
        let error = check(ReadinessProtocol::Tcp, port, "100-499")
            .wait(Some(Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(error.is_config());
        assert!(
            error.message().contains("READINESS_CHECK_TIMEOUT"),
            "{error}"
        );
        assert!(
            error.message().contains(&format!("tcp://127.0.0.1:{port}")),
            "{error}"
        );
    }
}
