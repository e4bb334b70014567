//! The in-process emulator handle and its builder.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::answer::FunctionError;
use crate::client::{self, CollectedResponse, HttpResponse};
use crate::config::{CommandSpec, Config, InvokeMode};
use crate::core::{lock, Control, Core, InvokeOptions};
use crate::error::EmulatorError;
use crate::invocation::{Invocation, InvocationStream};
use crate::{front_door, process, runtime_api, server};

/// Configures and starts an [`Emulator`]. Every setting has Lambda's default, except the
/// ports (free ports by default).
#[derive(Debug, Default)]
pub struct EmulatorBuilder {
    cfg: Config,
    extensions_dir: Option<PathBuf>,
}

impl EmulatorBuilder {
    /// The function name (default `function`).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.cfg.function_name = name.into();
        self
    }

    /// The memory size in MB (default 128), as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.cfg.memory_mb = mb;
        self
    }

    /// The function timeout (default 30 s). An invocation running longer fails with
    /// `Sandbox.Timedout`; a late `/response` or `/error` for it gets `410 Gone`. The sandbox
    /// is then reset (a new init), except with [`max_concurrency`](Self::max_concurrency)
    /// above 1: there, as on Lambda Managed Instances, the function goes on running and must
    /// end the timed-out invocation itself.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.cfg.timeout = timeout;
        self
    }

    /// The longest the function may take to ask for its first event (default 10 s).
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.init_timeout = timeout;
        self
    }

    /// How long processes get between SIGTERM (or the SHUTDOWN event) and SIGKILL
    /// (default 2 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.cfg.shutdown_grace = grace;
        self
    }

    /// The AWS region (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.cfg.region = region.into();
        self
    }

    /// `AWS_LAMBDA_MAX_CONCURRENCY` (set when above 1; default 1). Above 1 (Lambda Managed
    /// Instances), a timed-out invocation does not reset the sandbox.
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.cfg.max_concurrency = n.max(1);
        self
    }

    /// What the Function URL asks for (default [`InvokeMode::ResponseStream`]).
    pub fn invoke_mode(mut self, mode: InvokeMode) -> Self {
        self.cfg.invoke_mode = mode;
        self
    }

    /// The streamed answer limit in bytes (default 200 MB).
    pub fn stream_limit(mut self, bytes: u64) -> Self {
        self.cfg.stream_limit = bytes;
        self
    }

    /// The invocation payload limit in bytes (default Lambda's 6 MB).
    pub fn request_limit(mut self, bytes: usize) -> Self {
        self.cfg.request_limit = bytes;
        self
    }

    /// The buffered answer limit in bytes (default Lambda's 6 MB).
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.cfg.response_limit = bytes;
        self
    }

    /// How many bytes of a streamed answer the emulator holds for an invoker that has not
    /// taken them yet (default [`STREAM_BUFFER`], 1 MiB). Past it, the emulator stops reading
    /// the function's answer until the invoker (a slow Function URL client, an
    /// [`InvocationStream`] read slowly) catches up, so the function is slowed down to the
    /// invoker's pace by TCP flow control instead of the emulator holding the whole stream.
    ///
    /// [`STREAM_BUFFER`]: crate::STREAM_BUFFER
    pub fn stream_buffer(mut self, bytes: usize) -> Self {
        self.cfg.stream_buffer = bytes.max(1);
        self
    }

    /// Tells the function a deadline `skew` later than the timeout the emulator enforces
    /// (default zero): the function then answers after its invocation timed out, and its late
    /// answer is refused with `410 Gone`, as Lambda does (see [`Emulator::late_answers`]).
    pub fn deadline_skew(mut self, skew: Duration) -> Self {
        self.cfg.deadline_skew = skew;
        self
    }

    /// Streams at most 2 MB/s after the first 6 MB, as Lambda does (default off).
    pub fn throttle_after_6mb(mut self, on: bool) -> Self {
        self.cfg.throttle = on;
        self
    }

    /// An environment variable for the function and its extensions (overrides Lambda's).
    /// `AWS_LAMBDA_EXEC_WRAPPER` set here makes the emulator run the wrapper with the
    /// command as its arguments.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.cfg.env.push((key.into(), value.into()));
        self
    }

    /// The function's command (program, arguments, environment, working directory). It is
    /// started in its own process group with Lambda's environment, restarted after a crash or
    /// a timeout, and stopped with its whole group on shutdown. Without a command, the
    /// function is whatever polls [`Emulator::runtime_api`] (e.g. a task in the test).
    pub fn command(mut self, cmd: std::process::Command) -> Self {
        self.cfg.command = Some(CommandSpec::from_std(&cmd));
        self
    }

    /// An external extension process, started before the function.
    pub fn extension(mut self, cmd: std::process::Command) -> Self {
        self.cfg.extensions.push(CommandSpec::from_std(&cmd));
        self
    }

    /// Starts every executable file in this directory as an external extension, like
    /// Lambda's `/opt/extensions`.
    pub fn extensions_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.extensions_dir = Some(dir.into());
        self
    }

    /// `_HANDLER` (default: the command's file name).
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.cfg.handler = Some(handler.into());
        self
    }

    /// `LAMBDA_TASK_ROOT` (default: the command's working directory).
    pub fn task_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cfg.task_root = Some(dir.into());
        self
    }

    /// The Function URL / invoke port on 127.0.0.1 (default 0: a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }

    /// The Runtime API port on 127.0.0.1 (default 0: a free port).
    pub fn runtime_port(mut self, port: u16) -> Self {
        self.cfg.runtime_port = port;
        self
    }

    /// The Runtime API address handed to the function and its extensions
    /// (`AWS_LAMBDA_RUNTIME_API`) when something sits between them and the emulator (a relay
    /// that cuts connections, say); default: the emulator's own Runtime API address.
    pub fn advertised_runtime_api(mut self, addr: impl Into<String>) -> Self {
        self.cfg.advertised_runtime_api = Some(addr.into());
        self
    }

    /// Sends the processes' stdout and stderr to /dev/null (default: inherited).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.cfg.quiet = quiet;
        self
    }

    /// Binds the ports, starts the APIs and (if configured) the function's processes.
    pub async fn start(mut self) -> Result<Emulator, EmulatorError> {
        if let Some(dir) = &self.extensions_dir {
            for path in executables_in(dir)? {
                self.cfg.extensions.push(CommandSpec {
                    program: path.into_os_string(),
                    args: Vec::new(),
                    envs: Vec::new(),
                    cwd: None,
                });
            }
        }
        // Fixed socket buffers where streamed answers come in (the Runtime API) and go out
        // (the front door), instead of buffers the kernel grows to megabytes: back-pressure
        // then reaches the function after the stream buffer and little more.
        let runtime_listener = bind(self.cfg.runtime_port, Some(SOCKET_BUFFER), None)?;
        let url_listener = bind(self.cfg.port, None, Some(SOCKET_BUFFER))?;
        let (core, control) = Core::new(
            self.cfg,
            runtime_listener.local_addr()?,
            url_listener.local_addr()?,
        );
        let c = core.clone();
        let runtime = server::spawn_server(runtime_listener, move |req, _| {
            runtime_api::handle(c.clone(), req)
        });
        let c = core.clone();
        let url = server::spawn_server(url_listener, move |req, peer| {
            front_door::handle(c.clone(), req, peer)
        });
        let supervisor = tokio::spawn(process::supervise(core.clone(), control));
        Ok(Emulator {
            core,
            servers: vec![runtime, url],
            supervisor: Some(supervisor),
        })
    }
}

