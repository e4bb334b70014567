//! The plugin registry: adapters and frameworks registered by name, so a function can be
//! configured from its environment (`SERVERLESS_ADAPTER_ADAPTERS=api-gateway-v2,sqs`).
//!
//! A plugin crate describes each of its parts with an [`AdapterPlugin`] or a
//! [`FrameworkPlugin`] (a name, a one-line summary, and a function that builds the part from
//! [`Settings`]) and registers it with [`register_adapter!`](crate::register_adapter) or
//! [`register_framework!`](crate::register_framework), which use the `inventory` crate: the
//! registrations of every crate linked into the binary are gathered without a central list.
//!
//! ```no_run
//! use serverless_adapter_core::{Body, BoxError, Error, Framework, ServerlessAdapter};
//!
//! struct App;
//!
//! impl Framework for App {
//!     async fn serve(&self, _: http::Request<Body>) -> Result<http::Response<Body>, BoxError> {
//!         Ok(http::Response::new(Body::from("ok")))
//!     }
//! }
//!
//! # async fn run() -> Result<(), Error> {
//! // The adapters named by SERVERLESS_ADAPTER_ADAPTERS, in that order.
//! ServerlessAdapter::new(App).adapters_from_env()?.build().await
//! # }
//! ```
//!
//! # The linker caveat
//! A crate's registrations are only linked into a binary that uses something from that crate.
//! A plugin crate that is a dependency but never named in the code registers **nothing**, and
//! selecting its adapters fails with "unknown adapter". Name it once in the binary:
//!
//! ```ignore
//! use my_plugin_crate as _;
//! ```
//!
//! and guard it with a test of the binary's registry contents (the reference binaries print
//! theirs with `--list-plugins`).
//!
//! # Cost
//! Nothing is read, sorted or checked until the registry is first used ([`Registry::global`]
//! and the builder methods below). Each registration costs one static node, linked into
//! `inventory`'s list by a constructor before `main` (a pointer write).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use http::{Request, Response};

use crate::adapter::Adapter;
use crate::body::{Body, BoxError};
use crate::builder::{AdapterList, Adapters, ServerlessAdapter};
use crate::error::Error;
use crate::framework::Framework;

#[doc(hidden)]
pub use inventory as __inventory;

/// The variable naming the adapters to use, comma-separated, in the order they are asked.
pub const ADAPTERS_VAR: &str = "SERVERLESS_ADAPTER_ADAPTERS";

/// The variable naming the framework to use (for binaries that build one from settings).
pub const FRAMEWORK_VAR: &str = "SERVERLESS_ADAPTER_FRAMEWORK";

/// String settings plugins are built from: the process environment by default, or a map
/// (tests, or configuration that does not come from the environment).
///
/// Values set with [`with`](Settings::with) take precedence over the environment.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
    env: bool,
}

impl Settings {
    /// Settings read from the process environment.
    pub fn from_env() -> Self {
        Self {
            values: BTreeMap::new(),
            env: true,
        }
    }

    /// Settings made of these pairs only; the environment is not read.
    pub fn from_map<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            env: false,
        }
    }

    /// Sets a value, overriding the environment.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(key.into(), value.into());
        self
    }

    /// A setting's value (`None` when unset, or not valid UTF-8 in the environment).
    pub fn get(&self, key: &str) -> Option<String> {
        match self.values.get(key) {
            Some(value) => Some(value.clone()),
            None if self.env => std::env::var(key).ok(),
            None => None,
        }
    }
}

/// Builds an adapter from settings.
pub type BuildAdapter = fn(&Settings) -> Result<Box<dyn Adapter>, Error>;

/// Builds a framework from settings.
pub type BuildFramework = fn(&Settings) -> Result<BoxFramework, Error>;

/// A registered adapter: its name, what it is for, and how to build it.
#[derive(Debug)]
pub struct AdapterPlugin {
    /// The name it is selected by: lowercase kebab-case (`api-gateway-v2`), unique.
    pub name: &'static str,
    /// One line on what it handles.
    pub summary: &'static str,
    /// Where it was registered (module, file and line), shown when two registrations clash.
    pub origin: &'static str,
    /// Builds it; a bad setting is an [`Error::config`].
    pub build: BuildAdapter,
}

