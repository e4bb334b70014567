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
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub mod sqs;
