//! The request made from the event: the event itself.

use bytes::Bytes;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, NAME};
use crate::common::{event_request, event_uri, EventHeaders};

/// The identifier of the single item.
pub(super) const ITEM_ID: &str = "event";

/// The event in one request, posted as it is.
pub(super) fn to_batch(event: Bytes, path: &str) -> Result<Decoded, Error> {
    let request = event_request(
        event_uri(path)?,
        EventHeaders::without_host(),
        "application/json",
        event,
        RequestContext::new(NAME, "{}"),
    );
    Ok(Decoded::Batch(Batch {
        items: vec![BatchItem {
            id: ITEM_ID.to_owned(),
            group: None,
            request,
        }],
        order: BatchOrder::InOrder,
        settle: Box::new(answer::settle),
    }))
}
