//! What an invocation gives back: as a stream of events, or collected.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use tokio::sync::{mpsc, Semaphore};

use crate::answer::{
    find_separator, FunctionError, HttpAnswer, Prelude, HTTP_INTEGRATION_CONTENT_TYPE,
};

/// The largest prelude the emulator waits for before giving up on a streamed HTTP answer.
const MAX_PRELUDE: usize = 1 << 20;

/// How the function began to answer (internal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadKind {
    Buffered,
    Streaming,
    Error,
}

/// What the invocation task tells the invoker (internal).
#[derive(Debug)]
pub(crate) enum Reply {
    /// The function POSTed to `/response` (buffered or streaming) or `/error`.
    Head { kind: HeadKind, headers: HeaderMap },
    /// Body bytes, with the time they were passed on, and the part of the stream buffer
    /// budget they hold (given back when the invoker takes them; 0 for buffered answers).
    Data(Instant, Bytes, u32),
    /// The answer is complete.
    End(Option<HeaderMap>),
    /// The invocation failed (function error, timeout, crash, limit...). Terminal.
    Failed {
        error: FunctionError,
        trailers: Option<HeaderMap>,
    },
    /// An answer was refused because it echoed another `Lambda-Runtime-Invocation-Id`.
    Rejected(String),
}

/// The invocation task's side of the channel to the invoker: replies, and a byte budget for
/// streamed body bytes that the invoker has not taken yet (back-pressure).
#[derive(Debug)]
pub(crate) struct ReplyTx {
    tx: mpsc::UnboundedSender<Reply>,
    room: Arc<Semaphore>,
    budget: usize,
}

/// The invoker's side (inside [`InvocationStream`]).
#[derive(Debug)]
pub(crate) struct ReplyRx {
    rx: mpsc::UnboundedReceiver<Reply>,
    room: Arc<Semaphore>,
}

impl ReplyTx {
    /// A channel whose streamed bytes in flight are bounded by `budget` bytes.
    pub(crate) fn channel(budget: usize) -> (ReplyTx, ReplyRx) {
        let budget = budget.clamp(1, u32::MAX as usize);
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(budget));
        (
            ReplyTx {
                tx,
                room: room.clone(),
                budget,
            },
            ReplyRx { rx, room },
        )
    }

    /// Sends a reply (lost if the invoker has gone).
    pub(crate) fn send(&self, msg: Reply) {
        let _ = self.tx.send(msg);
    }

    /// Resolves when the invoker has gone.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await
    }

    /// Waits until the invoker has room for `len` more bytes and takes that room (at most
    /// the whole budget, for a frame larger than it). Returns the budget taken, to be sent
    /// along with the bytes; 0 at once when the invoker no longer takes bytes.
    pub(crate) async fn reserve(&self, len: usize) -> u32 {
        let n = len.min(self.budget) as u32;
        if n == 0 {
            return 0;
        }
        match self.room.acquire_many(n).await {
            Ok(permit) => {
                permit.forget();
                n
            }
            Err(_) => 0,
        }
    }
}

/// One step of an invocation's answer, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A buffered answer (the whole body). Terminal.
    Buffered(Bytes),
    /// A streamed answer began. For the HTTP integration content type, this comes once the
    /// prelude has arrived, decoded.
    StreamStarted {
        /// The decoded prelude (HTTP integration answers only).
        prelude: Option<Prelude>,
        /// The `Content-Type` of the function's POST.
        content_type: Option<String>,
    },
    /// Streamed body bytes (after the prelude), with the time they were passed on.
    Chunk(Instant, Bytes),
    /// The streamed answer ended normally, with the trailers the function sent, if any.
    /// Terminal.
    End {
        /// HTTP trailers of the function's POST.
        trailers: Option<HeaderMap>,
    },
    /// The invocation failed: before answering (`/error`, crash, timeout, limit) or in the
    /// middle of a stream (error trailers, timeout, stream limit). Terminal.
    Error(FunctionError),
}

#[derive(Debug)]
enum State {
    Waiting,
    Buffering(BytesMut),
    Prelude(BytesMut),
    Streaming,
    Done,
}

