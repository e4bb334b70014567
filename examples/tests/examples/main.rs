//! The examples crate's tests, one binary: the reference apps served in process (axum and
//! actix compared route by route), the in-process function against the emulator (adapter
//! errors, Runtime API resets, logging), and `reference-actix-server` over HTTP. The functions
//! as real processes under a Runtime API are the e2e crate's (`e2e/tests`).
//!
//! Process-global state: the logging tests install their subscriber for their own thread only
//! (`set_default`, current-thread runtimes), so the other modules' functions log nowhere.

mod actix_app;
mod actix_server;
mod app;
mod in_process;
mod logging;
