//! Logs through `tracing` to stderr, the way Lambda reads them: text by default, JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`; the level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else
//! `info`.

use tracing_subscriber::EnvFilter;

/// Whether logs are JSON for this `AWS_LAMBDA_LOG_FORMAT` value.
pub fn is_json(format: Option<&str>) -> bool {
    format.is_some_and(|format| format.eq_ignore_ascii_case("json"))
}

/// The filter for these `RUST_LOG` and `AWS_LAMBDA_LOG_LEVEL` values (`info` by default or when
/// neither parses).
pub fn filter(rust_log: Option<&str>, lambda_level: Option<&str>) -> EnvFilter {
    rust_log
        .map(str::to_owned)
        .or_else(|| lambda_level.map(str::to_lowercase))
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// Installs the global subscriber from the environment (later calls do nothing).
pub fn init() {
    let filter = filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if is_json(std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref()) {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}

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