/// An invocation in progress: yields [`StreamEvent`]s as the function answers.
///
/// Streamed bytes are handed over at the pace they are taken: the emulator holds at most
/// its stream buffer ([`STREAM_BUFFER`](crate::STREAM_BUFFER) by default) of them for a
/// stream that is not read, and meanwhile stops reading the function's answer.
///
/// Dropping it before the function received the event cancels the invocation; after that
/// the function's answer is read and discarded.
#[derive(Debug)]
pub struct InvocationStream {
    request_id: String,
    invocation_id: String,
    mismatched: Vec<String>,
    rx: ReplyRx,
    decode_prelude: bool,
    state: State,
    pending: VecDeque<StreamEvent>,
    headers: HeaderMap,
    trailers: Option<HeaderMap>,
    raw: Option<BytesMut>,
    error_posted: bool,
}

impl InvocationStream {
    pub(crate) fn new(
        request_id: String,
        invocation_id: String,
        rx: ReplyRx,
        decode_prelude: bool,
        keep_raw: bool,
    ) -> Self {
        InvocationStream {
            request_id,
            invocation_id,
            mismatched: Vec::new(),
            rx,
            decode_prelude,
            state: State::Waiting,
            pending: VecDeque::new(),
            headers: HeaderMap::new(),
            trailers: None,
            raw: keep_raw.then(BytesMut::new),
            error_posted: false,
        }
    }

    /// The Lambda request id of this invocation.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The `Lambda-Runtime-Invocation-Id` the emulator sent with the event on `/next`:
    /// unique to this attempt (a retry with the same request id gets another one).
    pub fn invocation_id(&self) -> &str {
        &self.invocation_id
    }

    /// The `Lambda-Runtime-Invocation-Id` header of the function's accepted `/response` or
    /// `/error` POST (`None` until it answers, or if it does not echo the header).
    pub fn echoed_invocation_id(&self) -> Option<&str> {
        echoed(&self.headers)
    }

    /// The invocation ids of answers the emulator refused (400 `InvalidInvocationID`) because
    /// they did not echo this invocation's id.
    pub fn mismatched_invocation_ids(&self) -> &[String] {
        &self.mismatched
    }

