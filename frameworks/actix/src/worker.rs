//! The worker threads: an actix system each, serving the jobs sent by [`ActixFramework`].
//!
//! [`ActixFramework`]: crate::ActixFramework

use std::any::Any;
use std::fmt;
use std::future::poll_fn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use actix_http::Request as ActixRequest;
use actix_service::IntoServiceFactory;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{AppConfig, Response as ActixResponse, Service, ServiceFactory};
use actix_web::Error as ActixError;
use futures_util::FutureExt as _;
use http::{Request, Response};
use serverless_adapter_core::{panic_error, Body, BoxError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::body::{ChannelBody, Chunk};
use crate::convert;

/// The sending end of a worker's job channel.
pub(crate) type JobSender = mpsc::UnboundedSender<Job>;

/// What a worker is asked to do.
// `Ready` is rare and small; boxing `Serve` would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Job {
    /// Serve a request and send back the response (its head, then its body as it is produced).
    Serve {
        request: Request<Body>,
        reply: oneshot::Sender<Result<Response<Body>, Failure>>,
    },
    /// Answer once the app is built (or failed to build).
    Ready {
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// How serving a request failed.
pub(crate) enum Failure {
    /// An error, reported as it is.
    Error(BoxError),
    /// A panic's payload, resumed in the caller.
    Panic(Box<dyn Any + Send>),
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(error) => f.debug_tuple("Error").field(error).finish(),
            Self::Panic(_) => f.write_str("Panic"),
        }
    }
}

/// The error of a request whose worker went away before answering.
pub(crate) fn stopped_error() -> BoxError {
    "the actix worker thread stopped before answering".into()
}

/// The body of a worker thread: an actix system serving `jobs` until every sender is gone and
/// every request in flight is finished.
pub(crate) fn run<F, I, S, B>(
    factory: F,
    jobs: mpsc::UnboundedReceiver<Job>,
    response_buffer: usize,
) where
    F: Fn() -> I,
    I: IntoServiceFactory<S, ActixRequest>,
    S: ServiceFactory<ActixRequest, Config = AppConfig> + 'static,
    S::Error: Into<ActixError> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<ActixResponse<B>> + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    // Should anything here fail, the job channel is dropped with the thread: callers get an
    // error and the next request starts a new worker.
    actix_web::rt::System::new().block_on(serve_jobs(factory, jobs, response_buffer));
}

async fn serve_jobs<F, I, S, B>(
    factory: F,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    response_buffer: usize,
) where
    F: Fn() -> I,
    I: IntoServiceFactory<S, ActixRequest>,
    S: ServiceFactory<ActixRequest, Config = AppConfig> + 'static,
    S::Error: Into<ActixError> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<ActixResponse<B>> + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let service = match build(&factory).await {
        Ok(service) => Rc::new(service),
        Err(message) => {
            // Refuse new jobs (their senders start a new worker) and fail the queued ones.
            jobs.close();
            while let Some(job) = jobs.recv().await {
                match job {
                    Job::Serve { reply, .. } => {
                        let _ = reply.send(Err(Failure::Error(message.clone().into())));
                    }
                    Job::Ready { reply } => {
                        let _ = reply.send(Err(message.clone()));
                    }
                }
            }
            return;
        }
    };
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            job = jobs.recv() => match job {
                Some(Job::Serve { request, reply }) => {
                    tasks.spawn_local(serve(service.clone(), request, reply, response_buffer));
                }
                Some(Job::Ready { reply }) => {
                    let _ = reply.send(Ok(()));
                }
                None => break,
            },
            // Reap finished requests. Panics are caught inside `serve`.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // The framework is gone; let the responses still streaming finish.
    while tasks.join_next().await.is_some() {}
}

/// Builds the app's service, turning a failure or a panic into a message.
async fn build<F, I, S>(factory: &F) -> Result<S::Service, String>
where
    F: Fn() -> I,
    I: IntoServiceFactory<S, ActixRequest>,
    S: ServiceFactory<ActixRequest, Config = AppConfig>,
    S::InitError: fmt::Debug,
{
    let built = AssertUnwindSafe(async {
        let app = factory().into_factory();
        app.new_service(AppConfig::default()).await
    })
    .catch_unwind()
    .await;
    match built {
        Ok(Ok(service)) => Ok(service),
        Ok(Err(error)) => Err(format!("the actix app failed to start: {error:?}")),
        Err(payload) => Err(format!(
            "the actix app factory panicked: {}",
            panic_error(payload).message()
        )),
    }
}

