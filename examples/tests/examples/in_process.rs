//! A function served in this test process against the emulator's Runtime API, through a TCP
//! relay whose connections can be cut: adapter selection errors, and reconnection after the
//! Runtime API connection drops — while the function long-polls `/next`, and in the middle of
//! a streamed answer.

use std::time::Duration;

use serverless_adapter::adapters::ApiGatewayV2Adapter;
use serverless_adapter::handlers::AwsStreamHandler;
use serverless_adapter::runtime::Endpoint;
use serverless_adapter::{FunctionConfig, ServerlessAdapter};
use serverless_adapter_e2e::emulated::{invoke, shutdown, start, survives_runtime_api_resets};
use serverless_adapter_e2e::{events, Relay};
use serverless_adapter_emulator::Emulator;
use serverless_adapter_examples::app;

#[tokio::test]
async fn no_adapter_is_a_clear_error_and_a_dropped_connection_is_reestablished() {
    let emulator = start(Emulator::builder()).await;
    let relay = Relay::start(emulator.runtime_api()).await;
    let function = ServerlessAdapter::new(app::router())
        .adapter(ApiGatewayV2Adapter)
        .build();
    let endpoint = Endpoint::parse(relay.addr()).unwrap();
    let serving = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));

    let invocation = invoke(&emulator, events::sqs(&[("1", "x")])).await;
    let error = invocation.error().expect("no adapter takes SQS here");
    assert_eq!(error.error_type, "Adapter.NoMatch");
    assert!(
        error.error_message.contains("api-gateway-v2"),
        "{}",
        error.error_message
    );

    let ok = invoke(&emulator, events::get("/", "")).await;
    assert_eq!(
        ok.http().unwrap().text(),
        "ok",
        "the function keeps serving"
    );
    assert_eq!(relay.accepted(), 1, "one kept-alive connection");

    relay.cut();
    let again = invoke(&emulator, events::get("/", "")).await;
    assert_eq!(
        again.http().unwrap().text(),
        "ok",
        "served after reconnecting"
    );
    assert!(relay.accepted() >= 2, "a new connection was made");

    serving.abort();
    shutdown(emulator).await;
}

#[tokio::test]
async fn the_runtime_api_resets_during_next_and_during_a_streamed_answer() {
    let emulator = start(Emulator::builder()).await;
    let relay = Relay::start(emulator.runtime_api()).await;
    let function = ServerlessAdapter::new(app::router())
        .handler(AwsStreamHandler)
        .adapter(ApiGatewayV2Adapter)
        .build();
    let endpoint = Endpoint::parse(relay.addr()).unwrap();
    let serving = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));
    emulator.wait_ready(Duration::from_secs(20)).await.unwrap();
    survives_runtime_api_resets(&emulator, &relay).await;
    assert!(!serving.is_finished(), "the loop survived the resets");
    serving.abort();
    shutdown(emulator).await;
}
