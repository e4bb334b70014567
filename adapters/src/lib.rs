//! Event adapters for serverless-adapter: each turns one event source's events into HTTP
//! requests for the app and the app's responses into the answer that source expects.
//!
//! # Adapters
//!
//! One cargo feature per event source, all in `default`. Each adapter is a unit struct with the
//! defaults (`.adapter(SqsAdapter)`); configured variants sit beside it
//! (`SqsAdapter::per_record().path("/jobs").concurrency(4)`) and are adapters too.
//!
//! | source | adapter (feature) | request | failures are reported |
//! |---|---|---|---|
//! | Function URL, API Gateway HTTP API (payload 2.0) | [`ApiGatewayV2Adapter`] (`api-gateway-v2`) | the HTTP request | as the app's HTTP response; Function URLs can stream |
//! | API Gateway REST API (payload 1.0) | [`ApiGatewayV1Adapter`], [`ApiGatewayV1Adapter::configure`] (`api-gateway-v1`) | the HTTP request (`.base_path(..)`) | as the app's HTTP response; streams with `.streaming(true)` |
//! | Application Load Balancer | [`AlbAdapter`] (`alb`) | the HTTP request | as the app's HTTP response; never streams |
//! | API Gateway WebSocket API | [`ApiGatewayWebSocketAdapter`] (`api-gateway-websocket`) | `POST /ws/{route}` (`connect`, `disconnect`, `default`, ...) | as the integration response (non-2xx on `$connect` refuses the connection) |
//! | SQS (standard and FIFO) | [`SqsAdapter`], [`SqsAdapter::per_record`], [`SqsAdapter::batch`] (`sqs`) | `POST /sqs` per message (FIFO: in order per message group), or the whole batch | `batchItemFailures` with each failed or undecodable message (FIFO: and the rest of its group); batch mode: the app's validated answer |
//! | SNS | [`SnsAdapter`], [`SnsAdapter::per_record`] (`sns`) | `POST /sns` per message | the invocation fails (Lambda retries) |
//! | EventBridge / CloudWatch Events | [`EventBridgeAdapter`], [`EventBridgeAdapter::configure`] (`eventbridge`) | `POST /eventbridge` with the event | the invocation fails (Lambda retries) |
//! | S3 notifications | [`S3Adapter`], [`S3Adapter::per_record`] (`s3`) | `POST /s3` per record | the invocation fails (Lambda retries) |
//! | DynamoDB Streams | [`DynamoDbAdapter`], [`DynamoDbAdapter::per_record`], [`DynamoDbAdapter::batch`] (`dynamodb`) | `POST /dynamodb` per record, in order, or the whole batch | `batchItemFailures` with the first failed or undecodable record's sequence number; batch mode: the app's validated answer |
//! | Kinesis Data Streams | [`KinesisAdapter`], [`KinesisAdapter::per_record`], [`KinesisAdapter::batch`] (`kinesis`) | `POST /kinesis` per record (data decoded), in order, or the whole batch | `batchItemFailures` with the first failed or undecodable record's sequence number; batch mode: the app's validated answer |
//! | anything else (a JSON object) | [`PassThroughAdapter`], [`PassThroughAdapter::configure`] (`pass-through`) | `POST /events` with the event | the app's JSON body is the answer; a non-2xx status fails the invocation |
//!
//! "The invocation fails" means the Runtime API is told an error (`App.ErrorStatus` with the
//! status and the start of the body, or the app's own error: `App.Panic`, `App.Timeout`...).
//! A batch item fails when the app answers outside 2xx, returns an error, panics or times out.
//! `batchItemFailures` needs `ReportBatchItemFailures` on the event source mapping; without it
//! use `.report_batch_item_failures(false)` so any failure fails the invocation.
//!
//! Records are decoded one by one: an SQS, Kinesis or DynamoDB record that cannot be decoded
//! (a body that is not a string, data that is not base64...) fails only itself. It never
//! reaches the app, its decode error is logged (`warn`, with its id) and it is a failed item
//! like any other: reported by its id (FIFO: with the rest of its message group, which is not
//! served), or, for streams, the checkpoint when no earlier record failed (later records are
//! not served). Only a record without an id, which cannot be reported, or an event without a
//! `Records` array fails the whole invocation (`Event.Malformed`). Batch mode posts the event
//! as it came, undecodable records included.
//!
//! An adapter probes an event cheaply, then turns it into requests (here an SQS batch of two
//! messages becomes two `POST /jobs` requests):
//!
//! ```
//! use serverless_adapter_adapters::SqsAdapter;
//! use serverless_adapter_core::{Adapter, Decoded, EventProbe, LambdaContext};
//!
//! let event = br#"{"Records": [
//!     {"messageId": "m1", "body": "one", "eventSource": "aws:sqs"},
//!     {"messageId": "m2", "body": "two", "eventSource": "aws:sqs"}
//! ]}"#;
//! let adapter = SqsAdapter::per_record().path("/jobs");
//! assert!(adapter.can_handle(&EventProbe::new(event)?));
//!
//! let context = LambdaContext::for_request_id("request-1");
//! let Decoded::Batch(batch) = adapter.decode(event.to_vec().into(), &context)? else {
//!     unreachable!("SQS events are batches");
//! };
//! let ids: Vec<&str> = batch.items.iter().map(|item| item.id.as_str()).collect();
//! assert_eq!(ids, ["m1", "m2"]);
//! assert_eq!(batch.items[0].request.uri().path(), "/jobs");
//! assert_eq!(batch.items[0].request.headers()["host"], "sqs.amazonaws.com");
//! # Ok::<(), serverless_adapter_core::Error>(())
//! ```
//!
//! # Order
//!
//! Adapters are asked in the order they are added. No two adapters of this crate accept the
//! same event, so their order does not matter — except for [`PassThroughAdapter`], which
//! accepts **every** JSON object and must be added last. [`register_all`] adds them all that
//! way.
//!
//! Real emulators send events that mix shapes (cargo-lambda's Function URL events are payload
//! 2.0 but also carry `"httpMethod": "GET"`, `"methodArn": null`, `"resource": null`...), so
//! every probe follows two rules: an HTTP event's `version` is decisive (`"2.0"` is payload 2.0
//! for [`ApiGatewayV2Adapter`]; `"1.0"` or none is a payload 1.0 shape for the REST, ALB and
//! WebSocket adapters; see [`common::payload_version`]), and a `null` field is an absent
//! field. A test checks every adapter against every fixture of every other source, against
//! cargo-lambda's event and against `null`-field variants of each, in every rotation of the
//! adapter list.
//!
//! # Choosing adapters by name
//!
//! Every adapter is registered in the plugin registry under a kebab-case name (see
//! [`plugins`]), so a function can take its list from the environment:
//! `ServerlessAdapter::new(app).adapters_from_env_or(register_all)?` uses
//! `SERVERLESS_ADAPTER_ADAPTERS=api-gateway-v2,sqs` when it is set, and every adapter otherwise.
//!
//! # Trusting event requests
//!
//! Event requests carry their source in headers (`host: sqs.amazonaws.com`, `x-sqs-*`...), but
//! when the same app also serves HTTP, a client can send those headers too. Each request made
//! from an event carries a [`RequestContext`](serverless_adapter_core::RequestContext)
//! extension instead, which no client can forge: its `source()` is the adapter's name (`sqs`)
//! and its JSON the record. Check it before acting on an event route.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod aws;
pub mod common;
#[cfg(feature = "pass-through")]
#[cfg_attr(docsrs, doc(cfg(feature = "pass-through")))]
pub mod pass_through;
pub mod plugins;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod test_support;

