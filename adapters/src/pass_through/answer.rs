//! The answer: the app's JSON body, or its body as a JSON string; an error status fails.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use serverless_adapter_core::{Error, ItemOutcome, ItemResult};

use crate::common::item_error;

/// The app's body made into the invocation's JSON answer.
pub(super) fn json_answer(body: Bytes) -> Bytes {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Bytes::from_static(b"null");
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
        return body;
    }
    let text = match std::str::from_utf8(&body) {
        Ok(text) => serde_json::Value::String(text.to_owned()),
        Err(_) => serde_json::Value::String(STANDARD.encode(&body)),
    };
    Bytes::from(text.to_string())
}

/// The answer, or the invocation's error when the app did not answer 2xx.
pub(super) fn settle(outcomes: Vec<ItemOutcome>) -> Result<Bytes, Error> {
    let mut outcomes = outcomes.into_iter();
    let (Some(outcome), None) = (outcomes.next(), outcomes.next()) else {
        return Err(Error::adapter(
            "a pass-through event has exactly one outcome",
        ));
    };
    match outcome.result {
        ItemResult::Answered { head, body } if head.status.is_success() => Ok(json_answer(body)),
        other => Err(item_error("the pass-through event", other)
            .unwrap_or_else(|| Error::adapter("the pass-through event was not served"))),
    }
}