/// Serves one request: sends back the response head, then pumps the body.
async fn serve<T, B>(
    service: Rc<T>,
    request: Request<Body>,
    mut reply: oneshot::Sender<Result<Response<Body>, Failure>>,
    response_buffer: usize,
) where
    T: Service<ActixRequest>,
    T::Response: Into<ActixResponse<B>>,
    T::Error: Into<ActixError>,
    B: MessageBody + 'static,
{
    let head_only = request.method() == http::Method::HEAD;
    let request = match convert::to_actix(request) {
        Ok(request) => request,
        Err(error) => {
            let _ = reply.send(Err(Failure::Error(error)));
            return;
        }
    };
    let called = AssertUnwindSafe(async {
        if let Err(error) = poll_fn(|cx| service.poll_ready(cx)).await {
            return error_response(error);
        }
        match service.call(request).await {
            // Boxing a `BoxBody` (an `App`'s) is free; unlike `EitherBody`, it keeps the
            // body's errors as they are.
            Ok(response) => response.into().map_body(|_, body| body.boxed()),
            Err(error) => error_response(error),
        }
    })
    .catch_unwind();
    let response = tokio::select! {
        response = called => response,
        // The caller gave up: drop the app's future.
        () = reply.closed() => return,
    };
    let response = match response {
        Ok(response) => response,
        Err(payload) => {
            let _ = reply.send(Err(Failure::Panic(payload)));
            return;
        }
    };
    let (response, body) = response.into_parts();
    let size = body.size();
    let (parts, has_body) = match convert::response_parts(response.head(), size, head_only) {
        Ok(parts) => parts,
        Err(error) => {
            let _ = reply.send(Err(Failure::Error(error)));
            return;
        }
    };
    if !has_body {
        let _ = reply.send(Ok(Response::from_parts(parts, Body::empty())));
        return;
    }
    // A body that is one buffer already (most responses) needs no channel.
    let body = match catch_unwind(AssertUnwindSafe(|| body.try_into_bytes())) {
        Ok(Ok(bytes)) => {
            let _ = reply.send(Ok(Response::from_parts(parts, Body::full(bytes))));
            return;
        }
        Ok(Err(body)) => body,
        Err(payload) => {
            let _ = reply.send(Err(Failure::Panic(payload)));
            return;
        }
    };
    let exact = match size {
        BodySize::Sized(length) => Some(length),
        BodySize::None | BodySize::Stream => None,
    };
    let (frames, receiver) = mpsc::channel(response_buffer);
    let streamed = Body::new(ChannelBody::new(receiver, exact));
    if reply
        .send(Ok(Response::from_parts(parts, streamed)))
        .is_ok()
    {
        pump(body, frames).await;
    }
}

/// The response of an error the app's service returned, as actix's HTTP dispatcher makes it.
fn error_response(error: impl Into<ActixError>) -> ActixResponse<BoxBody> {
    ActixResponse::from(error.into())
}

/// Polls `body` and sends its chunks to `frames`, one at a time as the consumer makes room,
/// until it ends, fails or panics, or the consumer goes away.
async fn pump<B: MessageBody>(body: B, frames: mpsc::Sender<Chunk>) {
    let mut body = pin!(body);
    loop {
        // Poll the app only once there is room for what it produces.
        let Ok(permit) = frames.reserve().await else {
            return;
        };
        let next =
            poll_fn(
                |cx| match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll_next(cx))) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(next)) => Poll::Ready(Ok(next)),
                    Err(payload) => Poll::Ready(Err(payload)),
                },
            );
        let next = tokio::select! {
            next = next => next,
            // The consumer dropped the body: stop polling the app's.
            () = frames.closed() => return,
        };
        match next {
            Ok(Some(Ok(bytes))) if bytes.is_empty() => {}
            Ok(Some(Ok(bytes))) => permit.send(Chunk::Data(bytes)),
            Ok(Some(Err(error))) => {
                let error: Box<dyn std::error::Error> = error.into();
                permit.send(Chunk::Failed(Failure::Error(error.to_string().into())));
                return;
            }
            Ok(None) => {
                permit.send(Chunk::End);
                return;
            }
            Err(payload) => {
                permit.send(Chunk::Failed(Failure::Panic(payload)));
                return;
            }
        }
    }
}
