//! Helpers shared by the adapters' unit tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use serverless_adapter_core::logging::{EnvFilter, LogSettings};
use serverless_adapter_core::{
    Adapter, Batch, BatchOrder, Body, Decoded, Error, EventProbe, ItemOutcome, ItemResult,
    LambdaContext,
};

/// Decodes an event the adapter must accept into its batch.
pub(crate) fn decode_batch(adapter: &dyn Adapter, event: &[u8]) -> Batch {
    let probe = EventProbe::new(event).unwrap();
    assert!(
        adapter.can_handle(&probe),
        "{} must accept the event",
        adapter.name()
    );
    match adapter
        .decode(
            Bytes::copy_from_slice(event),
            &LambdaContext::for_request_id("r"),
        )
        .unwrap()
    {
        Decoded::Batch(batch) => batch,
        other => panic!("expected a batch, got {other:?}"),
    }
}

/// The whole body of a request.
pub(crate) async fn body_of(request: http::Request<Body>) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

/// An outcome where the app answered `status` with `body`.
pub(crate) fn answered(id: &str, status: u16, body: &str) -> ItemOutcome {
    let (head, ()) = Response::builder()
        .status(status)
        .body(())
        .unwrap()
        .into_parts();
    ItemOutcome {
        id: id.to_owned(),
        result: ItemResult::Answered {
            head,
            body: Bytes::copy_from_slice(body.as_bytes()),
        },
    }
}

/// An outcome where the app failed with `error`.
pub(crate) fn failed(id: &str, error: Error) -> ItemOutcome {
    ItemOutcome {
        id: id.to_owned(),
        result: ItemResult::Failed(error),
    }
}

/// An outcome for an item that was not attempted.
pub(crate) fn skipped(id: &str) -> ItemOutcome {
    ItemOutcome {
        id: id.to_owned(),
        result: ItemResult::Skipped,
    }
}

/// The answer's `batchItemFailures` identifiers.
pub(crate) fn failure_ids(answer: &[u8]) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(answer).unwrap();
    json["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// What serving a batch did: the ids that reached the app, in order, and the settled answer.
pub(crate) struct Served {
    pub(crate) reached_the_app: Vec<String>,
    pub(crate) answer: Result<Bytes, Error>,
}

/// Serves a batch by the rules the core follows ([`BatchOrder`]), one item at a time in item
/// order: the app answers the item `id` with status `status(id)`; after a failure, the later
/// items (in order) or the later items of its group (grouped) are skipped.
pub(crate) fn serve(batch: Batch, status: impl Fn(&str) -> u16) -> Served {
    let Batch {
        items,
        order,
        settle,
    } = batch;
    let mut reached_the_app = Vec::new();
    let mut failed = false;
    let mut failed_groups = HashSet::new();
    let outcomes = items
        .into_iter()
        .map(|item| {
            let skip = match order {
                BatchOrder::InOrder => failed,
                BatchOrder::Grouped { .. } => item
                    .group
                    .as_ref()
                    .is_some_and(|group| failed_groups.contains(group)),
                _ => false,
            };
            if skip {
                return skipped(&item.id);
            }
            reached_the_app.push(item.id.clone());
            let status = status(&item.id);
            if !(200..300).contains(&status) {
                failed = true;
                failed_groups.extend(item.group);
            }
            answered(&item.id, status, "")
        })
        .collect();
    Served {
        reached_the_app,
        answer: settle.settle(outcomes),
    }
}

/// Runs `f` and returns what it logged at `warn` and above, as text.
pub(crate) fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = LogSettings {
        json: false,
        filter: EnvFilter::new("warn"),
    }
    .subscriber(move || writer.clone());
    let value = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    (value, text)
}
