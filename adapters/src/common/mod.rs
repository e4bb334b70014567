//! Building blocks shared by the adapters: telling event shapes apart, reading event fields,
//! building requests, decoding and settling batches, and encoding answer bodies.

mod answer_body;
mod batch;
mod event_request;
mod fields;
mod proxy_answer;
mod query;
mod request;
mod shape;

pub use answer_body::{decode_event_body, encode_answer_body, is_text_content_type, AnswerBody};
pub use batch::{
    all_or_error, batch_item_failures, body_excerpt, failed_items_answer, failure_reason,
    first_failure_answer, item_error, log_item_failure, record_str, validate_batch_answer,
    whole_batch, RecordBatch, ERROR_STATUS_TYPE, EXCERPT_LIMIT, INVALID_BATCH_ANSWER_TYPE,
    WHOLE_BATCH_ITEM_ID,
};
pub use event_request::{
    event_request, event_uri, kebab_case, record_json, scalar_text, sniff_content_type,
    EventHeaders, OMITTED_HEADERS,
};
pub use fields::OrderedMap;
pub use proxy_answer::{
    encode_proxy_answer, joined_headers, last_value_headers, multi_value_headers,
};
pub use query::{
    encoded_query, escape_stray_percent, merge_values, push_query_component, raw_query, MultiMap,
};
pub use request::{build_uri, compact_json, header_name, header_value, RequestParts};
pub use shape::{payload_version, PayloadVersion};
