//! Test support: the event fixtures that ship in the `aws_lambda_events` crate, and ours.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The `src/fixtures` folder of the `aws_lambda_events` crate this workspace resolved.
pub(crate) fn aws_fixtures_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let output = std::process::Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--manifest-path",
                manifest,
            ])
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
        let manifest_path = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == "aws_lambda_events")
            .and_then(|p| p["manifest_path"].as_str())
            .expect("aws_lambda_events is a dev-dependency");
        let dir = PathBuf::from(manifest_path)
            .parent()
            .expect("crate dir")
            .join("src/fixtures");
        assert!(dir.is_dir(), "{} holds the fixtures", dir.display());
        dir
    })
}

/// Every fixture whose file name starts with one of `prefixes`, as (name, bytes), sorted.
pub(crate) fn aws_fixtures(prefixes: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(aws_fixtures_dir())
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name.ends_with(".json") && prefixes.iter().any(|p| name.starts_with(p)))
                .then(|| (name, std::fs::read(entry.path()).expect("fixture readable")))
        })
        .collect();
    found.sort();
    found
}

/// One of this crate's own fixtures (`adapters/fixtures/NAME`).
pub(crate) fn own_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .expect("own fixture")
}
