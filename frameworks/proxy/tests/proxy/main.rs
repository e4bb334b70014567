//! The proxy's library against real apps, one test binary: `ProxyFramework` forwarding to the
//! reference app and to small apps written here (`framework`), readiness checks and the
//! supervisor (`readiness`). `lambda-adapter` as a process is the e2e crate's
//! (`e2e/tests/suites/proxy_*.rs`).

#[path = "../support/mod.rs"]
mod support;

mod framework;
mod readiness;
