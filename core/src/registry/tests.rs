use super::*;

use bytes::Bytes;
use http_body_util::BodyExt as _;

use crate::adapter::Decoded;
use crate::context::LambdaContext;
use crate::probe::EventProbe;

/// An adapter that only knows its name (and an optional setting it was built with).
struct Named(String);

impl Adapter for Named {
    fn name(&self) -> &str {
        &self.0
    }
    fn can_handle(&self, _: &EventProbe<'_>) -> bool {
        false
    }
    fn decode(&self, _: Bytes, _: &LambdaContext) -> Result<Decoded, Error> {
        Err(Error::adapter("test adapter"))
    }
}

macro_rules! plugin {
    ($name:literal, $origin:literal) => {
        AdapterPlugin {
            name: $name,
            summary: "test",
            origin: $origin,
            build: |_| Ok(Box::new(Named($name.to_owned()))),
        }
    };
}

static ALPHA: AdapterPlugin = plugin!("alpha", "tests::ALPHA");
static BETA: AdapterPlugin = plugin!("beta", "tests::BETA");
static GAMMA: AdapterPlugin = plugin!("gamma", "tests::GAMMA");
static BETA_AGAIN: AdapterPlugin = plugin!("beta", "other_crate::BETA");
static BAD_NAME: AdapterPlugin = plugin!("Bad_Name", "tests::BAD_NAME");
/// Built with the `PREFIX` setting, which it requires.
static CONFIGURED: AdapterPlugin = AdapterPlugin {
    name: "configured",
    summary: "needs PREFIX",
    origin: "tests::CONFIGURED",
    build: |settings| match settings.get("PREFIX") {
        Some(prefix) => Ok(Box::new(Named(format!("{prefix}-configured")))),
        None => Err(Error::config("PREFIX is not set")),
    },
};

fn registry() -> Registry {
    Registry::new([&GAMMA, &ALPHA, &BETA, &CONFIGURED], []).unwrap()
}

fn names(adapters: &[Box<dyn Adapter>]) -> Vec<&str> {
    adapters.iter().map(|a| a.name()).collect()
}

fn selected(names: &str) -> Result<Vec<Box<dyn Adapter>>, Error> {
    registry().select_adapters(names, &Settings::from_map([("PREFIX", "p")]))
}

#[test]
fn lists_plugins_by_name() {
    let registry = registry();
    let listed: Vec<&str> = registry.adapters().iter().map(|p| p.name).collect();
    assert_eq!(listed, ["alpha", "beta", "configured", "gamma"]);
    assert_eq!(
        registry.to_string(),
        "adapter alpha: test\nadapter beta: test\nadapter configured: needs PREFIX\nadapter gamma: test\n"
    );
}

#[test]
fn duplicate_names_are_an_error_naming_both_registrations() {
    let error = Registry::new([&ALPHA, &BETA, &BETA_AGAIN], []).unwrap_err();
    assert!(error.is_config());
    assert_eq!(error.error_type(), "Runtime.InvalidConfig");
    let message = error.message();
    assert!(message.contains("`beta`"), "{message}");
    assert!(message.contains("tests::BETA"), "{message}");
    assert!(message.contains("other_crate::BETA"), "{message}");
}

#[test]
fn malformed_names_are_an_error() {
    let error = Registry::new([&ALPHA, &BAD_NAME], []).unwrap_err();
    assert!(error.is_config());
    assert!(
        error.message().contains("\"Bad_Name\""),
        "{}",
        error.message()
    );
    assert!(
        error.message().contains("tests::BAD_NAME"),
        "{}",
        error.message()
    );
}

#[test]
fn selection_keeps_the_requested_order() {
    let adapters = selected("gamma,alpha").unwrap();
    assert_eq!(names(&adapters), ["gamma", "alpha"]);
    let adapters = selected(" beta , gamma,alpha ,").unwrap();
    assert_eq!(names(&adapters), ["beta", "gamma", "alpha"]);
}

#[test]
fn an_unknown_name_lists_the_known_ones() {
    let error = selected("alpha,delta").err().unwrap();
    assert!(error.is_config());
    let message = error.message();
    assert!(message.contains("`delta`"), "{message}");
    assert!(
        message.contains("alpha, beta, configured, gamma"),
        "{message}"
    );
    assert!(message.contains("use the_plugin_crate as _;"), "{message}");
}

#[test]
fn a_name_requested_twice_is_an_error() {
    let error = selected("alpha,beta,alpha").err().unwrap();
    assert!(error.is_config());
    assert!(
        error.message().contains("`alpha` twice"),
        "{}",
        error.message()
    );
}

#[test]
fn an_empty_list_is_an_error() {
    for names in ["", " ", ",,"] {
        let error = selected(names).err().unwrap();
        assert!(error.is_config());
        assert!(
            error.message().contains("names no adapter"),
            "{}",
            error.message()
        );
        assert!(
            error.message().contains("alpha, beta"),
            "{}",
            error.message()
        );
    }
}

