//! The shared state of one emulated function: the invocation queue, invocations in flight,
//! registered extensions, and the task that drives each invocation.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::sleep_until;

use crate::answer::FunctionError;
use crate::config::{Config, THROTTLE_AFTER, THROTTLE_RATE};
use crate::error::EmulatorError;
use crate::invocation::{HeadKind, InvocationStream, Reply, ReplyTx};
use crate::server::BoxBody;
use crate::util::{api_error, epoch_ms, json_response, trace_id, uuid, Utc};

/// Per-invocation context that a caller may set, passed to the function in `/next` headers.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// `Lambda-Runtime-Client-Context` (JSON), as the mobile SDKs send.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity` (JSON).
    pub cognito_identity: Option<String>,
    /// `Lambda-Runtime-Trace-Id`; a fresh one is made when absent.
    pub trace_id: Option<String>,
    /// `Lambda-Runtime-Aws-Tenant-Id` (tenant isolation mode).
    pub tenant_id: Option<String>,
    /// The request id (`Lambda-Runtime-Aws-Request-Id`); a fresh one is made when absent.
    /// Lambda accepts a caller's request id again once its earlier invocation is over (a
    /// retry): set it to test that a late answer of the earlier attempt, which echoes the
    /// earlier `Lambda-Runtime-Invocation-Id`, is refused. Invoking with an id that is still
    /// in flight fails.
    pub request_id: Option<String>,
}

/// An event waiting for the function to ask for it.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) id: String,
    /// `Lambda-Runtime-Invocation-Id`: unique to this attempt, unlike the request id.
    pub(crate) invocation_id: String,
    pub(crate) event: Bytes,
    pub(crate) opts: InvokeOptions,
    pub(crate) trace_id: String,
}

/// An event handed to the function by `/next`.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) queued: Queued,
    pub(crate) deadline_ms: u64,
}

/// What the Runtime API (and the supervisor) tells an invocation's task.
#[derive(Debug)]
pub(crate) enum RuntimeMsg {
    Delivered {
        deadline: Instant,
        generation: u64,
    },
    Response {
        headers: HeaderMap,
        body: Incoming,
        verdict: oneshot::Sender<Response<BoxBody>>,
    },
    Error {
        headers: HeaderMap,
        error: FunctionError,
    },
    /// The platform failed the invocation (crash, init failure, reset, shutdown).
    Fail(FunctionError),
    /// An answer for this request id was refused: it echoed another invocation id.
    Rejected(String),
}

#[derive(Debug)]
struct Entry {
    tx: mpsc::UnboundedSender<RuntimeMsg>,
    invocation_id: String,
    delivered: bool,
    answered: bool,
    generation: u64,
}

#[derive(Debug, Default)]
struct Sched {
    queue: VecDeque<Queued>,
    generation: u64,
    init_done: bool,
    init_error: Option<FunctionError>,
    /// The managed sandbox is being torn down and the next one not started yet: its
    /// processes, still alive for their grace period, get no event.
    closed: bool,
}

/// How many timed-out invocations the emulator remembers, to answer their late answers
/// `410 Gone` (older ones get the plain unknown-request-id answer).
const TIMED_OUT_MEMORY: usize = 1024;

/// Why an answer for a request id is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClaimError {
    /// No such invocation in flight (never existed, not yet delivered, or finished).
    Unknown,
    /// The invocation has already been answered.
    Answered,
    /// The invocation timed out: the answer is too late (410).
    TimedOut,
    /// The answer echoes a `Lambda-Runtime-Invocation-Id` that is not this invocation's.
    InvocationIdMismatch,
}

impl ClaimError {
    pub(crate) fn response(self, id: &str) -> Response<BoxBody> {
        match self {
            ClaimError::Unknown => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                &format!("Invalid request ID: {id}"),
            ),
            ClaimError::Answered => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                &format!("Invalid request ID: {id} has already been answered"),
            ),
            ClaimError::TimedOut => late_answer(id),
            ClaimError::InvocationIdMismatch => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidInvocationID",
                &format!(
                    "Invalid invocation ID: the Lambda-Runtime-Invocation-Id header does not match the invocation in flight for request ID {id}"
                ),
            ),
        }
    }
}

