//! Pinned tools the tests fetch for themselves, so that a machine with only the Rust toolchain
//! and Python runs the whole suite.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The cargo-lambda release the interoperability cases run against.
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// The directory of the running test's build profile (`target/debug`, say).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The cargo-lambda binary, pinned to [`CARGO_LAMBDA_VERSION`].
///
/// Installed on first use with `pip install --target` into `target/tools/` (once per machine,
/// under a file lock, so concurrent test processes share one install). Panics with pip's own
/// words if the install fails: that, and only that, fails the cases that need it.
pub fn cargo_lambda() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(install_cargo_lambda).clone()
}

fn install_cargo_lambda() -> PathBuf {
    let tools = profile_dir()
        .parent()
        .expect("target/<profile> has a parent")
        .join("tools");
    let home = tools.join(format!("cargo-lambda-{CARGO_LAMBDA_VERSION}"));
    let binary = home.join("bin").join("cargo-lambda");
    if binary.exists() {
        return binary;
    }
    std::fs::create_dir_all(&tools).expect("target/tools can be created");
    let lock = std::fs::File::create(tools.join(".cargo-lambda.lock")).expect("the lock file");
    lock.lock().expect("the install lock");
    if !binary.exists() {
        let staging = tools.join(format!(
            "cargo-lambda-{CARGO_LAMBDA_VERSION}.partial-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        let output = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--target",
            ])
            .arg(&staging)
            .arg(format!("cargo-lambda=={CARGO_LAMBDA_VERSION}"))
            .output()
            .expect("python3 runs (the suite needs Python to fetch cargo-lambda)");
        assert!(
            output.status.success(),
            "installing cargo-lambda {CARGO_LAMBDA_VERSION} with pip failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let _ = std::fs::remove_dir_all(&home);
        std::fs::rename(&staging, &home).expect("the install is moved in place");
    }
    let _ = lock.unlock();
    assert!(binary.exists(), "{binary:?} exists after the install");
    binary
}
