//! actix-web apps served in process, without a socket, by serverless-adapter.
//!
//! [`ActixFramework`] makes an actix-web app a [`Framework`](serverless_adapter_core::Framework):
//! give it the app factory you would give `HttpServer::new`, and give it to the builder.
//!
//! ```no_run
//! use actix_web::{web, App, HttpResponse};
//! use serverless_adapter_actix::{ActixFramework, Lambda};
//! # use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};
//! use serverless_adapter_core::ServerlessAdapter;
//! # struct ApiGatewayV2Adapter;
//! # impl Adapter for ApiGatewayV2Adapter {
//! #     fn name(&self) -> &str { "api-gateway-v2" }
//! #     fn can_handle(&self, _: &EventProbe<'_>) -> bool { true }
//! #     fn decode(&self, _: bytes::Bytes, _: &LambdaContext) -> Result<Decoded, Error> {
//! #         Err(Error::adapter("example"))
//! #     }
//! # }
//!
//! async fn whoami(Lambda(context): Lambda) -> HttpResponse {
//!     HttpResponse::Ok().body(context.request_id)
//! }
//!
//! # async fn run() -> Result<(), Error> {
//! let app = ActixFramework::new(|| App::new().route("/whoami", web::get().to(whoami)));
//! ServerlessAdapter::new(app)
//!     .adapter(ApiGatewayV2Adapter)
//!     .build()
//!     .await
//! # }
//! ```
//!
//! The app runs on its own thread (or threads, see [`ActixFramework::workers`]), in an actix
//! system, as under `HttpServer`: handlers may use `actix_web::rt` and other `!Send` futures.
//! Request and response bodies stream both ways, with back-pressure, and panics are caught.
//!
//! What Lambda tells about a request is in its extensions, with extractors:
//! [`Lambda`] for the [`LambdaContext`](serverless_adapter_core::LambdaContext),
//! [`EventContext`] for the event's [`RequestContext`](serverless_adapter_core::RequestContext),
//! and [`OriginalHeaders`] for the headers in the order they came (actix's map forgets it).
//!
//! Like actix's HTTP/1 server, the framework frames responses itself: `content-length` comes
//! from the body's size, and responses to `HEAD`, `1xx`, `204` and `304` carry no body.
//! WebSocket upgrades are not supported (Lambda has no such connections).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod convert;
mod extract;
mod framework;
mod worker;

pub use extract::{EventContext, Lambda, OriginalHeaders};
pub use framework::{ActixFramework, DEFAULT_RESPONSE_BUFFER};

#[cfg(test)]
mod tests;