/// The answer to `/response` or `/error` of an invocation that timed out: `410 Gone`, as
/// Lambda answers (the function should log it and poll for the next event).
pub(crate) fn late_answer(id: &str) -> Response<BoxBody> {
    api_error(
        StatusCode::GONE,
        "InvokeTimeout",
        &format!("Invoke timeout: request ID {id} timed out; its answer is too late"),
    )
}

/// Requests to the process supervisor.
#[derive(Debug)]
pub(crate) enum Control {
    /// Kill and re-create the sandbox (after a timeout).
    Reset {
        generation: u64,
        reason: &'static str,
    },
    /// The function reported an init error.
    InitError { generation: u64 },
    /// Stop everything, then answer.
    Shutdown(oneshot::Sender<()>),
}

/// A registered extension.
#[derive(Debug)]
pub(crate) struct Extension {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) invoke: bool,
    pub(crate) shutdown: bool,
    events: Mutex<VecDeque<Bytes>>,
    notify: Notify,
    closed: AtomicBool,
}

impl Extension {
    fn push(&self, event: Bytes) {
        lock(&self.events).push_back(event);
        self.notify.notify_waiters();
    }

    /// Waits for the next event; `None` once the extension's sandbox is gone.
    pub(crate) async fn next_event(&self) -> Option<Bytes> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(ev) = lock(&self.events).pop_front() {
                return Some(ev);
            }
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            notified.await;
        }
    }

    /// Whether every event given to it has been taken.
    pub(crate) fn drained(&self) -> bool {
        lock(&self.events).is_empty()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The state of one emulated function.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) cfg: Config,
    pub(crate) runtime_addr: SocketAddr,
    pub(crate) url_addr: SocketAddr,
    sched: Mutex<Sched>,
    queue_notify: Notify,
    pub(crate) submitted: Notify,
    entries: Mutex<HashMap<String, Entry>>,
    /// Recently timed-out invocations: (request id, invocation id), oldest first.
    timed_out: Mutex<VecDeque<(String, String)>>,
    ready: watch::Sender<bool>,
    extensions: Mutex<Vec<Arc<Extension>>>,
    pub(crate) ext_registered: Notify,
    control: mpsc::UnboundedSender<Control>,
    pub(crate) pgids: Mutex<Vec<i32>>,
    pub(crate) runtime_pid: Mutex<Option<u32>>,
    pub(crate) inits: AtomicU64,
    /// Answers refused with 410 Gone because their invocation had timed out.
    pub(crate) late_answers: AtomicU64,
    stopped: AtomicBool,
}

impl Core {
    pub(crate) fn new(
        cfg: Config,
        runtime_addr: SocketAddr,
        url_addr: SocketAddr,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Control>) {
        let (control, control_rx) = mpsc::unbounded_channel();
        let core = Core {
            cfg,
            runtime_addr,
            url_addr,
            sched: Mutex::new(Sched::default()),
            queue_notify: Notify::new(),
            submitted: Notify::new(),
            entries: Mutex::new(HashMap::new()),
            timed_out: Mutex::new(VecDeque::new()),
            ready: watch::channel(false).0,
            extensions: Mutex::new(Vec::new()),
            ext_registered: Notify::new(),
            control,
            pgids: Mutex::new(Vec::new()),
            runtime_pid: Mutex::new(None),
            inits: AtomicU64::new(0),
            late_answers: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        };
        (Arc::new(core), control_rx)
    }

    // ----- invocations -----