#[test]
fn adapters_are_built_from_the_settings() {
    let registry = registry();
    let settings = Settings::from_map([("PREFIX", "eu"), (ADAPTERS_VAR, "configured,alpha")]);
    let adapters = registry.adapters_from(&settings).unwrap().unwrap();
    assert_eq!(names(&adapters), ["eu-configured", "alpha"]);

    let error = registry
        .select_adapters("configured", &Settings::from_map::<&str, &str>([]))
        .err()
        .unwrap();
    assert!(error.is_config());
    assert!(
        error
            .message()
            .contains("`configured` cannot be built: PREFIX is not set"),
        "{}",
        error.message()
    );
}

#[test]
fn no_variable_means_no_selection() {
    let settings = Settings::from_map([("PREFIX", "eu")]);
    assert!(registry().adapters_from(&settings).unwrap().is_none());
    assert!(registry().framework_from(&settings).unwrap().is_none());
}

#[test]
fn map_settings_do_not_read_the_environment_and_overrides_win() {
    // PATH is set in every test environment.
    assert!(std::env::var("PATH").is_ok());
    assert_eq!(Settings::from_map::<&str, &str>([]).get("PATH"), None);
    assert_eq!(Settings::from_env().get("PATH"), std::env::var("PATH").ok());
    assert_eq!(
        Settings::from_env()
            .with("PATH", "/x")
            .get("PATH")
            .as_deref(),
        Some("/x")
    );
}

// The global registry of this test binary: one adapter and one framework registered with the
// macros, as a plugin crate would.

register_adapter! {
    name: "core-test-named",
    summary: "a registered test adapter",
    build: |settings| Ok(Box::new(Named(settings.get("NAME").unwrap_or_else(|| "unnamed".into())))),
}

struct Hello;

impl Framework for Hello {
    async fn serve(&self, request: Request<Body>) -> Result<Response<Body>, BoxError> {
        Ok(Response::new(Body::from(format!(
            "hello {}",
            request.uri().path()
        ))))
    }
}

register_framework! {
    name: "core-test-hello",
    summary: "answers hello",
    build: |_| Ok(BoxFramework::new(Hello)),
}

#[test]
fn the_macros_register_into_the_global_registry() {
    let registry = Registry::global().unwrap();
    let adapter = registry.adapter("core-test-named").unwrap();
    assert_eq!(adapter.summary, "a registered test adapter");
    assert!(
        adapter.origin.contains("registry::tests") && adapter.origin.contains("tests.rs:"),
        "{}",
        adapter.origin
    );
    let framework = registry.framework("core-test-hello").unwrap();
    assert_eq!(framework.summary, "answers hello");
    assert!(registry
        .to_string()
        .contains("framework core-test-hello: answers hello\n"));
}

#[tokio::test]
async fn registered_frameworks_are_built_and_serve() {
    let registry = Registry::global().unwrap();
    let settings = Settings::from_map([(FRAMEWORK_VAR, "core-test-hello")]);
    let framework = registry.framework_from(&settings).unwrap().unwrap();
    let response = framework
        .serve(Request::builder().uri("/x").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"hello /x");

    let error = registry.build_framework("nope", &settings).err().unwrap();
    assert!(error.is_config());
    assert!(
        error.message().contains("core-test-hello"),
        "{}",
        error.message()
    );
}

struct App;

impl Framework for App {
    async fn serve(&self, _: Request<Body>) -> Result<Response<Body>, BoxError> {
        Ok(Response::new(Body::empty()))
    }
}

#[test]
fn the_builder_adds_the_selected_adapters_in_order() {
    let settings = Settings::from_map([(ADAPTERS_VAR, "core-test-named"), ("NAME", "picked")]);
    let builder = ServerlessAdapter::new(App)
        .adapters_from_settings(&settings)
        .unwrap();
    assert!(format!("{:?}", builder.build()).contains("[\"picked\"]"));

    // Unset: the default decides.
    let unset = Settings::from_map([("NAME", "picked")]);
    let builder = ServerlessAdapter::new(App)
        .adapters_from_settings_or(&unset, |b| b.adapter(Named("default".into())))
        .unwrap();
    assert!(format!("{:?}", builder.build()).contains("[\"default\"]"));

    // Set: the default is not used, and errors surface as config errors.
    let error = ServerlessAdapter::new(App)
        .adapters_from_settings_or(
            &Settings::from_map([(ADAPTERS_VAR, "core-test-named,nope")]),
            |b| b.adapter(Named("default".into())),
        )
        .err()
        .unwrap();
    assert_eq!(error.error_type(), "Runtime.InvalidConfig");
    assert!(error.message().contains("`nope`"), "{}", error.message());

    let error = ServerlessAdapter::new(App)
        .adapters_from_settings(&unset)
        .err()
        .unwrap();
    assert!(
        error.message().contains("is not set"),
        "{}",
        error.message()
    );
}
