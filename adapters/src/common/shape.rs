//! Telling HTTP event shapes apart in `can_handle`.
//!
//! Real emulators send events that carry fields of several shapes: cargo-lambda's Function URL
//! events are payload 2.0 but also have `"httpMethod": "GET"`, `"methodArn": null`,
//! `"resource": null`... So every HTTP adapter's probe follows two rules:
//! - the `version` field is decisive ([`payload_version`]): `"2.0"` is API Gateway payload 2.0
//!   (HTTP APIs, Function URLs); `"1.0"` or no version is a payload 1.0 shape (REST APIs,
//!   ALB, WebSocket APIs); any other version is neither;
//! - a `null` field is an absent field ([`EventProbe::has`], [`EventProbe::str`]).

use serverless_adapter_core::EventProbe;

/// The HTTP payload format an event declares in its `version` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    /// `"1.0"`, `null` or no `version`: API Gateway REST (and HTTP APIs set to payload 1.0),
    /// ALB and WebSocket API events.
    V1,
    /// `"2.0"`: API Gateway HTTP APIs (payload 2.0) and Function URLs.
    V2,
    /// Any other value (EventBridge's `"0"`, say): no HTTP payload format.
    Other,
}

/// The payload format the event's `version` field declares, whatever other fields it carries.
pub fn payload_version(event: &EventProbe<'_>) -> PayloadVersion {
    if !event.has("version") {
        return PayloadVersion::V1;
    }
    match event.str("version").as_deref() {
        Some("1.0") => PayloadVersion::V1,
        Some("2.0") => PayloadVersion::V2,
        _ => PayloadVersion::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_field_decides() {
        let version = |event: &str| payload_version(&EventProbe::new(event.as_bytes()).unwrap());
        assert_eq!(version("{}"), PayloadVersion::V1);
        assert_eq!(version(r#"{"version":null}"#), PayloadVersion::V1);
        assert_eq!(version(r#"{"version":"1.0"}"#), PayloadVersion::V1);
        assert_eq!(
            version(r#"{"version":"2.0","httpMethod":"GET"}"#),
            PayloadVersion::V2
        );
        assert_eq!(version(r#"{"version":"0"}"#), PayloadVersion::Other);
        assert_eq!(version(r#"{"version":2}"#), PayloadVersion::Other);
    }
}
