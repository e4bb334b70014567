//! The reference app and example Lambda functions of serverless-adapter.
//!
//! [`app::router`] is the reference app every test and benchmark uses; the binaries serve it
//! as a plain HTTP server (`reference-server`) and as Lambda functions (`reference-axum`).

pub mod actix_app;
pub mod app;
pub mod logging;
