//! Helpers shared by the adapters' unit tests.

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use serverless_adapter_core::{
    Adapter, Batch, Body, Decoded, Error, EventProbe, ItemOutcome, ItemResult, LambdaContext,
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
