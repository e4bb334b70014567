//! The builder that composes a framework, adapters, a handler and a resolver into a function.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use crate::adapter::Adapter;
use crate::context::{FunctionConfig, LambdaContext};
use crate::error::Error;
use crate::framework::Framework;
use crate::handler::{DefaultHandler, Handler};
use crate::resolver::{DefaultResolver, Resolver};
use crate::runtime::{serve_invocation, Endpoint, RuntimeClient};

/// Time kept before the Lambda deadline to answer when the app is too slow.
const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// Composes a Lambda function from an app and its parts.
///
/// The framework is given to [`new`](ServerlessAdapter::new) and at least one adapter must be
/// added before [`build`](ServerlessAdapter::build): forgetting either is a compile error. The
/// handler and the resolver default to [`DefaultHandler`] and [`DefaultResolver`].
///
/// ```no_run
/// use serverless_adapter_core::{Body, BoxError, Framework, ServerlessAdapter};
/// # use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};
/// # struct MyAdapter;
/// # impl Adapter for MyAdapter {
/// #     fn name(&self) -> &str { "mine" }
/// #     fn can_handle(&self, _: &EventProbe<'_>) -> bool { true }
/// #     fn decode(&self, _: bytes::Bytes, _: &LambdaContext) -> Result<Decoded, Error> {
/// #         Err(Error::adapter("example"))
/// #     }
/// # }
///
/// struct Hello;
///
/// impl Framework for Hello {
///     async fn serve(&self, _: http::Request<Body>) -> Result<http::Response<Body>, BoxError> {
///         Ok(http::Response::new(Body::from("hello")))
///     }
/// }
///
/// # async fn run() -> Result<(), Error> {
/// ServerlessAdapter::new(Hello).adapter(MyAdapter).build().await
/// # }
/// ```
///
/// Building does not touch the network; the function starts serving when run or awaited:
///
/// ```
/// use std::time::Duration;
/// use serverless_adapter_core::{Body, BoxError, DefaultHandler, Framework, ServerlessAdapter};
/// # use serverless_adapter_core::{Adapter, Decoded, Error, EventProbe, LambdaContext};
/// # struct MyAdapter;
/// # impl Adapter for MyAdapter {
/// #     fn name(&self) -> &str { "mine" }
/// #     fn can_handle(&self, _: &EventProbe<'_>) -> bool { true }
/// #     fn decode(&self, _: bytes::Bytes, _: &LambdaContext) -> Result<Decoded, Error> {
/// #         Err(Error::adapter("example"))
/// #     }
/// # }
/// # struct Hello;
/// # impl Framework for Hello {
/// #     async fn serve(&self, _: http::Request<Body>) -> Result<http::Response<Body>, BoxError> {
/// #         Ok(http::Response::new(Body::from("hello")))
/// #     }
/// # }
///
/// let function = ServerlessAdapter::new(Hello)
///     .handler(DefaultHandler)
///     .adapter(MyAdapter)
///     .deadline_margin(Duration::from_millis(500))
///     .build();
/// assert!(format!("{function:?}").contains(r#"adapters: ["mine"]"#));
/// ```
///
/// Without an adapter there is no `build` to call:
///
/// ```compile_fail,E0599
/// # use serverless_adapter_core::{Body, BoxError, Framework, ServerlessAdapter};
/// # struct Hello;
/// # impl Framework for Hello {
/// #     async fn serve(&self, _: http::Request<Body>) -> Result<http::Response<Body>, BoxError> {
/// #         Ok(http::Response::new(Body::from("hello")))
/// #     }
/// # }
/// let function = ServerlessAdapter::new(Hello).build();
/// ```
pub struct ServerlessAdapter<F, A = NoAdapters, H = DefaultHandler, R = DefaultResolver> {
    framework: F,
    adapters: A,
    handler: H,
    resolver: R,
    deadline_margin: Duration,
    trace_id_env: bool,
}

/// Type-state of a builder with no adapter yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAdapters;

/// Type-state of a builder with at least one adapter, in the order they were added.
pub struct Adapters(Vec<Box<dyn Adapter>>);

impl fmt::Debug for Adapters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|a| a.name()))
            .finish()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoAdapters {}
    impl Sealed for super::Adapters {}
}

/// The adapters collected so far (sealed: [`NoAdapters`] or [`Adapters`]).
pub trait AdapterList: sealed::Sealed {
    /// The adapters, in order.
    fn into_vec(self) -> Vec<Box<dyn Adapter>>;
}

impl AdapterList for NoAdapters {
    fn into_vec(self) -> Vec<Box<dyn Adapter>> {
        Vec::new()
    }
}

impl AdapterList for Adapters {
    fn into_vec(self) -> Vec<Box<dyn Adapter>> {
        self.0
    }
}

