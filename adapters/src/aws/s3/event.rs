//! The event, as read from JSON, and the requests made from it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, HOST, NAME};
use crate::common::{event_request, event_uri, record_json, EventHeaders};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow, default)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(borrow)]
    s3: Entity<'a>,
}

#[derive(Deserialize)]
struct Entity<'a> {
    #[serde(borrow)]
    bucket: Named<'a>,
    #[serde(borrow)]
    object: Object<'a>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
}

/// One request per record.
pub(super) fn per_record(event: &[u8], path: &str) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    let event: Event<'_> = serde_json::from_slice(event)
        .map_err(|err| Error::malformed_event(format!("not an S3 event: {err}")))?;
    let mut items = Vec::with_capacity(event.records.len());
    for raw in event.records {
        let record: Record<'_> = serde_json::from_str(raw.get())
            .map_err(|err| Error::malformed_event(format!("not an S3 record: {err}")))?;
        let mut headers = EventHeaders::new(HOST);
        headers.add_some("x-s3-event-name", record.event_name.as_deref());
        headers.add_some("x-s3-event-time", record.event_time.as_deref());
        headers.add_some("x-s3-aws-region", record.aws_region.as_deref());
        headers.add("x-s3-bucket", &record.s3.bucket.name);
        headers.add("x-s3-key", &record.s3.object.key);
        let json = record_json(raw)?;
        let body = Bytes::from(json.clone());
        let request = event_request(
            uri.clone(),
            headers,
            "application/json",
            body,
            RequestContext::new(NAME, json),
        );
        items.push(BatchItem {
            id: format!("{}/{}", record.s3.bucket.name, record.s3.object.key),
            group: None,
            request,
        });
    }
    Ok(Decoded::Batch(Batch {
        items,
        order: BatchOrder::InOrder,
        settle: Box::new(answer::settle),
    }))
}