/// A registered framework: its name, what it serves, and how to build it from settings.
///
/// Only frameworks that can be built from settings alone belong here (a proxy to an app on a
/// port, say); an in-process framework needs the user's app and is used directly.
#[derive(Debug)]
pub struct FrameworkPlugin {
    /// The name it is selected by: lowercase kebab-case (`proxy`), unique.
    pub name: &'static str,
    /// One line on what it serves.
    pub summary: &'static str,
    /// Where it was registered (module, file and line), shown when two registrations clash.
    pub origin: &'static str,
    /// Builds it; a bad setting is an [`Error::config`].
    pub build: BuildFramework,
}

inventory::collect!(AdapterPlugin);
inventory::collect!(FrameworkPlugin);

/// Registers an adapter under a name. Expands to a static registration; use it at module level.
///
/// ```ignore
/// serverless_adapter_core::register_adapter! {
///     name: "cloudwatch-logs",
///     summary: "CloudWatch Logs subscription events, one POST /logs per batch",
///     build: |_settings| Ok(Box::new(CloudWatchLogsAdapter::default())),
/// }
/// ```
#[macro_export]
macro_rules! register_adapter {
    (name: $name:expr, summary: $summary:expr, build: $build:expr $(,)?) => {
        $crate::registry::__inventory::submit! {
            $crate::registry::AdapterPlugin {
                name: $name,
                summary: $summary,
                origin: ::core::concat!(
                    ::core::module_path!(), " (", ::core::file!(), ":", ::core::line!(), ")"
                ),
                build: $build,
            }
        }
    };
}

/// Registers a framework under a name. Expands to a static registration; use it at module level.
///
/// ```ignore
/// serverless_adapter_core::register_framework! {
///     name: "proxy",
///     summary: "a web app on a local port",
///     build: |settings| Ok(BoxFramework::new(ProxyFramework::from_settings(settings)?)),
/// }
/// ```
#[macro_export]
macro_rules! register_framework {
    (name: $name:expr, summary: $summary:expr, build: $build:expr $(,)?) => {
        $crate::registry::__inventory::submit! {
            $crate::registry::FrameworkPlugin {
                name: $name,
                summary: $summary,
                origin: ::core::concat!(
                    ::core::module_path!(), " (", ::core::file!(), ":", ::core::line!(), ")"
                ),
                build: $build,
            }
        }
    };
}

/// The registered plugins, sorted by name and checked: names are well formed and unique.
#[derive(Debug)]
pub struct Registry {
    adapters: Vec<&'static AdapterPlugin>,
    frameworks: Vec<&'static FrameworkPlugin>,
}