impl<F, A: fmt::Debug, H: fmt::Debug, R: fmt::Debug> fmt::Debug for ServerlessAdapter<F, A, H, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerlessAdapter")
            .field("framework", &std::any::type_name::<F>())
            .field("adapters", &self.adapters)
            .field("handler", &self.handler)
            .field("resolver", &self.resolver)
            .finish()
    }
}

impl<F: Framework> ServerlessAdapter<F> {
    /// Starts a function serving `app`: an axum `Router`, any tower service, or another
    /// [`Framework`].
    pub fn new(app: F) -> Self {
        Self {
            framework: app,
            adapters: NoAdapters,
            handler: DefaultHandler,
            resolver: DefaultResolver,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
            trace_id_env: false,
        }
    }
}

impl<F, A: AdapterList, H, R> ServerlessAdapter<F, A, H, R> {
    /// Adds an adapter. Adapters are asked in the order added; the first that accepts an
    /// event serves it.
    pub fn adapter(self, adapter: impl Adapter) -> ServerlessAdapter<F, Adapters, H, R> {
        let mut adapters = self.adapters.into_vec();
        adapters.push(Box::new(adapter));
        ServerlessAdapter {
            framework: self.framework,
            adapters: Adapters(adapters),
            handler: self.handler,
            resolver: self.resolver,
            deadline_margin: self.deadline_margin,
            trace_id_env: self.trace_id_env,
        }
    }
}

impl<F, A, H, R> ServerlessAdapter<F, A, H, R> {
    /// Sets how HTTP invocations are answered ([`DefaultHandler`] by default).
    pub fn handler<H2: Handler>(self, handler: H2) -> ServerlessAdapter<F, A, H2, R> {
        ServerlessAdapter {
            framework: self.framework,
            adapters: self.adapters,
            handler,
            resolver: self.resolver,
            deadline_margin: self.deadline_margin,
            trace_id_env: self.trace_id_env,
        }
    }

    /// Sets how outcomes are settled ([`DefaultResolver`] by default).
    pub fn resolver<R2: Resolver>(self, resolver: R2) -> ServerlessAdapter<F, A, H, R2> {
        ServerlessAdapter {
            framework: self.framework,
            adapters: self.adapters,
            handler: self.handler,
            resolver,
            deadline_margin: self.deadline_margin,
            trace_id_env: self.trace_id_env,
        }
    }

    /// How long before the Lambda deadline a slow app is given up on, so that the function
    /// still answers (a timeout error) instead of being killed (300 ms by default).
    ///
    /// It bounds the app's whole answer: the response head and the body, buffered or streamed,
    /// and each record of a batch (a record still running then is reported as failed). With
    /// no known deadline (none sent, or a constant instead of a timestamp, as some local
    /// emulators send) nothing is timed.
    pub fn deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = margin;
        self
    }

    /// Sets the process environment variable `_X_AMZN_TRACE_ID` to each invocation's trace id,
    /// for tracing libraries that read it from there (off by default; the trace id is always in
    /// [`LambdaContext::trace_id`]). Only a function serving one invocation at a time sets it.
    ///
    /// Off by default because glibc never frees a replaced environment value: with a new trace
    /// id per invocation, the process grows by about 150 bytes per invocation.
    pub fn trace_id_env(mut self, enabled: bool) -> Self {
        self.trace_id_env = enabled;
        self
    }
}

impl<F: Framework, H: Handler, R: Resolver> ServerlessAdapter<F, Adapters, H, R> {
    /// Finishes the function. Run it with [`LambdaFunction::run`] or `.await` it.
    pub fn build(self) -> LambdaFunction<F, H, R> {
        LambdaFunction {
            shared: Arc::new(Shared {
                framework: self.framework,
                adapters: self.adapters.0,
                handler: self.handler,
                resolver: self.resolver,
                deadline_margin: self.deadline_margin,
                trace_id_env: self.trace_id_env,
            }),
        }
    }
}

/// What every worker of a function shares.
pub(crate) struct Shared<F, H, R> {
    pub(crate) framework: F,
    pub(crate) adapters: Vec<Box<dyn Adapter>>,
    pub(crate) handler: H,
    pub(crate) resolver: R,
    pub(crate) deadline_margin: Duration,
    pub(crate) trace_id_env: bool,
}

/// A composed Lambda function, ready to serve invocations.
pub struct LambdaFunction<F, H, R> {
    shared: Arc<Shared<F, H, R>>,
}