#[cfg(feature = "alb")]
pub use aws::alb::AlbAdapter;
#[cfg(feature = "api-gateway-v1")]
pub use aws::api_gateway_v1::{ApiGatewayV1Adapter, ApiGatewayV1Configured};
#[cfg(feature = "api-gateway-v2")]
pub use aws::api_gateway_v2::ApiGatewayV2Adapter;
#[cfg(feature = "api-gateway-websocket")]
pub use aws::api_gateway_websocket::{ApiGatewayWebSocketAdapter, ApiGatewayWebSocketConfigured};
#[cfg(feature = "dynamodb")]
pub use aws::dynamodb::{DynamoDbAdapter, DynamoDbBatch, DynamoDbPerRecord};
#[cfg(feature = "eventbridge")]
pub use aws::eventbridge::{EventBridgeAdapter, EventBridgeConfigured};
#[cfg(feature = "kinesis")]
pub use aws::kinesis::{KinesisAdapter, KinesisBatch, KinesisPerRecord};
#[cfg(feature = "s3")]
pub use aws::s3::{S3Adapter, S3PerRecord};
#[cfg(feature = "sns")]
pub use aws::sns::{SnsAdapter, SnsPerRecord};
#[cfg(feature = "sqs")]
pub use aws::sqs::{SqsAdapter, SqsBatch, SqsPerRecord};
#[cfg(feature = "pass-through")]
pub use pass_through::{PassThroughAdapter, PassThroughConfigured};

