//! The `Adapter` trait: an event source's events in, HTTP requests out, and back.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{response, Request};

use crate::body::Body;
use crate::context::LambdaContext;
use crate::error::Error;
use crate::probe::EventProbe;

/// Turns one event source's events into HTTP requests and the app's responses into the
/// answer that event source expects.
///
/// Adapters are object-safe so a function holds an ordered list of them: for each event the
/// first adapter whose [`can_handle`](Adapter::can_handle) accepts it is used.
pub trait Adapter: Send + Sync + 'static {
    /// A short, stable name (`api-gateway-v2`, `sqs`), used in errors and configuration.
    fn name(&self) -> &str;

    /// Whether the event is this adapter's, judged from a few fields without a full parse.
    fn can_handle(&self, event: &EventProbe<'_>) -> bool;

    /// Turns the event into the request(s) to serve. A malformed event is an error
    /// ([`Error::malformed_event`]), never a panic.
    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error>;
}

/// What an adapter made of an event.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // made and moved once per invocation; boxing buys nothing
pub enum Decoded {
    /// One HTTP request whose response is the invocation's answer.
    Http(HttpExchange),
    /// Several requests (or one, for a whole batch) whose outcomes are settled together.
    Batch(Batch),
}

/// One HTTP request and how to answer with its response.
pub struct HttpExchange {
    /// The request for the app.
    pub request: Request<Body>,
    /// Encodes a buffered answer for this event.
    pub encoder: Box<dyn EncodeAnswer>,
    /// Whether the caller can receive a streamed answer (a Function URL in streaming mode, say).
    pub can_stream: bool,
}

impl fmt::Debug for HttpExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpExchange")
            .field("request", &self.request)
            .field("can_stream", &self.can_stream)
            .finish_non_exhaustive()
    }
}

/// Encodes the event-specific JSON answer from a response head and its whole body.
pub trait EncodeAnswer: Send + 'static {
    /// The answer's bytes, as posted to the Runtime API.
    fn encode(self: Box<Self>, head: &response::Parts, body: Bytes) -> Result<Bytes, Error>;
}

impl<F> EncodeAnswer for F
where
    F: FnOnce(&response::Parts, Bytes) -> Result<Bytes, Error> + Send + 'static,
{
    fn encode(self: Box<Self>, head: &response::Parts, body: Bytes) -> Result<Bytes, Error> {
        (*self)(head, body)
    }
}

/// Requests made from one event that are served together and settled into one answer
/// (the records of an SQS batch, say).
pub struct Batch {
    /// The requests, in event order.
    pub items: Vec<BatchItem>,
    /// How the items may run.
    pub order: BatchOrder,
    /// Turns the outcomes (in item order) into the answer, or fails the invocation.
    pub settle: Box<dyn SettleBatch>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("items", &self.items)
            .field("order", &self.order)
            .finish_non_exhaustive()
    }
}

/// One request of a batch.
#[derive(Debug)]
pub struct BatchItem {
    /// The record's identifier, as reported in `batchItemFailures` (message id, sequence number...).
    pub id: String,
    /// Items of one group run one after another (an SQS FIFO message group).
    pub group: Option<String>,
    /// The request for the app.
    pub request: Request<Body>,
}

/// How the items of a batch may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchOrder {
    /// Up to `limit` at once, in any order.
    Concurrent {
        /// Most items in flight at once (at least 1).
        limit: usize,
    },
    /// Groups run concurrently (up to `limit` groups); within a group items run in order, and
    /// after the first failure the group's later items are skipped.
    Grouped {
        /// Most groups in flight at once (at least 1).
        limit: usize,
    },
    /// One after another; after the first failure the rest are skipped (stream checkpointing).
    InOrder,
}

/// The outcome of one batch item.
#[derive(Debug)]
pub struct ItemOutcome {
    /// The item's identifier.
    pub id: String,
    /// What happened.
    pub result: ItemResult,
}

/// What happened to one batch item.
#[derive(Debug)]
pub enum ItemResult {
    /// The app answered (any status) with this head and whole body.
    Answered {
        /// Status and headers.
        head: response::Parts,
        /// The whole body.
        body: Bytes,
    },
    /// The app failed, panicked or timed out.
    Failed(Error),
    /// Not attempted, because an earlier item it depends on failed.
    Skipped,
}

impl ItemResult {
    /// True when the app answered with a 2xx status.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Answered { head, .. } if head.status.is_success())
    }
}

/// Settles a batch's outcomes into one answer.
pub trait SettleBatch: Send + 'static {
    /// The answer's bytes, or an error that fails the invocation (so Lambda retries).
    fn settle(self: Box<Self>, outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error>;
}

impl<F> SettleBatch for F
where
    F: FnOnce(Vec<ItemOutcome>) -> Result<Bytes, Error> + Send + 'static,
{
    fn settle(self: Box<Self>, outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error> {
        (*self)(outcomes)
    }
}

impl<A: Adapter + ?Sized> Adapter for Box<A> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        (**self).can_handle(event)
    }
    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        (**self).decode(event, context)
    }
}

impl<A: Adapter + ?Sized> Adapter for Arc<A> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn can_handle(&self, event: &EventProbe<'_>) -> bool {
        (**self).can_handle(event)
    }
    fn decode(&self, event: Bytes, context: &LambdaContext) -> Result<Decoded, Error> {
        (**self).decode(event, context)
    }
}