    /// Queues an event and starts the task that drives its invocation.
    pub(crate) fn submit(
        self: &Arc<Self>,
        id: Option<String>,
        event: Bytes,
        opts: InvokeOptions,
        decode_prelude: bool,
        keep_raw: bool,
    ) -> Result<InvocationStream, EmulatorError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(EmulatorError::Stopped);
        }
        if event.len() > self.cfg.request_limit {
            return Err(EmulatorError::PayloadTooLarge {
                size: event.len(),
                limit: self.cfg.request_limit,
            });
        }
        let id = id.or_else(|| opts.request_id.clone()).unwrap_or_else(uuid);
        let invocation_id = uuid();
        let (reply_tx, reply_rx) = ReplyTx::channel(self.cfg.stream_buffer);
        let (rt_tx, rt_rx) = mpsc::unbounded_channel();
        {
            let mut entries = lock(&self.entries);
            if entries.contains_key(&id) {
                return Err(EmulatorError::Config(format!(
                    "request id {id} is already in flight"
                )));
            }
            entries.insert(
                id.clone(),
                Entry {
                    tx: rt_tx,
                    invocation_id: invocation_id.clone(),
                    delivered: false,
                    answered: false,
                    generation: 0,
                },
            );
        }
        let trace_id = opts.trace_id.clone().unwrap_or_else(trace_id);
        lock(&self.sched).queue.push_back(Queued {
            id: id.clone(),
            invocation_id: invocation_id.clone(),
            event,
            opts,
            trace_id,
        });
        tokio::spawn(run_invocation(
            self.clone(),
            id.clone(),
            invocation_id.clone(),
            rt_rx,
            reply_tx,
        ));
        self.queue_notify.notify_waiters();
        self.submitted.notify_waiters();
        Ok(InvocationStream::new(
            id,
            invocation_id,
            reply_rx,
            decode_prelude,
            keep_raw,
        ))
    }

    /// Whether events are waiting for the function.
    pub(crate) fn has_queued(&self) -> bool {
        !lock(&self.sched).queue.is_empty()
    }

    /// `/next`: waits for an event. `None` when this poller's sandbox has been replaced.
    pub(crate) async fn next_invocation(&self) -> Option<Delivery> {
        if lock(&self.sched).closed {
            // A process of a sandbox being torn down: it must not take the next sandbox's
            // events (nor mark its init done).
            return None;
        }
        let generation = self.generation();
        self.mark_init_done(generation);
        loop {
            let notified = self.queue_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stopped.load(Ordering::SeqCst) {
                return None;
            }
            let delivered = {
                let mut sched = lock(&self.sched);
                if sched.generation != generation {
                    return None;
                }
                let mut found = None;
                while let Some(q) = sched.queue.pop_front() {
                    let now = Instant::now();
                    let deadline = now + self.cfg.timeout;
                    let mut entries = lock(&self.entries);
                    if let Some(e) = entries
                        .get_mut(&q.id)
                        .filter(|e| e.invocation_id == q.invocation_id)
                    {
                        if !e.delivered
                            && e.tx
                                .send(RuntimeMsg::Delivered {
                                    deadline,
                                    generation,
                                })
                                .is_ok()
                        {
                            e.delivered = true;
                            e.generation = generation;
                            found = Some(Delivery {
                                queued: q,
                                deadline_ms: epoch_ms()
                                    + (self.cfg.timeout + self.cfg.deadline_skew).as_millis()
                                        as u64,
                            });
                            break;
                        }
                    }
                }
                found
            };
            if let Some(d) = delivered {
                self.extension_invoke_event(&d);
                return Some(d);
            }
            notified.await;
        }
    }

    /// Claims an invocation for an answer. With `commit`, later claims fail. `echoed` is the
    /// answer's `Lambda-Runtime-Invocation-Id` header, checked when present (functions that
    /// do not echo it are not checked, as on Lambda).
    pub(crate) fn claim(
        &self,
        id: &str,
        commit: bool,
        echoed: Option<&str>,
    ) -> Result<mpsc::UnboundedSender<RuntimeMsg>, ClaimError> {
        let mut entries = lock(&self.entries);
        match entries.get_mut(id) {
            Some(e) if e.delivered => {
                if let Some(echoed) = echoed.filter(|echoed| *echoed != e.invocation_id) {
                    if self.timed_out_invocation(echoed) {
                        // A late answer of an earlier attempt with the same request id.
                        tracing::warn!(request_id = %id, invocation_id = %echoed, "late answer of a timed-out invocation refused");
                        self.late_answers.fetch_add(1, Ordering::SeqCst);
                        return Err(ClaimError::TimedOut);
                    }
                    tracing::warn!(request_id = %id, invocation_id = %echoed, expected = %e.invocation_id, "answer with a wrong Lambda-Runtime-Invocation-Id refused");
                    let _ = e.tx.send(RuntimeMsg::Rejected(echoed.to_owned()));
                    return Err(ClaimError::InvocationIdMismatch);
                }
                if e.answered {
                    return Err(ClaimError::Answered);
                }
                if commit {
                    e.answered = true;
                }
                Ok(e.tx.clone())
            }
            Some(_) => Err(ClaimError::Unknown),
            None if self.timed_out_request(id) => {
                tracing::warn!(request_id = %id, "late answer of a timed-out invocation refused");
                self.late_answers.fetch_add(1, Ordering::SeqCst);
                Err(ClaimError::TimedOut)
            }
            None => Err(ClaimError::Unknown),
        }
    }

    /// Forgets an invocation (only the attempt `invocation_id`: the request id may have been
    /// reused since).
    fn remove(&self, id: &str, invocation_id: &str) {
        let mut entries = lock(&self.entries);
        if entries
            .get(id)
            .is_some_and(|e| e.invocation_id == invocation_id)
        {
            entries.remove(id);
        }
    }

    /// Remembers a timed-out invocation, so that its late answer gets `410 Gone`.
    fn mark_timed_out(&self, id: &str, invocation_id: &str) {
        let mut timed_out = lock(&self.timed_out);
        if timed_out.len() >= TIMED_OUT_MEMORY {
            timed_out.pop_front();
        }
        timed_out.push_back((id.to_owned(), invocation_id.to_owned()));
    }

    /// Whether the invocation with this request id timed out recently.
    pub(crate) fn timed_out_request(&self, id: &str) -> bool {
        lock(&self.timed_out).iter().any(|(r, _)| r == id)
    }

    fn timed_out_invocation(&self, invocation_id: &str) -> bool {
        lock(&self.timed_out)
            .iter()
            .any(|(_, i)| i == invocation_id)
    }

    /// Fails every queued (not yet delivered) invocation.
    pub(crate) fn fail_queued(&self, error: &FunctionError) {
        let drained: Vec<Queued> = lock(&self.sched).queue.drain(..).collect();
        let entries = lock(&self.entries);
        for q in drained {
            if let Some(e) = entries
                .get(&q.id)
                .filter(|e| e.invocation_id == q.invocation_id)
            {
                let _ = e.tx.send(RuntimeMsg::Fail(error.clone()));
            }
        }
    }

    /// Fails every invocation delivered to the sandbox of `generation`.
    pub(crate) fn fail_delivered(&self, generation: u64, error: impl Fn(&str) -> FunctionError) {
        let entries = lock(&self.entries);
        for (id, e) in entries.iter() {
            if e.delivered && e.generation == generation {
                let _ = e.tx.send(RuntimeMsg::Fail(error(id)));
            }
        }
    }

    /// Fails everything (shutdown).
    pub(crate) fn fail_all(&self, error: &FunctionError) {
        lock(&self.sched).queue.clear();
        let entries = lock(&self.entries);
        for e in entries.values() {
            let _ = e.tx.send(RuntimeMsg::Fail(error.clone()));
        }
    }

    // ----- sandbox life cycle -----

    pub(crate) fn generation(&self) -> u64 {
        lock(&self.sched).generation
    }

    /// Closes the managed sandbox: until [`Core::open_sandbox`], `/next` hands out nothing.
    pub(crate) fn close_sandbox(&self) {
        lock(&self.sched).closed = true;
    }

    /// Opens a new managed sandbox for `/next`.
    pub(crate) fn open_sandbox(&self) {
        lock(&self.sched).closed = false;
    }

    /// Starts a new sandbox generation: pollers of the old one are released.
    pub(crate) fn new_generation(&self) -> u64 {
        let generation = {
            let mut sched = lock(&self.sched);
            sched.generation += 1;
            sched.init_done = false;
            sched.generation
        };
        self.ready.send_replace(false);
        self.queue_notify.notify_waiters();
        generation
    }

    fn mark_init_done(&self, generation: u64) {
        let mut sched = lock(&self.sched);
        if sched.generation == generation && !sched.init_done {
            sched.init_done = true;
            sched.init_error = None;
            drop(sched);
            self.ready.send_replace(true);
        }
    }

    pub(crate) fn init_done(&self, generation: u64) -> bool {
        let sched = lock(&self.sched);
        sched.generation == generation && sched.init_done
    }

    /// Resolves once the function has asked for its first event.
    pub(crate) async fn wait_ready(&self) {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|ready| *ready).await;
    }

    /// `/init/error`: queued invocations fail with the function's error.
    pub(crate) fn init_error(&self, error: FunctionError) {
        let generation = {
            let mut sched = lock(&self.sched);
            sched.init_error = Some(error.clone());
            sched.generation
        };
        self.fail_queued(&error);
        let _ = self.control.send(Control::InitError { generation });
    }

    pub(crate) fn take_init_error(&self) -> Option<FunctionError> {
        lock(&self.sched).init_error.take()
    }

    pub(crate) fn reset(&self, generation: u64, reason: &'static str) {
        let _ = self.control.send(Control::Reset { generation, reason });
    }

    pub(crate) fn control(&self) -> &mpsc::UnboundedSender<Control> {
        &self.control
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.queue_notify.notify_waiters();
    }

    // ----- extensions -----

    pub(crate) fn register_extension(
        &self,
        name: String,
        invoke: bool,
        shutdown: bool,
    ) -> Arc<Extension> {
        let ext = Arc::new(Extension {
            id: uuid(),
            name,
            invoke,
            shutdown,
            events: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            closed: AtomicBool::new(false),
        });
        lock(&self.extensions).push(ext.clone());
        self.ext_registered.notify_waiters();
        ext
    }

    pub(crate) fn extension(&self, id: &str) -> Option<Arc<Extension>> {
        lock(&self.extensions).iter().find(|e| e.id == id).cloned()
    }

    pub(crate) fn extension_count(&self) -> usize {
        lock(&self.extensions).len()
    }

    fn extension_invoke_event(&self, d: &Delivery) {
        let exts = lock(&self.extensions).clone();
        for ext in exts.iter().filter(|e| e.invoke) {
            let event = serde_json::json!({
                "eventType": "INVOKE",
                "deadlineMs": d.deadline_ms,
                "requestId": d.queued.id,
                "invokedFunctionArn": self.cfg.function_arn(),
                "tracing": { "type": "X-Amzn-Trace-Id", "value": d.queued.trace_id },
            });
            ext.push(event.to_string().into());
        }
    }

    /// Sends SHUTDOWN to the extensions that asked for it; returns them.
    pub(crate) fn extension_shutdown_event(
        &self,
        reason: &str,
        deadline_ms: u64,
    ) -> Vec<Arc<Extension>> {
        let exts: Vec<_> = lock(&self.extensions)
            .iter()
            .filter(|e| e.shutdown)
            .cloned()
            .collect();
        for ext in &exts {
            let event = serde_json::json!({
                "eventType": "SHUTDOWN",
                "shutdownReason": reason,
                "deadlineMs": deadline_ms,
            });
            ext.push(event.to_string().into());
        }
        exts
    }

    /// Forgets every extension (their sandbox is gone).
    pub(crate) fn clear_extensions(&self) {
        let exts = std::mem::take(&mut *lock(&self.extensions));
        for ext in exts {
            ext.closed.store(true, Ordering::SeqCst);
            ext.notify.notify_waiters();
        }
    }
}

