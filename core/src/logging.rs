//! Logs the way Lambda reads them (cargo feature `logging`): `tracing` events to stderr, plain
//! text by default and one JSON object per line when `AWS_LAMBDA_LOG_FORMAT=JSON`.
//!
//! The level comes from `RUST_LOG` (any [`EnvFilter`] directive, such as
//! `info,my_app=debug`), else from `AWS_LAMBDA_LOG_LEVEL` (`TRACE`, `DEBUG`, `INFO`, `WARN`,
//! `ERROR`, `FATAL`; Lambda sets it from the function's logging configuration), else `info`.
//!
//! Every line written while an invocation is served carries its request id: the invocation
//! loop enters an `invocation{request_id=...}` span around each invocation (target
//! [`INVOCATION_SPAN_TARGET`], which these settings always enable, at any level), and a
//! streamed body is polled inside that span too. In text the span reads
//! `invocation{request_id=8f5c...}: target: message`; in JSON it is the `span` and `spans`
//! fields (`"span":{"request_id":"8f5c...","name":"invocation"}`).
//!
//! ```
//! // In `main`, before building the function:
//! serverless_adapter_core::logging::init();
//! tracing::info!("starting");
//! ```
//!
//! Event bodies and header values are never logged at `info` or above by this project's
//! crates: `info` shows one line per start-up and warnings for failed invocations.

use tracing::Subscriber;

use crate::runtime::INVOCATION_SPAN_TARGET;
use tracing_subscriber::fmt::MakeWriter;
pub use tracing_subscriber::EnvFilter;

/// Whether logs are JSON for this `AWS_LAMBDA_LOG_FORMAT` value (`JSON`, any case).
pub fn is_json(format: Option<&str>) -> bool {
    format.is_some_and(|format| format.trim().eq_ignore_ascii_case("json"))
}

/// The `tracing` level directive for an `AWS_LAMBDA_LOG_LEVEL` value, or `None` when it is not
/// one of Lambda's levels. `FATAL` (which `tracing` lacks) is `error`.
pub fn lambda_level(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" | "WARNING" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

/// The filter for these `RUST_LOG` and `AWS_LAMBDA_LOG_LEVEL` values: `RUST_LOG` when it
/// parses, else Lambda's level, else `info`.
pub fn filter(rust_log: Option<&str>, lambda_log_level: Option<&str>) -> EnvFilter {
    rust_log
        .filter(|spec| !spec.trim().is_empty())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .or_else(|| lambda_log_level.and_then(lambda_level).map(EnvFilter::new))
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// How logs are written: the format and the filter.
#[derive(Debug)]
pub struct LogSettings {
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Which events are written.
    pub filter: EnvFilter,
}

impl LogSettings {
    /// Reads `AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG` and `AWS_LAMBDA_LOG_LEVEL`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Self {
            json: is_json(var("AWS_LAMBDA_LOG_FORMAT").as_deref()),
            filter: filter(
                var("RUST_LOG").as_deref(),
                var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
            ),
        }
    }

    /// A subscriber writing to `writer` with these settings (tests capture logs this way;
    /// [`init`] writes to stderr).
    pub fn subscriber<W>(self, writer: W) -> Box<dyn Subscriber + Send + Sync>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        // The invocation span carries the request id: keep it whatever the filter enables.
        let filter = match format!("{INVOCATION_SPAN_TARGET}=error").parse() {
            Ok(directive) => self.filter.add_directive(directive),
            Err(_) => self.filter,
        };
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer);
        if self.json {
            Box::new(builder.json().flatten_event(true).finish())
        } else {
            Box::new(builder.with_ansi(false).finish())
        }
    }
}

/// Installs the global subscriber from the environment, writing to stderr (which Lambda sends
/// to CloudWatch). Does nothing when a global subscriber is already set.
pub fn init() {
    let subscriber = LogSettings::from_env().subscriber(std::io::stderr);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn format_and_level_follow_lambda_and_rust_log() {
        assert!(is_json(Some("JSON")));
        assert!(is_json(Some("json")));
        assert!(!is_json(Some("Text")));
        assert!(!is_json(None));
        assert_eq!(filter(None, Some("DEBUG")).to_string(), "debug");
        assert_eq!(filter(None, Some("FATAL")).to_string(), "error");
        assert_eq!(filter(None, Some("nonsense")).to_string(), "info");
        assert_eq!(filter(Some("warn"), Some("DEBUG")).to_string(), "warn");
        assert_eq!(filter(Some(""), Some("ERROR")).to_string(), "error");
        assert_eq!(filter(None, None).to_string(), "info");
    }

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Logs `served` (INFO) and `filtered out` (DEBUG) inside an invocation span made the way
    /// the invocation loop makes it, and returns what was written.
    fn capture(json: bool, filter: EnvFilter) -> String {
        let out = Capture::default();
        let writer = out.clone();
        let settings = LogSettings { json, filter };
        let subscriber = settings.subscriber(move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::span!(
                target: INVOCATION_SPAN_TARGET,
                tracing::Level::ERROR,
                "invocation",
                request_id = "req-1"
            );
            let _entered = span.enter();
            tracing::info!(answer = 42, "served");
            tracing::warn!("careful");
            tracing::debug!("filtered out");
        });
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn any_level_or_target_filter_keeps_the_request_id() {
        let warn = capture(false, filter(None, Some("WARN")));
        assert_eq!(warn.lines().count(), 1, "{warn}");
        assert!(warn.contains("invocation{request_id=\"req-1\"}"), "{warn}");
        assert!(warn.contains("careful"), "{warn}");

        // Only this module's target is enabled, yet the span is kept.
        let target = module_path!();
        let chosen = capture(false, filter(Some(&format!("{target}=info")), None));
        assert_eq!(chosen.lines().count(), 2, "{chosen}");
        for line in chosen.lines() {
            assert!(line.contains("invocation{request_id=\"req-1\"}"), "{line}");
        }
    }

    #[test]
    fn text_and_json_lines_carry_the_span() {
        let text = capture(false, filter(None, Some("INFO")));
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("invocation{request_id=\"req-1\"}"), "{text}");
        assert!(text.contains("served answer=42"), "{text}");

        let json = capture(true, filter(None, Some("INFO")));
        assert_eq!(json.lines().count(), 2, "{json}");
        let first = json.lines().next().unwrap();
        let line: serde_json::Value = serde_json::from_str(first).unwrap();
        assert_eq!(line["message"], "served");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["answer"], 42);
        assert_eq!(line["span"]["request_id"], "req-1");
    }
}
