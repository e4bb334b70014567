//! [`ActixFramework`]: the `Send` front of the actix worker threads.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix_http::Request as ActixRequest;
use actix_service::IntoServiceFactory;
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response as ActixResponse, Service, ServiceFactory};
use actix_web::Error as ActixError;
use http::{Request, Response};
use serverless_adapter_core::{Body, BoxError, Framework};
use tokio::sync::{mpsc, oneshot};

use crate::worker::{self, Failure, Job, JobSender};

/// Response frames an actix worker may produce ahead of the consumer, by default.
pub const DEFAULT_RESPONSE_BUFFER: usize = 4;

/// Serves an actix-web app in process, without a socket: a [`Framework`].
///
/// actix-web runs its apps on single-threaded runtimes and its services are not `Send`, while a
/// [`Framework`] is called from any thread. `ActixFramework` bridges the two the way actix's own
/// `HttpServer` does: it runs one or more worker threads (one by default, see
/// [`workers`](Self::workers)), each with its own actix system (a current-thread tokio runtime
/// and `LocalSet`) that calls the app factory once and builds the app's service once. Requests
/// travel to a worker over a channel, are served concurrently on it, and the responses come
/// back with streaming bodies:
///
/// - the request body is handed to the app as its actix `Payload` and read frame by frame as the
///   app reads it;
/// - the response body is polled on the worker and its chunks are sent back as they are
///   produced, over a bounded channel: the app is polled only when the consumer has room
///   ([`response_buffer`](Self::response_buffer) frames), and stops being polled when the
///   consumer goes away.
///
/// A panic in the app, while producing the response or its body, is caught on the worker thread,
/// which keeps serving, and resumed in the caller, as if the app had run there: core's
/// `serve_guarded` (used by the invocation loop) turns it into an `App.Panic` error, which the
/// resolver answers with a 500. A worker that stops anyway (its app failed to start, say) is
/// started again on the next request.
///
/// Workers start on the first request, or at [`start`](Self::start).
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use serverless_adapter_actix::ActixFramework;
/// # use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};
/// use serverless_adapter_core::ServerlessAdapter;
/// # struct ApiGatewayV2Adapter;
/// # impl Adapter for ApiGatewayV2Adapter {
/// #     fn name(&self) -> &str { "api-gateway-v2" }
/// #     fn can_handle(&self, _: &EventProbe<'_>) -> bool { true }
/// #     fn decode(&self, _: bytes::Bytes, _: &LambdaContext) -> Result<Decoded, Error> {
/// #         Err(Error::adapter("example"))
/// #     }
/// # }
///
/// # async fn run() -> Result<(), Error> {
/// let app = ActixFramework::new(|| {
///     App::new().route("/", web::get().to(|| async { HttpResponse::Ok().body("ok") }))
/// });
/// ServerlessAdapter::new(app)
///     .adapter(ApiGatewayV2Adapter)
///     .build()
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct ActixFramework {
    shared: Arc<Shared>,
}

/// Starts a worker thread serving the jobs of one channel.
type Launch =
    dyn Fn(usize, mpsc::UnboundedReceiver<Job>, usize) -> std::io::Result<()> + Send + Sync;

struct Shared {
    launch: Arc<Launch>,
    /// One slot per worker: the sending end of its job channel, once started.
    workers: Box<[Mutex<Option<JobSender>>]>,
    next: AtomicUsize,
    response_buffer: usize,
}

impl ActixFramework {
    /// Serves the apps that `factory` builds, as `actix_web::HttpServer::new` does: the factory is
    /// called once on each worker thread (typically `|| App::new().service(..)`).
    pub fn new<F, I, S, B>(factory: F) -> Self
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, ActixRequest>,
        S: ServiceFactory<ActixRequest, Config = AppConfig> + 'static,
        S::Error: Into<ActixError> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<ActixResponse<B>> + 'static,
        S::Service: 'static,
        <S::Service as Service<ActixRequest>>::Future: 'static,
        B: MessageBody + 'static,
    {
        // The factory is only `Send`, like HttpServer's: it is cloned under a lock, once per
        // worker thread started.
        let factory = Mutex::new(factory);
        let launch = move |index: usize, jobs, response_buffer| {
            let factory = factory
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            std::thread::Builder::new()
                .name(format!("actix-worker-{index}"))
                .spawn(move || worker::run::<F, I, S, B>(factory, jobs, response_buffer))
                .map(drop)
        };
        Self {
            shared: Arc::new(Shared::new(Arc::new(launch), 1, DEFAULT_RESPONSE_BUFFER)),
        }
    }