    /// The headers of the function's `/response` or `/error` POST (empty until it answers).
    pub fn function_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The next event, or `None` after a terminal one.
    pub async fn next_event(&mut self) -> Option<StreamEvent> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// Polls for the next event.
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Poll::Ready(Some(ev));
            }
            if matches!(self.state, State::Done) {
                return Poll::Ready(None);
            }
            match self.rx.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(msg) => self.on_reply(msg),
            }
        }
    }

    fn finish(&mut self, ev: StreamEvent) {
        self.pending.push_back(ev);
        self.state = State::Done;
        // Nothing more is taken: let the task read the rest of the function's answer freely.
        self.rx.room.close();
    }

    fn on_reply(&mut self, msg: Option<Reply>) {
        let Some(msg) = msg else {
            self.finish(StreamEvent::Error(FunctionError::new(
                "Emulator.Stopped",
                "the emulator stopped before the invocation completed",
            )));
            return;
        };
        match msg {
            Reply::Head { kind, headers } => {
                let content_type = headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                self.headers = headers;
                match kind {
                    HeadKind::Buffered => self.state = State::Buffering(BytesMut::new()),
                    HeadKind::Error => self.error_posted = true,
                    HeadKind::Streaming => {
                        let http = content_type.as_deref().is_some_and(|ct| {
                            ct.trim()
                                .eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE)
                        });
                        if http && self.decode_prelude {
                            self.state = State::Prelude(BytesMut::new());
                        } else {
                            self.state = State::Streaming;
                            self.pending.push_back(StreamEvent::StreamStarted {
                                prelude: None,
                                content_type,
                            });
                        }
                    }
                }
            }
            Reply::Data(at, data, permits) => {
                // Taken: the task may read this much more of the function's answer.
                self.rx.room.add_permits(permits as usize);
                if let Some(raw) = &mut self.raw {
                    raw.extend_from_slice(&data);
                }
                match &mut self.state {
                    State::Buffering(buf) => buf.extend_from_slice(&data),
                    State::Streaming => self.pending.push_back(StreamEvent::Chunk(at, data)),
                    State::Prelude(buf) => {
                        buf.extend_from_slice(&data);
                        self.try_prelude(at, false);
                    }
                    State::Waiting | State::Done => {}
                }
            }
            Reply::End(trailers) => {
                self.trailers = trailers.clone();
                match std::mem::replace(&mut self.state, State::Waiting) {
                    State::Buffering(buf) => self.finish(StreamEvent::Buffered(buf.freeze())),
                    State::Prelude(buf) => {
                        self.state = State::Prelude(buf);
                        self.try_prelude(Instant::now(), true);
                        if !matches!(self.state, State::Done) {
                            self.finish(StreamEvent::End { trailers });
                        }
                    }
                    _ => self.finish(StreamEvent::End { trailers }),
                }
            }
            Reply::Rejected(invocation_id) => self.mismatched.push(invocation_id),
            Reply::Failed { error, trailers } => {
                if trailers.is_some() {
                    self.trailers = trailers;
                }
                if self.error_posted {
                    // An `/error` post: its body is the raw answer.
                    if let Some(raw) = &mut self.raw {
                        raw.extend_from_slice(&error.payload);
                    }
                }
                self.finish(StreamEvent::Error(error));
            }
        }
    }

    /// Looks for the end of the prelude; `at_end` means no more bytes will come.
    fn try_prelude(&mut self, at: Instant, at_end: bool) {
        let State::Prelude(buf) = &mut self.state else {
            return;
        };
        let content_type = Some(HTTP_INTEGRATION_CONTENT_TYPE.to_owned());
        let (prelude_bytes, rest) = match find_separator(buf) {
            Some(i) => {
                let mut all = std::mem::take(buf).freeze();
                let rest = all.split_off(i + 8);
                all.truncate(i);
                (all, rest)
            }
            None if at_end && !buf.is_empty() => (std::mem::take(buf).freeze(), Bytes::new()),
            None if buf.len() > MAX_PRELUDE || at_end => {
                self.finish(StreamEvent::Error(FunctionError::new(
                    "Runtime.InvalidStreamingResponse",
                    "the streamed HTTP answer has no prelude (JSON, then 8 NUL bytes)",
                )));
                return;
            }
            None => return,
        };
        match Prelude::parse(prelude_bytes) {
            Ok(prelude) => {
                self.state = State::Streaming;
                self.pending.push_back(StreamEvent::StreamStarted {
                    prelude: Some(prelude),
                    content_type,
                });
                if !rest.is_empty() {
                    self.pending.push_back(StreamEvent::Chunk(at, rest));
                }
            }
            Err(e) => self.finish(StreamEvent::Error(FunctionError::new(
                "Runtime.InvalidStreamingResponse",
                e,
            ))),
        }
    }

    /// Waits for the whole answer.
    pub async fn collect(mut self) -> Invocation {
        let mut outcome = None;
        let mut streamed: Option<Streamed> = None;
        while let Some(ev) = self.next_event().await {
            match ev {
                StreamEvent::Buffered(b) => outcome = Some(Outcome::Buffered(b)),
                StreamEvent::StreamStarted {
                    prelude,
                    content_type,
                } => {
                    streamed = Some(Streamed {
                        content_type,
                        prelude,
                        chunks: Vec::new(),
                        trailers: None,
                        error: None,
                    })
                }
                StreamEvent::Chunk(at, data) => {
                    if let Some(s) = &mut streamed {
                        s.chunks.push((at, data));
                    }
                }
                StreamEvent::End { trailers } => {
                    if let Some(s) = &mut streamed {
                        s.trailers = trailers;
                    }
                }
                StreamEvent::Error(e) => match &mut streamed {
                    Some(s) => {
                        s.trailers = self.trailers.clone();
                        s.error = Some(e);
                    }
                    None => outcome = Some(Outcome::Error(e)),
                },
            }
        }
        let outcome = match (outcome, streamed) {
            (Some(o), _) => o,
            (None, Some(s)) => Outcome::Streamed(s),
            (None, None) => Outcome::Error(FunctionError::new(
                "Emulator.Stopped",
                "the invocation ended without an answer",
            )),
        };
        let echoed_invocation_id = echoed(&self.headers).map(str::to_owned);
        Invocation {
            request_id: std::mem::take(&mut self.request_id),
            invocation_id: std::mem::take(&mut self.invocation_id),
            echoed_invocation_id,
            mismatched_invocation_ids: std::mem::take(&mut self.mismatched),
            outcome,
            raw: self.raw.take().map(BytesMut::freeze).unwrap_or_default(),
            headers: std::mem::take(&mut self.headers),
        }
    }
}

impl Drop for InvocationStream {
    fn drop(&mut self) {
        // The invoker has gone: the task reads the rest of the answer without waiting.
        self.rx.room.close();
    }
}

