//! poem as a serverless-adapter framework, in one file: [`PoemFramework`] serves any poem
//! [`Endpoint`] (a `Route`, a handler, an endpoint with middleware) in process.
//!
//! A request arrives as `http::Request<serverless_adapter_core::Body>` and leaves as
//! `http::Response<Body>`; both bodies stay streams (frames are handed on as they come, never
//! collected).

use std::io;

use futures_util::TryStreamExt as _;
use http::uri::Scheme;
use http::{Request, Response};
use http_body_util::BodyDataStream;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, IntoEndpoint};
use serverless_adapter_core::{Body, BoxError, Framework};

/// Serves a poem endpoint in process.
///
/// ```no_run
/// use poem::{get, handler, Route};
/// use serverless_adapter_adapters::ApiGatewayV2Adapter;
/// use serverless_adapter_core::ServerlessAdapter;
/// use serverless_adapter_plugin_poem::PoemFramework;
///
/// #[handler]
/// fn hello() -> &'static str {
///     "hello"
/// }
///
/// # async fn run() -> Result<(), serverless_adapter_core::Error> {
/// let app = Route::new().at("/", get(hello));
/// ServerlessAdapter::new(PoemFramework::new(app))
///     .adapter(ApiGatewayV2Adapter)
///     .build()
///     .await
/// # }
/// ```
#[derive(Debug)]
pub struct PoemFramework<E> {
    endpoint: E,
}

impl<E: Endpoint + 'static> PoemFramework<E> {
    /// Serves `app` (anything poem turns into an endpoint).
    pub fn new(app: impl IntoEndpoint<Endpoint = E>) -> Self {
        Self {
            endpoint: app.into_endpoint(),
        }
    }
}

impl<E: Endpoint + 'static> Framework for PoemFramework<E> {
    async fn serve(&self, request: Request<Body>) -> Result<Response<Body>, BoxError> {
        let (parts, body) = request.into_parts();
        // The caller's address, as the adapters forward it; poem's `RemoteAddr` extractor
        // reads it from here.
        let remote = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|list| list.split(',').next())
            .map(|ip| Addr::Custom("lambda", ip.trim().to_owned().into()))
            .unwrap_or_default();
        let local = Addr::Custom("lambda", "".into());
        let parts =
            poem::RequestParts::from((parts, LocalAddr(local), RemoteAddr(remote), Scheme::HTTPS));
        // poem's body must be `Sync`; a stream of data frames is wrapped to be (trailers of
        // requests are dropped: no Lambda event carries any).
        let body =
            poem::Body::from_bytes_stream(BodyDataStream::new(body).map_err(io::Error::other));
        let request = poem::Request::from_parts(parts, body);

        // Errors become responses the way poem's own server makes them (404, 405, 400...);
        // a panic unwinds to the core, which reports it (`App.Panic`).
        let response = self.endpoint.get_response(request).await;
        let response: Response<_> = response.into();
        Ok(response.map(Body::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use bytes::Bytes;
    use http_body_util::{BodyExt as _, StreamBody};
    use poem::web::RemoteAddr;
    use poem::{handler, post, Route};

    #[handler]
    async fn who(remote: &RemoteAddr, body: poem::Body) -> poem::Response {
        // Answers with the caller, then streams the request body back as it arrives.
        let first = Bytes::from(format!("{}|", remote.0));
        let first = futures_util::stream::once(async move { Ok::<_, io::Error>(first) });
        let rest = body.into_bytes_stream();
        poem::Response::builder().body(poem::Body::from_bytes_stream(
            futures_util::StreamExt::chain(first, rest),
        ))
    }

    #[tokio::test]
    async fn requests_and_responses_stream_through_poem() {
        let framework = PoemFramework::new(Route::new().at("/who", post(who)));
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<_, io::Error>>(1);
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        let request = Request::builder()
            .method("POST")
            .uri("/who")
            .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
            .body(Body::new(StreamBody::new(stream)))
            .unwrap();
        sender
            .send(Ok(http_body::Frame::data(Bytes::from_static(b"one"))))
            .await
            .unwrap();
        let response = framework.serve(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut received = Vec::new();
        // The first request frame comes back while the request body is still open.
        let liveness = std::time::Duration::from_secs(30);
        while !received.ends_with(b"one") {
            let frame = tokio::time::timeout(liveness, body.frame())
                .await
                .expect("the frame is handed on before the request body ends")
                .expect("more frames")
                .unwrap();
            received.extend_from_slice(&frame.into_data().unwrap());
        }
        assert_eq!(&received[..], b"lambda://203.0.113.7|one");
        sender
            .send(Ok(http_body::Frame::data(Bytes::from_static(b"two"))))
            .await
            .unwrap();
        drop(sender);
        let rest = body.collect().await.unwrap().to_bytes();
        assert_eq!(&rest[..], b"two");
    }

    #[tokio::test]
    async fn poem_errors_are_responses() {
        let framework = PoemFramework::new(Route::new().at("/who", post(who)));
        let request = |method: &str, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap()
        };
        let missing = framework.serve(request("GET", "/nope")).await.unwrap();
        assert_eq!(missing.status(), 404);
        let wrong_method = framework.serve(request("GET", "/who")).await.unwrap();
        assert_eq!(wrong_method.status(), 405);
    }
}