use serverless_adapter_core::Adapter;

/// Every event-source adapter this crate was built with, with its defaults, in the
/// recommended order (HTTP sources first, as they are the most frequent), without the
/// pass-through adapter. No two of them accept the same event.
#[allow(clippy::vec_init_then_push)] // each push is behind its own feature
pub fn event_adapters() -> Vec<Box<dyn Adapter>> {
    #[allow(unused_mut)] // with no event-source feature, nothing is pushed
    let mut adapters: Vec<Box<dyn Adapter>> = Vec::new();
    #[cfg(feature = "api-gateway-v2")]
    adapters.push(Box::new(ApiGatewayV2Adapter));
    #[cfg(feature = "api-gateway-v1")]
    adapters.push(Box::new(ApiGatewayV1Adapter));
    #[cfg(feature = "alb")]
    adapters.push(Box::new(AlbAdapter));
    #[cfg(feature = "api-gateway-websocket")]
    adapters.push(Box::new(ApiGatewayWebSocketAdapter));
    #[cfg(feature = "sqs")]
    adapters.push(Box::new(SqsAdapter));
    #[cfg(feature = "sns")]
    adapters.push(Box::new(SnsAdapter));
    #[cfg(feature = "s3")]
    adapters.push(Box::new(S3Adapter));
    #[cfg(feature = "dynamodb")]
    adapters.push(Box::new(DynamoDbAdapter));
    #[cfg(feature = "kinesis")]
    adapters.push(Box::new(KinesisAdapter));
    #[cfg(feature = "eventbridge")]
    adapters.push(Box::new(EventBridgeAdapter));
    adapters
}

/// Adds every adapter this crate was built with, with its defaults: the
/// [`event_adapters`], then the [`PassThroughAdapter`] last.
///
/// ```no_run
/// use serverless_adapter_core::{Body, BoxError, Framework, ServerlessAdapter};
///
/// struct App;
///
/// impl Framework for App {
///     async fn serve(
///         &self,
///         _request: http::Request<Body>,
///     ) -> Result<http::Response<Body>, BoxError> {
///         Ok(http::Response::new(Body::from("ok")))
///     }
/// }
///
/// # async fn run() -> Result<(), serverless_adapter_core::Error> {
/// serverless_adapter_adapters::register_all(ServerlessAdapter::new(App))
///     .build()
///     .await
/// # }
/// ```
///
/// For options, add the configured variants yourself in the same order
/// (`.adapter(SqsAdapter::per_record().concurrency(4))`...), the pass-through adapter last.
#[cfg(feature = "pass-through")]
pub fn register_all<F, A, H, R>(
    builder: serverless_adapter_core::ServerlessAdapter<F, A, H, R>,
) -> serverless_adapter_core::ServerlessAdapter<F, serverless_adapter_core::Adapters, H, R>
where
    A: serverless_adapter_core::AdapterList,
{
    let mut adapters = event_adapters().into_iter();
    match adapters.next() {
        None => builder.adapter(PassThroughAdapter),
        Some(first) => adapters
            .fold(builder.adapter(first), |builder, adapter| {
                builder.adapter(adapter)
            })
            .adapter(PassThroughAdapter),
    }
}
