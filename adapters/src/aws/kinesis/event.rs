//! The event, as read from JSON, and the requests made from it.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, HOST, NAME};
use crate::common::{
    decode_event_body, event_request, event_uri, record_json, scalar_text, sniff_content_type,
    EventHeaders,
};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    kinesis: Data<'a>,
    #[serde(borrow, default, rename = "eventID")]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "eventSourceARN")]
    event_source_arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    aws_region: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    #[serde(borrow)]
    sequence_number: Cow<'a, str>,
    #[serde(borrow, default)]
    partition_key: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    approximate_arrival_timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    encryption_type: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct IdsEvent<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<IdRecord<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdRecord<'a> {
    #[serde(borrow)]
    kinesis: IdData<'a>,
    #[serde(borrow, default, rename = "eventSourceARN")]
    event_source_arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdData<'a> {
    #[serde(borrow)]
    sequence_number: Cow<'a, str>,
}

fn malformed(err: serde_json::Error) -> Error {
    Error::malformed_event(format!("not a Kinesis event: {err}"))
}

/// One request per record, in order.
pub(super) fn per_record(event: &[u8], path: &str, report: bool) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    let event: Event<'_> = serde_json::from_slice(event).map_err(malformed)?;
    let mut items = Vec::with_capacity(event.records.len());
    for raw in event.records {
        let record: Record<'_> = serde_json::from_str(raw.get()).map_err(malformed)?;
        let data = record.kinesis;
        let mut headers = EventHeaders::new(HOST);
        headers.add("x-kinesis-sequence-number", &data.sequence_number);
        headers.add_some("x-kinesis-partition-key", data.partition_key.as_deref());
        headers.add_some("x-kinesis-event-id", record.event_id.as_deref());
        headers.add_some(
            "x-kinesis-event-source-arn",
            record.event_source_arn.as_deref(),
        );
        headers.add_some("x-kinesis-aws-region", record.aws_region.as_deref());
        headers.add_some(
            "x-kinesis-approximate-arrival-timestamp",
            data.approximate_arrival_timestamp
                .and_then(scalar_text)
                .as_deref(),
        );
        headers.add_some("x-kinesis-encryption-type", data.encryption_type.as_deref());
        let body = decode_event_body(data.data.as_deref().unwrap_or(""), true)?;
        let context = RequestContext::new(NAME, record_json(raw)?);
        let request = event_request(
            uri.clone(),
            headers,
            sniff_content_type(&body),
            body,
            context,
        );
        items.push(BatchItem {
            id: data.sequence_number.into_owned(),
            group: None,
            request,
        });
    }
    Ok(Decoded::Batch(Batch {
        items,
        order: BatchOrder::InOrder,
        settle: Box::new(move |outcomes| answer::settle_records(outcomes, report)),
    }))
}

/// The whole event in one request.
pub(super) fn whole_batch(event: bytes::Bytes, path: &str) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    let parsed: IdsEvent<'_> = serde_json::from_slice(&event).map_err(malformed)?;
    let mut headers = EventHeaders::new(HOST);
    headers.add("x-kinesis-batch-size", &parsed.records.len().to_string());
    headers.add_some(
        "x-kinesis-event-source-arn",
        parsed
            .records
            .first()
            .and_then(|r| r.event_source_arn.as_deref()),
    );
    let ids: Vec<String> = parsed
        .records
        .iter()
        .map(|record| record.kinesis.sequence_number.clone().into_owned())
        .collect();
    let request = event_request(
        uri,
        headers,
        "application/json",
        event.clone(),
        RequestContext::new(NAME, "{}"),
    );
    Ok(crate::common::whole_batch(NAME, request, ids))
}