/// The receive or send buffer size asked for the emulator's sockets on the paths of
/// streamed answers (Linux doubles it).
const SOCKET_BUFFER: u32 = 256 * 1024;

/// A listener on 127.0.0.1:`port`; accepted connections inherit the buffer sizes.
fn bind(
    port: u16,
    recv_buffer: Option<u32>,
    send_buffer: Option<u32>,
) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size)?;
    }
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(1024)
}

fn executables_in(dir: &std::path::Path) -> Result<Vec<PathBuf>, EmulatorError> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::metadata(&path)?;
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// A running emulated Lambda function: a Runtime API (with the Extensions API), a Function
/// URL front door with the invoke endpoint, and optionally the function's processes.
///
/// Dropping it kills the processes (best effort); prefer [`Emulator::shutdown`].
#[derive(Debug)]
pub struct Emulator {
    core: Arc<Core>,
    servers: Vec<JoinHandle<()>>,
    supervisor: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with Lambda's defaults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The Runtime API's address.
    pub fn runtime_api_addr(&self) -> SocketAddr {
        self.core.runtime_addr
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`).
    pub fn runtime_api(&self) -> String {
        self.core.runtime_addr.to_string()
    }

    /// The front door's address (Function URL and invoke endpoint).
    pub fn function_url_addr(&self) -> SocketAddr {
        self.core.url_addr
    }

    /// The Function URL, `http://127.0.0.1:<port>/`.
    pub fn function_url(&self) -> String {
        format!("http://{}/", self.core.url_addr)
    }

    /// The invoke endpoint, `http://127.0.0.1:<port>/2015-03-31/functions/function/invocations`.
    pub fn invoke_url(&self) -> String {
        format!(
            "http://{}/2015-03-31/functions/function/invocations",
            self.core.url_addr
        )
    }

    /// The environment Lambda would give the function (for functions run in process).
    pub fn lambda_env(&self) -> Vec<(String, String)> {
        let mut env = process::lambda_env(&self.core);
        env.extend(self.core.cfg.env.iter().cloned());
        env
    }

    /// How many times the function's processes have been started (inits).
    pub fn init_count(&self) -> u64 {
        self.core.inits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many answers were refused with `410 Gone` because their invocation had already
    /// timed out.
    pub fn late_answers(&self) -> u64 {
        self.core
            .late_answers
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The process id of the running function command, if any.
    pub fn function_pid(&self) -> Option<u32> {
        *lock(&self.core.runtime_pid)
    }

    /// Waits until the function (of the current sandbox) has asked for its first event.
    pub async fn wait_ready(&self, within: Duration) -> Result<(), EmulatorError> {
        tokio::time::timeout(within, self.core.wait_ready())
            .await
            .map_err(|_| EmulatorError::TimedOut("the function to poll the Runtime API"))
    }

    /// Invokes the function with an event and waits for the whole answer.
    ///
    /// Waits as long as it takes for a function to ask for the event (bound it with
    /// `tokio::time::timeout` when the function may never come); once delivered, the
    /// function timeout applies.
    pub async fn invoke(&self, event: impl Into<Bytes>) -> Result<Invocation, EmulatorError> {
        self.invoke_with(event, InvokeOptions::default()).await
    }

    /// Invokes with a client context, Cognito identity or trace id.
    pub async fn invoke_with(
        &self,
        event: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<Invocation, EmulatorError> {
        let stream = self.core.submit(None, event.into(), opts, true, true)?;
        Ok(stream.collect().await)
    }

    /// Invokes the function and returns at once: the answer comes as [`StreamEvent`]s,
    /// each chunk as soon as the function sends it.
    ///
    /// Streamed bytes are handed over at the pace they are taken: while this stream is not
    /// read, the emulator holds at most [`stream_buffer`](EmulatorBuilder::stream_buffer)
    /// bytes and stops reading the function's answer.
    ///
    /// [`StreamEvent`]: crate::StreamEvent
    pub fn invoke_stream(
        &self,
        event: impl Into<Bytes>,
    ) -> Result<InvocationStream, EmulatorError> {
        self.invoke_stream_with(event, InvokeOptions::default())
    }

    /// [`Emulator::invoke_stream`] with a client context, Cognito identity, trace id or
    /// request id.
    pub fn invoke_stream_with(
        &self,
        event: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<InvocationStream, EmulatorError> {
        self.core.submit(None, event.into(), opts, true, true)
    }

    /// Sends an HTTP request to the Function URL over a real connection. The request's URI is
    /// a path such as `/echo?a=1`.
    pub async fn request(&self, req: Request<Bytes>) -> Result<HttpResponse, EmulatorError> {
        client::send(&self.core.url_addr.to_string(), req).await
    }

    /// `GET path` on the Function URL, read to its end.
    pub async fn get(&self, path: &str) -> Result<CollectedResponse, EmulatorError> {
        let req = Request::get(path)
            .body(Bytes::new())
            .map_err(|e| EmulatorError::Http(e.to_string()))?;
        Ok(self.request(req).await?.collect().await)
    }

    /// Stops the function (SHUTDOWN to extensions, SIGTERM, then SIGKILL to every process
    /// group after the grace period) and the servers.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.stop().await;
        Ok(())
    }

    async fn stop(&mut self) {
        let (ack, done) = oneshot::channel();
        if self.core.control().send(Control::Shutdown(ack)).is_ok() {
            let bound = self.core.cfg.shutdown_grace + Duration::from_secs(5);
            let _ = tokio::time::timeout(bound, done).await;
        }
        tracing::debug!("supervisor stopped");
        self.core.stop();
        self.core.fail_all(&FunctionError::new(
            "Emulator.Stopped",
            "the emulator stopped",
        ));
        process::kill_all(&self.core);
        for s in self.servers.drain(..) {
            s.abort();
        }
        if let Some(sup) = self.supervisor.take() {
            sup.abort();
            let _ = sup.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if self.supervisor.is_some() {
            self.core.stop();
            process::kill_all(&self.core);
            for s in &self.servers {
                s.abort();
            }
            if let Some(sup) = self.supervisor.take() {
                sup.abort();
            }
        }
    }
}
