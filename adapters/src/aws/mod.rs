//! Adapters for AWS event sources.

#[cfg(feature = "alb")]
#[cfg_attr(docsrs, doc(cfg(feature = "alb")))]
pub mod alb;
#[cfg(feature = "api-gateway-v1")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-gateway-v1")))]
pub mod api_gateway_v1;
#[cfg(feature = "api-gateway-v2")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-gateway-v2")))]
pub mod api_gateway_v2;
#[cfg(feature = "api-gateway-websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-gateway-websocket")))]
pub mod api_gateway_websocket;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod dynamodb;
#[cfg(feature = "eventbridge")]
#[cfg_attr(docsrs, doc(cfg(feature = "eventbridge")))]
pub mod eventbridge;
#[cfg(feature = "kinesis")]
#[cfg_attr(docsrs, doc(cfg(feature = "kinesis")))]
pub mod kinesis;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub mod s3;
#[cfg(feature = "sns")]
#[cfg_attr(docsrs, doc(cfg(feature = "sns")))]
pub mod sns;
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub mod sqs;
