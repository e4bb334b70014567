//! Building blocks shared by the adapters: reading event fields, building requests, and
//! encoding answer bodies.

mod answer_body;
mod fields;
mod request;

pub use answer_body::{decode_event_body, encode_answer_body, is_text_content_type, AnswerBody};
pub use fields::OrderedMap;
pub use request::{build_uri, compact_json, header_name, header_value, RequestParts};
