//! `lambda-adapter`'s adapter list by name (`SERVERLESS_ADAPTER_ADAPTERS`), under the emulator
//! with `reference-server` supervised: the chosen adapters in order, and an unknown name failing
//! the init with the names the binary has linked (which guards the linker caveat).

use std::process::Command;

use serverless_adapter_e2e::emulated::{get, invalid_config, invoke, ready, shutdown, start};
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::{builds, events};
use serverless_adapter_emulator::Emulator;

// Every adapter the binaries link, by name.
use serverless_adapter_e2e::builds::LINKED_ADAPTERS as ADAPTERS;

/// `lambda-adapter -- reference-server` with this adapter list.
fn function(adapters: &str) -> Command {
    let mut command = builds::supervisor(free_port());
    command
        .env("SERVERLESS_ADAPTER_ADAPTERS", adapters)
        .env("RUST_LOG", "error");
    command
}

#[tokio::test]
async fn adapters_are_chosen_by_the_environment_in_order() {
    let emulator = ready(Emulator::builder().command(function("alb,api-gateway-v2"))).await;
    let root = get(&emulator, "/").await;
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "ok");

    // Without the variable, pass-through would post this to /events; here nothing takes it.
    let invocation = invoke(&emulator, events::sqs(&[("m-1", "hello")])).await;
    let error = invocation.error().expect("no adapter accepts SQS");
    assert_eq!(error.error_type, "Adapter.NoMatch", "{error}");
    assert!(
        error
            .error_message
            .contains("tried, in order: alb, api-gateway-v2"),
        "{error}"
    );
    shutdown(emulator).await;
}

#[tokio::test]
async fn an_unknown_adapter_fails_the_init_listing_the_linked_ones() {
    let emulator =
        start(Emulator::builder().command(function("api-gateway-v2,no-such-adapter"))).await;
    let message = invalid_config(&emulator).await;
    assert!(
        message.contains("`no-such-adapter`") && message.contains(&ADAPTERS.join(", ")),
        "{message}"
    );
    shutdown(emulator).await;
}
