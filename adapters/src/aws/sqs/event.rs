//! The event, as read from JSON, and the requests made from it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, SqsPerRecord, HOST, NAME};
use crate::common::{
    event_request, event_uri, kebab_case, record_json, scalar_text, sniff_content_type,
    EventHeaders, OrderedMap,
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

/// One request per message.
pub(super) fn per_record(event: &[u8], options: &SqsPerRecord) -> Result<Decoded, Error> {
    let uri = event_uri(&options.path)?;
    let event: Event<'_> = serde_json::from_slice(event).map_err(malformed)?;
    let mut fifo = false;
    let mut items = Vec::with_capacity(event.records.len());
    for (index, raw) in event.records.iter().enumerate() {
        let record: Record<'_> = serde_json::from_str(raw.get()).map_err(malformed)?;
        if index == 0 {
            fifo = record
                .event_source_arn
                .as_deref()
                .is_some_and(|arn| arn.ends_with(".fifo"));
        }
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
        items.push(BatchItem {
            id: record.message_id.into_owned(),
            group: if fifo { group } else { None },
            request,
        });
    }
    let groups: Vec<Option<String>> = items.iter().map(|item| item.group.clone()).collect();
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
    Ok(Decoded::Batch(Batch {
        items,
        order,
        settle: Box::new(move |outcomes| answer::settle_records(outcomes, &groups, report)),
    }))
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