    /// Serves requests on `count` worker threads (1 by default), each running its own copy of the
    /// app; requests are spread over them in turn.
    ///
    /// One thread serves any number of requests at once; more threads help CPU-bound apps
    /// serving several invocations at a time (Lambda Managed Instances with
    /// `AWS_LAMBDA_MAX_CONCURRENCY` > 1, on more than one vCPU):
    /// `workers(std::thread::available_parallelism()?)`.
    pub fn workers(self, count: NonZeroUsize) -> Self {
        Self {
            shared: Arc::new(Shared::new(
                self.shared.launch.clone(),
                count.get(),
                self.shared.response_buffer,
            )),
        }
    }

    /// How many response body frames the app may produce ahead of the consumer
    /// ([`DEFAULT_RESPONSE_BUFFER`] by default; at least 1).
    pub fn response_buffer(self, frames: usize) -> Self {
        Self {
            shared: Arc::new(Shared::new(
                self.shared.launch.clone(),
                self.shared.workers.len(),
                frames.max(1),
            )),
        }
    }

    /// Starts the worker threads that are not running and waits until each has built its app,
    /// so that the first request does not pay for it. Call it during the function's init: an
    /// app that fails to start (its factory panics, or its service fails to build) is an error
    /// here.
    pub async fn start(&self) -> Result<(), BoxError> {
        for index in 0..self.shared.workers.len() {
            let (reply, ready) = oneshot::channel();
            self.shared.send_to(index, Job::Ready { reply })?;
            match ready.await {
                Ok(Ok(())) => {}
                Ok(Err(message)) => return Err(message.into()),
                Err(_) => return Err(worker::stopped_error()),
            }
        }
        Ok(())
    }
}

impl Shared {
    fn new(launch: Arc<Launch>, workers: usize, response_buffer: usize) -> Self {
        Self {
            launch,
            workers: (0..workers).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            response_buffer,
        }
    }

    /// Sends a job to the next worker in turn.
    fn dispatch(&self, job: Job) -> Result<(), BoxError> {
        let index = match self.workers.len() {
            1 => 0,
            count => self.next.fetch_add(1, Ordering::Relaxed) % count,
        };
        self.send_to(index, job)
    }

    /// Sends a job to worker `index`, starting it (again) if it is not running.
    fn send_to(&self, index: usize, job: Job) -> Result<(), BoxError> {
        let mut slot = self.workers[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let job = match slot.as_ref() {
            Some(sender) => match sender.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (sender, jobs) = mpsc::unbounded_channel();
        (self.launch)(index, jobs, self.response_buffer)
            .map_err(|error| format!("the actix worker thread could not be started: {error}"))?;
        let sent = sender.send(job).map_err(|_| worker::stopped_error());
        *slot = Some(sender);
        sent
    }
}

impl Framework for ActixFramework {
    fn serve(
        &self,
        request: Request<Body>,
    ) -> impl std::future::Future<Output = Result<Response<Body>, BoxError>> + Send {
        let shared = self.shared.clone();
        async move {
            let (reply, response) = oneshot::channel();
            shared.dispatch(Job::Serve { request, reply })?;
            // Dropping this future drops `response`, which cancels the request on the worker.
            match response.await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(Failure::Error(error))) => Err(error),
                Ok(Err(Failure::Panic(payload))) => std::panic::resume_unwind(payload),
                Err(_) => Err(worker::stopped_error()),
            }
        }
    }
}

impl fmt::Debug for ActixFramework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let running = self
            .shared
            .workers
            .iter()
            .filter(|slot| {
                slot.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                    .is_some_and(|sender| !sender.is_closed())
            })
            .count();
        f.debug_struct("ActixFramework")
            .field("workers", &self.shared.workers.len())
            .field("running", &running)
            .field("response_buffer", &self.shared.response_buffer)
            .finish()
    }
}
