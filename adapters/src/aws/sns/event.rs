//! The event, as read from JSON, and the requests made from it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serverless_adapter_core::{Batch, BatchItem, BatchOrder, Decoded, Error, RequestContext};

use super::{answer, HOST, NAME};
use crate::common::{
    event_request, event_uri, record_json, sniff_content_type, EventHeaders, OrderedMap,
};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record<'a> {
    #[serde(borrow, default)]
    event_subscription_arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sns: Message<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Message<'a> {
    #[serde(borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow, default, rename = "Type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    topic_arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message_attributes: OrderedMap<'a, Option<Attribute<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute<'a> {
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
}

/// One request per notification.
pub(super) fn per_record(event: &[u8], path: &str) -> Result<Decoded, Error> {
    let uri = event_uri(path)?;
    let event: Event<'_> = serde_json::from_slice(event)
        .map_err(|err| Error::malformed_event(format!("not an SNS event: {err}")))?;
    let mut items = Vec::with_capacity(event.records.len());
    for raw in event.records {
        let record: Record<'_> = serde_json::from_str(raw.get())
            .map_err(|err| Error::malformed_event(format!("not an SNS record: {err}")))?;
        let sns = record.sns;
        let mut headers = EventHeaders::new(HOST);
        headers.add("x-sns-message-id", &sns.message_id);
        headers.add_some("x-sns-topic-arn", sns.topic_arn.as_deref());
        headers.add_some("x-sns-subject", sns.subject.as_deref());
        headers.add_some("x-sns-type", sns.kind.as_deref());
        headers.add_some("x-sns-timestamp", sns.timestamp.as_deref());
        headers.add_some(
            "x-sns-subscription-arn",
            record.event_subscription_arn.as_deref(),
        );
        for (name, attribute) in sns.message_attributes.iter() {
            headers.add_some(
                &format!("x-sns-message-attribute-{}", name.to_ascii_lowercase()),
                attribute.as_ref().and_then(|a| a.value.as_deref()),
            );
        }
        let body = Bytes::copy_from_slice(sns.message.as_deref().unwrap_or("").as_bytes());
        let context = RequestContext::new(NAME, record_json(raw)?);
        let request = event_request(
            uri.clone(),
            headers,
            sniff_content_type(&body),
            body,
            context,
        );
        items.push(BatchItem {
            id: sns.message_id.into_owned(),
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