impl<F, H, R> fmt::Debug for LambdaFunction<F, H, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaFunction")
            .field(
                "adapters",
                &self
                    .shared
                    .adapters
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<F: Framework, H: Handler, R: Resolver> LambdaFunction<F, H, R> {
    /// Serves invocations from the Runtime API named by the environment, until the Runtime API
    /// goes away or the process gets SIGTERM or SIGINT (then the invocations in flight are
    /// answered first). A configuration error is reported to `/runtime/init/error` and returned.
    pub async fn run(self) -> Result<(), Error> {
        let endpoint = Endpoint::from_env()?;
        match FunctionConfig::from_env() {
            Ok(config) => {
                self.run_until(endpoint, config, crate::runtime::termination())
                    .await
            }
            Err(error) => {
                report_init_error(&endpoint, &error).await;
                Err(error)
            }
        }
    }

    /// Serves invocations from the Runtime API at `endpoint` with the given configuration
    /// (`config.max_concurrency` invocations at once, each on its own connection).
    pub async fn run_with(self, endpoint: Endpoint, config: FunctionConfig) -> Result<(), Error> {
        self.run_until(endpoint, config, std::future::pending())
            .await
    }

    /// Like [`run_with`](Self::run_with), until `shutdown` resolves: then no new invocation is
    /// taken, the invocations in flight are answered (each is bounded by its own deadline), and
    /// this returns `Ok(())`.
    pub async fn run_until(
        self,
        endpoint: Endpoint,
        config: FunctionConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let config = Arc::new(config);
        let workers = config.max_concurrency.max(1);
        tracing::info!(runtime_api = ?endpoint, workers, "serving invocations");
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown => {
                    tracing::info!("shutting down: answering the invocations in flight, taking no new ones");
                    let _ = stop.send(true);
                }
                () = stop.closed() => {}
            }
        });
        if workers == 1 {
            return worker(self.shared, endpoint, config, true, stopping).await;
        }
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers {
            set.spawn(worker(
                self.shared.clone(),
                endpoint.clone(),
                config.clone(),
                false,
                stopping.clone(),
            ));
        }
        let mut result = Ok(());
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(error)) => result = Err(error),
                Err(join) => {
                    result = Err(Error::runtime_api(
                        "a worker serving invocations stopped unexpectedly (it panicked outside \
                         the app, which is a bug: please report it)",
                        join.to_string(),
                    ))
                }
            }
        }
        result
    }
}

impl<F: Framework, H: Handler, R: Resolver> IntoFuture for LambdaFunction<F, H, R> {
    type Output = Result<(), Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Reports an error that keeps the function from starting to the Runtime API's
/// `/runtime/init/error` (Lambda then fails the init). Failures to report are logged.
pub async fn report_init_error(endpoint: &Endpoint, error: &Error) {
    tracing::error!(
        error_type = error.error_type(),
        error = error.message(),
        "the function cannot start"
    );
    if let Err(report) = RuntimeClient::new(endpoint.clone())
        .post_init_error(error)
        .await
    {
        tracing::error!(error = %report, "the init error could not be reported");
    }
}

/// Reports `error` as an init error to the Runtime API named by the environment (when there is
/// one) and returns it, for functions whose own setup fails before [`LambdaFunction::run`].
pub async fn init_failed(error: Error) -> Error {
    match Endpoint::from_env() {
        Ok(endpoint) => report_init_error(&endpoint, &error).await,
        Err(_) => tracing::error!(
            error_type = error.error_type(),
            error = error.message(),
            "the function cannot start"
        ),
    }
    error
}

async fn worker<F: Framework, H: Handler, R: Resolver>(
    shared: Arc<Shared<F, H, R>>,
    endpoint: Endpoint,
    config: Arc<FunctionConfig>,
    sole: bool,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(), Error> {
    let mut client = RuntimeClient::new(endpoint);
    loop {
        // A pending `/next` is abandoned on shutdown: no event was handed out on it yet.
        let next = tokio::select! {
            biased;
            _ = stopping.wait_for(|stop| *stop) => return Ok(()),
            next = client.next_invocation() => next?,
        };
        let context = match LambdaContext::from_headers(&next.head.headers, config.clone()) {
            Ok(context) => context,
            Err(error) => {
                tracing::error!(error = %error, "skipping an invocation the Runtime API sent without a request id");
                continue;
            }
        };
        if sole && shared.trace_id_env {
            // The variable is process-wide: only a function serving one invocation at a time
            // can set it truthfully.
            match &context.trace_id {
                Some(trace) => std::env::set_var("_X_AMZN_TRACE_ID", trace),
                None => std::env::remove_var("_X_AMZN_TRACE_ID"),
            }
        }
        let span = tracing::span!(
            target: crate::runtime::INVOCATION_SPAN_TARGET,
            tracing::Level::ERROR,
            "invocation",
            request_id = %context.request_id,
            invocation_id = context.invocation_id.as_deref(),
            tenant_id = context.tenant_id.as_deref(),
        );
        let outcome = serve_invocation(&shared, &mut client, context, next)
            .instrument(span.clone())
            .await;
        match outcome {
            Ok(()) => {}
            // Lambda had given up on the invocation (it timed out): nothing to fix here.
            Err(error) if error.is_late_answer() => span.in_scope(|| {
                tracing::warn!(error = %error, "the answer came after the invocation timed out")
            }),
            Err(error) => span.in_scope(|| {
                tracing::error!(error = %error, "the outcome could not be reported to the Runtime API")
            }),
        }
    }
}
