//! The handlers' integration tests, one binary: a real function (the core's invocation loop)
//! against a Runtime API stand-in (`common`) — the streaming handler's wire format
//! (`stream_runtime_api`) and answers settled before the deadline (`answer_deadline`).

#[path = "../common/mod.rs"]
mod common;

mod answer_deadline;
mod stream_runtime_api;
