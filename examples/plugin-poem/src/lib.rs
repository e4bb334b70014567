//! A worked example of third-party plugins for serverless-adapter, written only against
//! `serverless-adapter-core`'s public API:
//!
//! - [`PoemFramework`] ([`framework`]): the poem web framework served in process, in one file;
//! - [`CloudWatchLogsAdapter`] ([`cloudwatch_logs`]): a custom event adapter for CloudWatch Logs
//!   subscription events;
//! - both registered in the plugin registry (`poem-reference` and `cloudwatch-logs`), so the
//!   `poem-function` binary is composed by name from its environment.
//!
//! The guides `docs/writing-a-framework-plugin.md` and `docs/writing-an-adapter.md` walk through
//! this code.

pub mod app;
pub mod cloudwatch_logs;
pub mod framework;

pub use cloudwatch_logs::CloudWatchLogsAdapter;
pub use framework::PoemFramework;

use serverless_adapter_core::registry::BoxFramework;
use serverless_adapter_core::{register_adapter, register_framework};

register_framework! {
    name: "poem-reference",
    summary: "the reference app's routes, written with poem, served in process",
    build: |_settings| Ok(BoxFramework::new(PoemFramework::new(app::app()))),
}

register_adapter! {
    name: "cloudwatch-logs",
    summary: "CloudWatch Logs subscription events as one POST /logs per batch",
    build: |settings| Ok(Box::new(CloudWatchLogsAdapter::from_settings(settings)?)),
}
