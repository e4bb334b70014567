//! Logs through `tracing` to stderr, the way Lambda reads them: text by default, JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`; the level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else
//! `info`. The set-up is shared with every function: [`serverless_adapter_core::logging`].

pub use serverless_adapter_core::logging::{filter, init, is_json};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_level() {
        assert!(is_json(Some("JSON")));
        assert!(is_json(Some("json")));
        assert!(!is_json(Some("Text")));
        assert!(!is_json(None));
        assert_eq!(filter(None, Some("DEBUG")).to_string(), "debug");
        assert_eq!(filter(Some("warn"), Some("DEBUG")).to_string(), "warn");
        assert_eq!(filter(None, None).to_string(), "info");
    }
}