/// The `Lambda-Runtime-Invocation-Id` header of a function's answer.
fn echoed(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("lambda-runtime-invocation-id")
        .and_then(|v| v.to_str().ok())
}

/// A streamed answer, collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    /// The `Content-Type` of the function's POST.
    pub content_type: Option<String>,
    /// The decoded prelude, for HTTP integration answers.
    pub prelude: Option<Prelude>,
    /// The body after the prelude, in the pieces it arrived in, each with its arrival time.
    pub chunks: Vec<(Instant, Bytes)>,
    /// HTTP trailers the function sent.
    pub trailers: Option<HeaderMap>,
    /// The error that ended the stream, if it did not end normally.
    pub error: Option<FunctionError>,
}

impl Streamed {
    /// The body bytes, concatenated.
    pub fn body(&self) -> Bytes {
        concat(self.chunks.iter().map(|(_, b)| b))
    }
}

/// How an invocation ended.
// Test ergonomics over size: a handful of these exist at a time.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A buffered answer.
    Buffered(Bytes),
    /// A streamed answer (possibly ended by an error).
    Streamed(Streamed),
    /// The invocation failed before any answer.
    Error(FunctionError),
}

/// A completed invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: String,
    /// The `Lambda-Runtime-Invocation-Id` sent with the event on `/next` (unique to this
    /// attempt, unlike the request id).
    pub invocation_id: String,
    /// The `Lambda-Runtime-Invocation-Id` header of the function's accepted answer (`None`
    /// when the function did not echo it, or did not answer). A function that protects
    /// itself against stale answers echoes [`Invocation::invocation_id`] here.
    pub echoed_invocation_id: Option<String>,
    /// Invocation ids of answers that were refused (400 `InvalidInvocationID`) because they
    /// echoed another invocation's id.
    pub mismatched_invocation_ids: Vec<String>,
    /// The answer.
    pub outcome: Outcome,
    /// The exact bytes the function POSTed to `/response` (prelude and NULs included) or
    /// `/error`. Empty for failures the emulator made (timeout, crash, ...).
    pub raw: Bytes,
    /// The headers of the function's POST (empty for failures the emulator made).
    pub headers: HeaderMap,
}

impl Invocation {
    /// The answer's body: the buffered answer, the streamed body after the prelude, or the
    /// error JSON.
    pub fn body(&self) -> Bytes {
        match &self.outcome {
            Outcome::Buffered(b) => b.clone(),
            Outcome::Streamed(s) => s.body(),
            Outcome::Error(e) => e.payload.clone(),
        }
    }

    /// The error, whether it came before the answer or ended a stream.
    pub fn error(&self) -> Option<&FunctionError> {
        match &self.outcome {
            Outcome::Error(e) => Some(e),
            Outcome::Streamed(s) => s.error.as_ref(),
            Outcome::Buffered(_) => None,
        }
    }

    /// Whether the invocation failed.
    pub fn is_error(&self) -> bool {
        self.error().is_some()
    }

    /// The streamed answer, if it streamed.
    pub fn streamed(&self) -> Option<&Streamed> {
        match &self.outcome {
            Outcome::Streamed(s) => Some(s),
            _ => None,
        }
    }

    /// Parses a buffered answer as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body())
    }

    /// Decodes the answer as a Function URL would: a buffered event answer
    /// (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`), or a streamed one
    /// (prelude and body). Fails for errors and undecodable answers.
    pub fn http(&self) -> Result<HttpAnswer, String> {
        match &self.outcome {
            Outcome::Buffered(b) => HttpAnswer::from_buffered(b),
            Outcome::Streamed(s) => {
                if let Some(e) = &s.error {
                    return Err(e.to_string());
                }
                match &s.prelude {
                    Some(p) => Ok(HttpAnswer::from_prelude(p, s.body())),
                    None => Ok(HttpAnswer {
                        status: 200,
                        headers: s
                            .content_type
                            .iter()
                            .map(|ct| ("content-type".to_owned(), ct.clone()))
                            .collect(),
                        cookies: Vec::new(),
                        body: s.body(),
                    }),
                }
            }
            Outcome::Error(e) => Err(e.to_string()),
        }
    }
}

fn concat<'a>(parts: impl Iterator<Item = &'a Bytes>) -> Bytes {
    let mut out = BytesMut::new();
    for p in parts {
        out.extend_from_slice(p);
    }
    out.freeze()
}
