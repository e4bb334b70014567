//! Event adapters for serverless-adapter: each turns one event source's events into HTTP
//! requests for the app and the app's responses into the answer that source expects.
//!
//! One cargo feature per event source:
//! - `api-gateway-v2` (default): [`aws::api_gateway_v2::ApiGatewayV2Adapter`], API Gateway HTTP
//!   APIs (payload 2.0) and Lambda Function URLs.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod aws;
pub mod common;
#[cfg(feature = "pass-through")]
#[cfg_attr(docsrs, doc(cfg(feature = "pass-through")))]
pub mod pass_through;

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