impl Registry {
    /// Every plugin linked into this binary, checked once on first use. Two registrations
    /// under one name (or a malformed name) are an [`Error::config`] naming both.
    pub fn global() -> Result<&'static Registry, Error> {
        static GLOBAL: OnceLock<Result<Registry, String>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                Registry::new(
                    inventory::iter::<AdapterPlugin>(),
                    inventory::iter::<FrameworkPlugin>(),
                )
                .map_err(|error| error.message().to_owned())
            })
            .as_ref()
            .map_err(|message| Error::config(message.clone()))
    }

    /// A registry of these plugins (tests, or a binary with a fixed list).
    pub fn new(
        adapters: impl IntoIterator<Item = &'static AdapterPlugin>,
        frameworks: impl IntoIterator<Item = &'static FrameworkPlugin>,
    ) -> Result<Self, Error> {
        let adapters = checked("adapter", adapters, |p| (p.name, p.origin))?;
        let frameworks = checked("framework", frameworks, |p| (p.name, p.origin))?;
        Ok(Self {
            adapters,
            frameworks,
        })
    }

    /// The registered adapters, by name.
    pub fn adapters(&self) -> &[&'static AdapterPlugin] {
        &self.adapters
    }

    /// The registered frameworks, by name.
    pub fn frameworks(&self) -> &[&'static FrameworkPlugin] {
        &self.frameworks
    }

    /// The adapter registered as `name`; an unknown name is an error listing the known ones.
    pub fn adapter(&self, name: &str) -> Result<&'static AdapterPlugin, Error> {
        self.adapters
            .iter()
            .find(|p| p.name == name)
            .copied()
            .ok_or_else(|| unknown("adapter", name, self.adapters.iter().map(|p| p.name)))
    }

    /// The framework registered as `name`; an unknown name is an error listing the known ones.
    pub fn framework(&self, name: &str) -> Result<&'static FrameworkPlugin, Error> {
        self.frameworks
            .iter()
            .find(|p| p.name == name)
            .copied()
            .ok_or_else(|| unknown("framework", name, self.frameworks.iter().map(|p| p.name)))
    }

    /// Builds the adapters named in `names` (comma-separated, blanks around names ignored),
    /// in that order. An unknown name, a name given twice, or no name at all is an error.
    pub fn select_adapters(
        &self,
        names: &str,
        settings: &Settings,
    ) -> Result<Vec<Box<dyn Adapter>>, Error> {
        let mut seen: Vec<&str> = Vec::new();
        let mut adapters = Vec::new();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if seen.contains(&name) {
                return Err(Error::config(format!(
                    "{ADAPTERS_VAR} names the adapter `{name}` twice (in {names:?}); \
                     name each adapter once"
                )));
            }
            seen.push(name);
            let plugin = self.adapter(name)?;
            let adapter = (plugin.build)(settings).map_err(|error| {
                Error::config(format!(
                    "the adapter `{name}` cannot be built: {}",
                    error.message()
                ))
            })?;
            adapters.push(adapter);
        }
        if adapters.is_empty() {
            return Err(Error::config(format!(
                "{ADAPTERS_VAR} names no adapter (got {names:?}); known adapters: {}",
                self.adapter_names()
            )));
        }
        Ok(adapters)
    }

    /// The adapters named by [`ADAPTERS_VAR`] in `settings`, or `None` when it is unset.
    pub fn adapters_from(
        &self,
        settings: &Settings,
    ) -> Result<Option<Vec<Box<dyn Adapter>>>, Error> {
        settings
            .get(ADAPTERS_VAR)
            .map(|names| self.select_adapters(&names, settings))
            .transpose()
    }

    /// Builds the framework named `name` from `settings`.
    pub fn build_framework(&self, name: &str, settings: &Settings) -> Result<BoxFramework, Error> {
        let plugin = self.framework(name.trim())?;
        (plugin.build)(settings)
    }

    /// The framework named by [`FRAMEWORK_VAR`] in `settings`, or `None` when it is unset.
    pub fn framework_from(&self, settings: &Settings) -> Result<Option<BoxFramework>, Error> {
        settings
            .get(FRAMEWORK_VAR)
            .map(|name| self.build_framework(&name, settings))
            .transpose()
    }

    fn adapter_names(&self) -> String {
        names_list(self.adapters.iter().map(|p| p.name))
    }
}

/// One line per plugin: `adapter <name>: <summary>`, then `framework <name>: <summary>`.
impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for plugin in &self.adapters {
            writeln!(f, "adapter {}: {}", plugin.name, plugin.summary)?;
        }
        for plugin in &self.frameworks {
            writeln!(f, "framework {}: {}", plugin.name, plugin.summary)?;
        }
        Ok(())
    }
}

fn checked<P>(
    kind: &str,
    plugins: impl IntoIterator<Item = &'static P>,
    key: impl Fn(&P) -> (&'static str, &'static str),
) -> Result<Vec<&'static P>, Error> {
    let mut plugins: Vec<&'static P> = plugins.into_iter().collect();
    plugins.sort_by_key(|p| key(p));
    for plugin in &plugins {
        let (name, origin) = key(plugin);
        let well_formed = !name.is_empty()
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            return Err(Error::config(format!(
                "the {kind} registered at {origin} has the name {name:?}; names are lowercase \
                 kebab-case (letters, digits and `-`)"
            )));
        }
    }
    for pair in plugins.windows(2) {
        let ((first, first_origin), (second, second_origin)) = (key(pair[0]), key(pair[1]));
        if first == second {
            return Err(Error::config(format!(
                "two {kind}s are registered as `{first}`: one at {first_origin}, one at \
                 {second_origin}; rename one of them"
            )));
        }
    }
    Ok(plugins)
}

