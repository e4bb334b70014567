//! The event, as read from JSON, and the request made from it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, HOST, NAME};
use crate::common::{event_request, event_uri, record_json, EventHeaders};

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow, rename = "detail-type")]
    detail_type: Cow<'a, str>,
    #[serde(borrow, default)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
}

/// The event in one request.
pub(super) fn to_batch(event: Bytes, path: &str) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    let envelope: Envelope<'_> = serde_json::from_slice(&event)
        .map_err(|err| Error::malformed_event(format!("not an EventBridge event: {err}")))?;
    let mut headers = EventHeaders::new(HOST);
    headers.add_some("x-eventbridge-id", envelope.id.as_deref());
    headers.add("x-eventbridge-source", &envelope.source);
    headers.add("x-eventbridge-detail-type", &envelope.detail_type);
    headers.add_some("x-eventbridge-account", envelope.account.as_deref());
    headers.add_some("x-eventbridge-region", envelope.region.as_deref());
    headers.add_some("x-eventbridge-time", envelope.time.as_deref());
    let raw: &RawValue = serde_json::from_slice(&event)
        .map_err(|err| Error::malformed_event(format!("not an EventBridge event: {err}")))?;
    let context = RequestContext::new(NAME, record_json(raw)?);
    let id = envelope.id.as_deref().unwrap_or("event").to_owned();
    let request = event_request(uri, headers, "application/json", event.clone(), context);
    Ok(Decoded::Batch(Batch {
        items: vec![BatchItem {
            id,
            group: None,
            request,
        }],
        order: BatchOrder::InOrder,
        settle: Box::new(answer::settle),
    }))
}
