//! Adapters for AWS event sources.

#[cfg(feature = "api-gateway-v2")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-gateway-v2")))]
pub mod api_gateway_v2;