fn names_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn unknown<'a>(kind: &str, name: &str, known: impl Iterator<Item = &'a str>) -> Error {
    Error::config(format!(
        "no {kind} is registered as `{name}`; known {kind}s: {} (a plugin crate registers \
         nothing unless the binary names it: `use the_plugin_crate as _;`)",
        names_list(known)
    ))
}

type ServeFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send + 'a>>;

/// The object-safe form of [`Framework`], behind [`BoxFramework`].
trait DynFramework: Send + Sync + 'static {
    fn serve_boxed(&self, request: Request<Body>) -> ServeFuture<'_>;
}

impl<F: Framework> DynFramework for F {
    fn serve_boxed(&self, request: Request<Body>) -> ServeFuture<'_> {
        Box::pin(self.serve(request))
    }
}

/// Any [`Framework`], boxed: what a [`FrameworkPlugin`] builds. Each request's future is
/// boxed once.
pub struct BoxFramework {
    inner: Box<dyn DynFramework>,
    type_name: &'static str,
}

impl BoxFramework {
    /// Boxes a framework.
    pub fn new<F: Framework>(framework: F) -> Self {
        Self {
            inner: Box::new(framework),
            type_name: std::any::type_name::<F>(),
        }
    }
}

impl fmt::Debug for BoxFramework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoxFramework")
            .field(&self.type_name)
            .finish()
    }
}

impl Framework for BoxFramework {
    fn serve(
        &self,
        request: Request<Body>,
    ) -> impl Future<Output = Result<Response<Body>, BoxError>> + Send {
        self.inner.serve_boxed(request)
    }
}

/// Builder methods that add adapters chosen by name.
impl<F, A: AdapterList, H, R> ServerlessAdapter<F, A, H, R> {
    /// Adds the adapters named by `SERVERLESS_ADAPTER_ADAPTERS`, in that order. The variable
    /// must be set; see [`adapters_from_env_or`](Self::adapters_from_env_or) for a default.
    pub fn adapters_from_env(self) -> Result<ServerlessAdapter<F, Adapters, H, R>, Error> {
        self.adapters_from_settings(&Settings::from_env())
    }

    /// Adds the adapters named by `SERVERLESS_ADAPTER_ADAPTERS`, in that order, or, when it is
    /// unset, whatever `default` adds (`serverless_adapter_adapters::register_all`, say).
    pub fn adapters_from_env_or(
        self,
        default: impl FnOnce(Self) -> ServerlessAdapter<F, Adapters, H, R>,
    ) -> Result<ServerlessAdapter<F, Adapters, H, R>, Error> {
        self.adapters_from_settings_or(&Settings::from_env(), default)
    }

    /// As [`adapters_from_env`](Self::adapters_from_env), reading `settings`.
    pub fn adapters_from_settings(
        self,
        settings: &Settings,
    ) -> Result<ServerlessAdapter<F, Adapters, H, R>, Error> {
        let registry = Registry::global()?;
        match registry.adapters_from(settings)? {
            Some(adapters) => self.boxed_adapters(adapters),
            None => Err(Error::config(format!(
                "{ADAPTERS_VAR} is not set; set it to a comma-separated list of adapters \
                 (known adapters: {})",
                registry.adapter_names()
            ))),
        }
    }

    /// As [`adapters_from_env_or`](Self::adapters_from_env_or), reading `settings`.
    pub fn adapters_from_settings_or(
        self,
        settings: &Settings,
        default: impl FnOnce(Self) -> ServerlessAdapter<F, Adapters, H, R>,
    ) -> Result<ServerlessAdapter<F, Adapters, H, R>, Error> {
        if settings.get(ADAPTERS_VAR).is_none() {
            return Ok(default(self));
        }
        self.adapters_from_settings(settings)
    }

    /// Adds the adapters, in order; an empty list is an error.
    fn boxed_adapters(
        self,
        adapters: Vec<Box<dyn Adapter>>,
    ) -> Result<ServerlessAdapter<F, Adapters, H, R>, Error> {
        let mut adapters = adapters.into_iter();
        let first = adapters
            .next()
            .ok_or_else(|| Error::config(format!("{ADAPTERS_VAR} names no adapter")))?;
        Ok(adapters.fold(self.adapter(first), |builder, adapter| {
            builder.adapter(adapter)
        }))
    }
}

#[cfg(test)]
mod tests;
