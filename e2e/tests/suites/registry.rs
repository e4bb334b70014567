//! The plugin registry as the reference functions see it: what each binary has linked
//! (`--list-plugins`), adapters chosen by `SERVERLESS_ADAPTER_ADAPTERS` under the emulator, in
//! order, and a bad name failing the init with the known names.

use std::process::Command;

use serverless_adapter_e2e::emulated::{get, invalid_config, invoke, ready, shutdown, start};
use serverless_adapter_e2e::{binary, events};
use serverless_adapter_emulator::Emulator;

const BINARIES: [&str; 2] = ["reference-axum", "reference-actix"];

// Every adapter the binaries link, by name.
use serverless_adapter_e2e::builds::LINKED_ADAPTERS as ADAPTERS;

/// The names a binary lists for `kind` (`adapter` or `framework`).
fn listed(output: &str, kind: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix(kind)?.strip_prefix(' '))
        .map(|rest| rest.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

/// Guards the linker caveat: a plugin crate the binary does not name registers nothing.
#[test]
fn each_binary_lists_the_plugins_it_links() {
    for name in BINARIES {
        let output = Command::new(binary(name))
            .arg("--list-plugins")
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{name}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(listed(&stdout, "adapter"), ADAPTERS, "{name}:\n{stdout}");
        assert_eq!(listed(&stdout, "framework"), ["proxy"], "{name}:\n{stdout}");
    }
}

fn function(name: &str, adapters: &str) -> Command {
    let mut command = Command::new(binary(name));
    command
        .env("SERVERLESS_ADAPTER_ADAPTERS", adapters)
        .env("RUST_LOG", "error");
    command
}

#[tokio::test]
async fn adapters_are_chosen_by_the_environment_in_order() {
    for name in BINARIES {
        let emulator =
            ready(Emulator::builder().command(function(name, "sqs, api-gateway-v2"))).await;

        let root = get(&emulator, "/").await;
        assert_eq!(root.status, 200, "{name}");
        assert_eq!(root.text(), "ok", "{name}");

        // SNS is not selected: no adapter takes it, and the error names the ones asked, in order.
        let invocation = invoke(&emulator, events::sns("hello")).await;
        let error = invocation.error().expect("no adapter accepts SNS");
        assert_eq!(error.error_type, "Adapter.NoMatch", "{name}: {error}");
        assert!(
            error
                .error_message
                .contains("tried, in order: sqs, api-gateway-v2"),
            "{name}: {error}"
        );
        shutdown(emulator).await;
    }
}

#[tokio::test]
async fn an_unknown_adapter_fails_the_init_listing_the_known_ones() {
    for name in BINARIES {
        let emulator =
            start(Emulator::builder().command(function(name, "api-gateway-v2,cloudwatch-logs")))
                .await;
        let message = invalid_config(&emulator).await;
        assert!(
            message.contains("`cloudwatch-logs`") && message.contains(&ADAPTERS.join(", ")),
            "{name}: {message}"
        );
        shutdown(emulator).await;
    }
}
