//! `DebugResolver`: the default resolver, with the error's details in the answer.

use http::{header, Response};
use serverless_adapter_core::{error_response, Body, Error, LambdaContext, Resolution, Resolver};

/// Like [`DefaultResolver`](serverless_adapter_core::DefaultResolver) — an app error, panic or
/// timeout becomes a `502`, `500` or `504` JSON answer; anything else fails the invocation — but
/// the answer tells what happened:
/// `{"message":"Internal Server Error","errorType":"App.Panic","errorMessage":"<the panic's
/// message>","causes":["<source>",..]}`.
///
/// **For local debugging only**: error messages and their causes can hold internals (paths,
/// queries, configuration, secrets) that every caller of the function then sees. Use the
/// default resolver in production; its details go to the log only.
#[derive(Debug, Clone, Copy, Default)]
pub struct DebugResolver;

/// The detailed JSON answer for an app failure, or `None` when the error is not the app's.
fn debug_response(error: &Error) -> Option<Response<Body>> {
    let status = error_response(error)?.status();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(serde_json::Value::String(cause.to_string()));
        source = cause.source();
    }
    let body = serde_json::json!({
        "message": status.canonical_reason().unwrap_or("Error"),
        "errorType": error.error_type(),
        "errorMessage": error.message(),
        "causes": causes,
    });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .ok()
}

impl Resolver for DebugResolver {
    async fn resolve(
        &self,
        outcome: Result<Response<Body>, Error>,
        context: &LambdaContext,
    ) -> Resolution {
        match outcome {
            Ok(response) => Resolution::Respond(response),
            Err(error) => match debug_response(&error) {
                Some(response) => {
                    tracing::error!(
                        request_id = %context.request_id,
                        error_type = error.error_type(),
                        error = error.message(),
                        "the application failed; answering {} with the details (DebugResolver)",
                        response.status()
                    );
                    Resolution::Respond(response)
                }
                None => Resolution::Fail(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn answer(error: Error) -> (u16, serde_json::Value) {
        let ctx = LambdaContext::for_request_id("r");
        let Resolution::Respond(response) = DebugResolver.resolve(Err(error), &ctx).await else {
            panic!("an app failure is answered")
        };
        let status = response.status().as_u16();
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn answers_tell_what_happened() {
        let (status, body) = answer(Error::panic("index out of bounds: \"quoted\"")).await;
        assert_eq!(status, 500);
        assert_eq!(
            body,
            serde_json::json!({
                "message": "Internal Server Error",
                "errorType": "App.Panic",
                "errorMessage": "index out of bounds: \"quoted\"",
                "causes": []
            })
        );
        let (status, body) = answer(Error::app(std::io::Error::other("connection refused"))).await;
        assert_eq!(status, 502);
        assert_eq!(body["errorType"], "App.Error");
        assert_eq!(body["errorMessage"], "connection refused");
        assert_eq!(body["causes"], serde_json::json!(["connection refused"]));
        let (status, body) = answer(Error::timeout("late")).await;
        assert_eq!(
            (status, body["errorType"].as_str()),
            (504, Some("App.Timeout"))
        );
    }

    #[tokio::test]
    async fn other_outcomes_are_the_default_ones() {
        let ctx = LambdaContext::for_request_id("r");
        assert!(matches!(
            DebugResolver.resolve(Err(Error::malformed_event("x")), &ctx).await,
            Resolution::Fail(e) if e.is_malformed_event()
        ));
        assert!(matches!(
            DebugResolver.resolve(Ok(Response::new(Body::empty())), &ctx).await,
            Resolution::Respond(r) if r.status() == 200
        ));
    }
}