fn ok_response() -> Response<BoxBody> {
    json_response(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

pub(crate) fn timeout_error(id: &str, timeout: Duration) -> FunctionError {
    FunctionError::new(
        "Sandbox.Timedout",
        format!(
            "{} {id} Task timed out after {:.2} seconds",
            Utc::now().iso(),
            timeout.as_secs_f64()
        ),
    )
}

fn too_large_error(limit: u64, streaming: bool) -> FunctionError {
    FunctionError::new(
        "Function.ResponseSizeTooLarge",
        if streaming {
            format!("Response payload size exceeded maximum allowed payload size for streamed responses ({limit} bytes).")
        } else {
            format!("Response payload size exceeded maximum allowed payload size ({limit} bytes).")
        },
    )
}

fn too_large_answer(limit: u64) -> Response<BoxBody> {
    api_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
    )
}

/// Drives one invocation from queueing to its last byte.
async fn run_invocation(
    core: Arc<Core>,
    id: String,
    invocation_id: String,
    mut rt: mpsc::UnboundedReceiver<RuntimeMsg>,
    reply: ReplyTx,
) {
    let (deadline, generation) = loop {
        tokio::select! {
            msg = rt.recv() => match msg {
                Some(RuntimeMsg::Delivered { deadline, generation }) => break (deadline, generation),
                Some(RuntimeMsg::Fail(error)) => {
                    reply.send(Reply::Failed { error, trailers: None });
                    core.remove(&id, &invocation_id);
                    return;
                }
                Some(RuntimeMsg::Rejected(echoed)) => reply.send(Reply::Rejected(echoed)),
                Some(_) => continue,
                None => {
                    core.remove(&id, &invocation_id);
                    return;
                }
            },
            _ = reply.closed() => {
                // The caller gave up before the function got the event.
                lock(&core.sched).queue.retain(|q| q.invocation_id != invocation_id);
                core.remove(&id, &invocation_id);
                return;
            }
        }
    };
    let mut task = InvocationTask {
        core: core.clone(),
        id: id.clone(),
        invocation_id: invocation_id.clone(),
        deadline,
        generation,
        reply,
    };
    loop {
        tokio::select! {
            msg = rt.recv() => match msg {
                Some(RuntimeMsg::Response { headers, body, verdict }) => {
                    let answer = task.answer(headers, body, &mut rt).await;
                    let _ = verdict.send(answer);
                    break;
                }
                Some(RuntimeMsg::Error { headers, error }) => {
                    task.send(Reply::Head { kind: HeadKind::Error, headers });
                    task.send(Reply::Failed { error, trailers: None });
                    break;
                }
                Some(RuntimeMsg::Fail(error)) => {
                    task.send(Reply::Failed { error, trailers: None });
                    break;
                }
                Some(RuntimeMsg::Rejected(echoed)) => task.send(Reply::Rejected(echoed)),
                Some(RuntimeMsg::Delivered { .. }) => continue,
                None => break,
            },
            _ = sleep_until(deadline.into()) => {
                task.timed_out();
                break;
            }
        }
    }
    core.remove(&id, &invocation_id);
}

struct InvocationTask {
    core: Arc<Core>,
    id: String,
    invocation_id: String,
    deadline: Instant,
    generation: u64,
    reply: ReplyTx,
}

enum Step {
    Frame(Option<Result<http_body::Frame<Bytes>, hyper::Error>>),
    Failed(FunctionError),
    TimedOut,
}

/// The outcome of waiting for room in the invoker's buffer.
enum Room {
    /// Room for the bytes: the budget taken (0 when the invoker has gone).
    Granted(u32),
    Failed(FunctionError),
    TimedOut,
}

fn stopped_error() -> FunctionError {
    FunctionError::new("Emulator.Stopped", "the emulator stopped")
}

impl InvocationTask {
    fn send(&self, msg: Reply) {
        // The invoker may have gone away; the function's answer is still read to its end.
        self.reply.send(msg);
    }

    fn fail(&self, error: FunctionError) {
        self.send(Reply::Failed {
            error,
            trailers: None,
        });
    }

    /// The function timeout passed: the invocation fails with `Sandbox.Timedout`, its late
    /// answers get `410 Gone`, and the sandbox is reset (one invocation at a time), or left
    /// running (Managed Instances, `max_concurrency` > 1: Lambda marks the invocation failed
    /// but does not stop the code, which other invocations share).
    fn timed_out(&self) {
        self.core.mark_timed_out(&self.id, &self.invocation_id);
        self.core.remove(&self.id, &self.invocation_id);
        self.fail(timeout_error(&self.id, self.core.cfg.timeout));
        if self.core.cfg.max_concurrency > 1 {
            tracing::warn!(request_id = %self.id, "invocation timed out; the function goes on (max concurrency > 1)");
        } else {
            tracing::warn!(request_id = %self.id, "invocation timed out; the sandbox will be reset");
            self.core.reset(self.generation, "timeout");
        }
    }

    /// The next body frame, unless the process dies or time runs out first.
    async fn step(
        &self,
        body: &mut Incoming,
        rt: &mut mpsc::UnboundedReceiver<RuntimeMsg>,
        deadline: Instant,
    ) -> Step {
        loop {
            tokio::select! {
                biased;
                msg = rt.recv() => match msg {
                    Some(RuntimeMsg::Fail(e)) => return Step::Failed(e),
                    Some(RuntimeMsg::Rejected(echoed)) => self.send(Reply::Rejected(echoed)),
                    Some(_) => continue,
                    None => return Step::Failed(stopped_error()),
                },
                frame = body.frame() => return Step::Frame(frame),
                _ = sleep_until(deadline.into()) => return Step::TimedOut,
            }
        }
    }

    /// Waits until the invoker has room for `len` more bytes. Meanwhile the function's body
    /// is not read, so TCP flow control slows the function down to the invoker's pace.
    async fn room(
        &self,
        len: usize,
        rt: &mut mpsc::UnboundedReceiver<RuntimeMsg>,
        deadline: Instant,
    ) -> Room {
        let reserve = self.reply.reserve(len);
        tokio::pin!(reserve);
        loop {
            tokio::select! {
                biased;
                msg = rt.recv() => match msg {
                    Some(RuntimeMsg::Fail(e)) => return Room::Failed(e),
                    Some(RuntimeMsg::Rejected(echoed)) => self.send(Reply::Rejected(echoed)),
                    Some(_) => continue,
                    None => return Room::Failed(stopped_error()),
                },
                granted = &mut reserve => return Room::Granted(granted),
                _ = sleep_until(deadline.into()) => return Room::TimedOut,
            }
        }
    }

    /// After the function's connection broke: the process probably died; wait briefly for
    /// the supervisor to say so.
    async fn broken(&self, rt: &mut mpsc::UnboundedReceiver<RuntimeMsg>, e: String) {
        let wait = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match rt.recv().await {
                    Some(RuntimeMsg::Fail(e)) => return Some(e),
                    Some(_) => continue,
                    None => return None,
                }
            }
        })
        .await;
        match wait {
            Ok(Some(error)) => self.fail(error),
            _ => self.fail(FunctionError::new(
                "Runtime.TruncatedResponse",
                format!("RequestId: {} Error: the answer was cut off: {e}", self.id),
            )),
        }
    }

    async fn answer(
        &mut self,
        headers: HeaderMap,
        mut body: Incoming,
        rt: &mut mpsc::UnboundedReceiver<RuntimeMsg>,
    ) -> Response<BoxBody> {
        let streaming = headers
            .get("lambda-runtime-function-response-mode")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("streaming"));
        if streaming {
            self.answer_streaming(headers, body, rt).await
        } else {
            let limit = self.core.cfg.response_limit;
            let mut buf = BytesMut::new();
            let mut total = 0usize;
            let mut over = false;
            loop {
                // Once over the limit, drain for a bounded time so the function reads the 413.
                let deadline = if over {
                    Instant::now() + Duration::from_secs(2)
                } else {
                    self.deadline
                };
                match self.step(&mut body, rt, deadline).await {
                    Step::Frame(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            total += data.len();
                            if total > limit {
                                if !over {
                                    over = true;
                                    buf = BytesMut::new();
                                    self.fail(too_large_error(limit as u64, false));
                                }
                                if total > limit * 5 {
                                    break;
                                }
                            } else {
                                buf.extend_from_slice(&data);
                            }
                        }
                    }
                    Step::Frame(None) => break,
                    Step::Frame(Some(Err(e))) => {
                        if !over {
                            self.broken(rt, e.to_string()).await;
                        }
                        return ok_response();
                    }
                    Step::Failed(e) => {
                        if !over {
                            self.fail(e);
                        }
                        return ok_response();
                    }
                    Step::TimedOut if over => break,
                    Step::TimedOut => {
                        self.timed_out();
                        return late_answer(&self.id);
                    }
                }
            }
            if over {
                tracing::warn!(request_id = %self.id, size = total, "buffered answer over the {limit}-byte limit");
                return too_large_answer(limit as u64);
            }
            self.send(Reply::Head {
                kind: HeadKind::Buffered,
                headers,
            });
            self.send(Reply::Data(Instant::now(), buf.freeze(), 0));
            self.send(Reply::End(None));
            ok_response()
        }
    }

    async fn answer_streaming(
        &mut self,
        headers: HeaderMap,
        mut body: Incoming,
        rt: &mut mpsc::UnboundedReceiver<RuntimeMsg>,
    ) -> Response<BoxBody> {
        self.send(Reply::Head {
            kind: HeadKind::Streaming,
            headers,
        });
        let limit = self.core.cfg.stream_limit;
        let mut total: u64 = 0;
        let mut throttle_from: Option<Instant> = None;
        loop {
            match self.step(&mut body, rt, self.deadline).await {
                Step::Frame(Some(Ok(frame))) => {
                    let data = match frame.into_data() {
                        Ok(data) => data,
                        Err(frame) => {
                            if let Ok(trailers) = frame.into_trailers() {
                                self.trailers(trailers);
                                return ok_response();
                            }
                            continue;
                        }
                    };
                    if data.is_empty() {
                        continue;
                    }
                    total += data.len() as u64;
                    if total > limit {
                        tracing::warn!(request_id = %self.id, "streamed answer over the {limit}-byte limit");
                        self.fail(too_large_error(limit, true));
                        return too_large_answer(limit);
                    }
                    if self.core.cfg.throttle && total > THROTTLE_AFTER {
                        let from = *throttle_from.get_or_insert_with(Instant::now);
                        let over = total - THROTTLE_AFTER;
                        let release =
                            from + Duration::from_secs_f64(over as f64 / THROTTLE_RATE as f64);
                        if release > self.deadline {
                            tokio::time::sleep_until(self.deadline.into()).await;
                            self.timed_out();
                            return late_answer(&self.id);
                        }
                        tokio::time::sleep_until(release.into()).await;
                    }
                    // Back-pressure: wait for the invoker to take earlier bytes before reading on.
                    let permits = match self.room(data.len(), rt, self.deadline).await {
                        Room::Granted(permits) => permits,
                        Room::Failed(e) => {
                            self.fail(e);
                            return ok_response();
                        }
                        Room::TimedOut => {
                            self.timed_out();
                            return late_answer(&self.id);
                        }
                    };
                    self.send(Reply::Data(Instant::now(), data, permits));
                }
                Step::Frame(None) => {
                    self.send(Reply::End(None));
                    return ok_response();
                }
                Step::Frame(Some(Err(e))) => {
                    self.broken(rt, e.to_string()).await;
                    return ok_response();
                }
                Step::Failed(e) => {
                    self.fail(e);
                    return ok_response();
                }
                Step::TimedOut => {
                    self.timed_out();
                    return late_answer(&self.id);
                }
            }
        }
    }

    /// Trailers end the stream; error trailers fail it.
    fn trailers(&self, trailers: HeaderMap) {
        let error_type = trailers
            .get("lambda-runtime-function-error-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let Some(error_type) = error_type else {
            self.send(Reply::End(Some(trailers)));
            return;
        };
        let body = trailers
            .get("lambda-runtime-function-error-body")
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&body)
            .unwrap_or(body);
        let error = FunctionError::from_json(Bytes::from(decoded.clone()), Some(&error_type))
            .unwrap_or_else(|_| {
                FunctionError::new(error_type.clone(), String::from_utf8_lossy(&decoded))
            });
        self.send(Reply::Failed {
            error,
            trailers: Some(trailers),
        });
    }
}
