//! The event, as read from JSON, and the requests made from it.

use std::borrow::Cow;
use std::collections::HashSet;

use bytes::Bytes;
use http::Uri;
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, SqsPerRecord, HOST, NAME};
use crate::common::{
    event_request, event_uri, kebab_case, record_json, record_str, scalar_text, sniff_content_type,
    EventHeaders, OrderedMap, RecordBatch,
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
    message_id: Cow<'a, str>,
    #[serde(borrow, default)]
    receipt_handle: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "eventSourceARN")]
    event_source_arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    attributes: OrderedMap<'a, &'a RawValue>,
    #[serde(borrow, default)]
    message_attributes: OrderedMap<'a, Option<MessageAttribute<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageAttribute<'a> {
    #[serde(borrow, default)]
    string_value: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    binary_value: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordId<'a> {
    #[serde(borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow, default, rename = "eventSourceARN")]
    event_source_arn: Option<Cow<'a, str>>,
}

fn malformed(err: serde_json::Error) -> Error {
    Error::malformed_event(format!("not an SQS event: {err}"))
}

/// One request per message. A message that cannot be decoded fails only itself (and, in a
/// FIFO queue, holds back the later messages of its group).
pub(super) fn per_record(event: &[u8], options: &SqsPerRecord) -> Result<Decoded, Error> {
    let uri = event_uri(&options.path)?;
    let event: Event<'_> = serde_json::from_slice(event).map_err(malformed)?;
    let fifo = event.records.first().is_some_and(|first| {
        record_str(first, &["eventSourceARN"]).is_some_and(|arn| arn.ends_with(".fifo"))
    });
    let mut batch = RecordBatch::new(NAME, "SQS message", event.records.len());
    let mut groups: Vec<Option<String>> = Vec::with_capacity(event.records.len());
    // FIFO message groups with an undecodable message: their later messages are held back
    let mut broken_groups: HashSet<String> = HashSet::new();
    for raw in event.records {
        match message(raw, &uri, fifo) {
            Ok(item) => {
                groups.push(item.group.clone());
                if item
                    .group
                    .as_ref()
                    .is_some_and(|g| broken_groups.contains(g))
                {
                    batch.hold(item.id);
                } else {
                    batch.push(item);
                }
            }
            Err(error) => {
                batch.undecodable(raw, &["messageId"], error)?;
                let group = record_str(raw, &["attributes", "MessageGroupId"]).filter(|_| fifo);
                broken_groups.extend(group.clone());
                groups.push(group);
            }
        }
    }
    let report = options.report_batch_item_failures;
    let order = if fifo {
        BatchOrder::Grouped {
            limit: options.concurrency,
        }
    } else {
        BatchOrder::Concurrent {
            limit: options.concurrency,
        }
    };
    Ok(batch.into_decoded(order, move |outcomes| {
        answer::settle_records(outcomes, &groups, report)
    }))
}

/// The request for one message, in its message group when the queue is FIFO.
fn message(raw: &RawValue, uri: &Uri, fifo: bool) -> Result<BatchItem, Error> {
    let record: Record<'_> =
        serde_json::from_str(raw.get()).map_err(|err| Error::malformed_event(err.to_string()))?;
    let mut headers = EventHeaders::new(HOST);
    headers.add("x-sqs-message-id", &record.message_id);
    headers.add_some("x-sqs-receipt-handle", record.receipt_handle.as_deref());
    headers.add_some("x-sqs-event-source-arn", record.event_source_arn.as_deref());
    headers.add_some("x-sqs-aws-region", record.aws_region.as_deref());
    let mut group = None;
    for (name, value) in record.attributes.iter() {
        let Some(value) = scalar_text(value) else {
            continue;
        };
        if name == "MessageGroupId" {
            group = Some(value.clone().into_owned());
        }
        headers.add(&format!("x-sqs-{}", kebab_case(name)), &value);
    }
    for (name, attribute) in record.message_attributes.iter() {
        let Some(attribute) = attribute else {
            continue;
        };
        let value = attribute
            .string_value
            .as_deref()
            .or(attribute.binary_value.as_deref());
        headers.add_some(
            &format!("x-sqs-message-attribute-{}", name.to_ascii_lowercase()),
            value,
        );
    }
    let body = Bytes::copy_from_slice(record.body.as_deref().unwrap_or("").as_bytes());
    let context = RequestContext::new(NAME, record_json(raw)?);
    let request = event_request(
        uri.clone(),
        headers,
        sniff_content_type(&body),
        body,
        context,
    );
    Ok(BatchItem {
        id: record.message_id.into_owned(),
        group: group.filter(|_| fifo),
        request,
    })
}

/// The whole event in one request.
pub(super) fn whole_batch(event: Bytes, path: &str) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    #[derive(Deserialize)]
    struct Ids<'a> {
        #[serde(borrow, rename = "Records")]
        records: Vec<RecordId<'a>>,
    }
    let parsed: Ids<'_> = serde_json::from_slice(&event).map_err(malformed)?;
    let mut headers = EventHeaders::new(HOST);
    headers.add("x-sqs-batch-size", &parsed.records.len().to_string());
    headers.add_some(
        "x-sqs-event-source-arn",
        parsed
            .records
            .first()
            .and_then(|r| r.event_source_arn.as_deref()),
    );
    let ids: Vec<String> = parsed
        .records
        .iter()
        .map(|record| record.message_id.clone().into_owned())
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
