//! Shared checks and the structure-aware JSON mutator of the fuzz targets.
//!
//! Every adapter target runs [`check_adapter`] on its input and mutates inputs with
//! [`mutate_json`]: real fixtures (the seed corpus) stay JSON while their fields are replaced,
//! removed, retyped and nested, so the fuzzer reaches `decode` past the first parse error.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Request, Response, StatusCode};
use serde_json::{Map, Value};
use serverless_adapter_core::{
    Adapter, Body, Decoded, Error, EventProbe, ItemOutcome, ItemResult, LambdaContext,
};

/// Probes and decodes `data` with `adapter`, then answers what it decoded. Panics (a finding)
/// when an invariant breaks: `decode` may refuse an event only with a malformed-event or
/// adapter error; a request never carries an authority, a `transfer-encoding`, or a
/// `content-length` other than its body's; an answer, when encoded, is JSON.
pub fn check_adapter(adapter: &dyn Adapter, data: &[u8]) {
    if let Ok(probe) = EventProbe::new(data) {
        let _ = adapter.can_handle(&probe);
    }
    let context = LambdaContext::for_request_id("fuzz");
    match adapter.decode(Bytes::copy_from_slice(data), &context) {
        Err(error) => assert_refusal(&error),
        Ok(Decoded::Http(exchange)) => {
            check_request(&exchange.request);
            let head = response_head(data);
            match exchange
                .encoder
                .encode(&head, Bytes::from_static(b"body \x00\xff"))
            {
                Ok(answer) => assert_json(&answer),
                Err(error) => assert_refusal(&error),
            }
        }
        Ok(Decoded::Batch(batch)) => {
            for item in &batch.items {
                check_request(&item.request);
            }
            let outcomes = batch
                .items
                .iter()
                .enumerate()
                .map(|(index, item)| ItemOutcome {
                    id: item.id.clone(),
                    result: outcome_for(data, index),
                })
                .collect();
            match batch.settle.settle(outcomes) {
                Ok(answer) => {
                    if !answer.is_empty() {
                        assert_json(&answer)
                    }
                }
                Err(error) => assert_refusal(&error),
            }
        }
        Ok(_) => {}
    }
}

fn assert_refusal(error: &Error) {
    assert!(
        error.is_malformed_event() || error.is_adapter() || error.is_invocation_failure(),
        "unexpected error {}: {}",
        error.error_type(),
        error.message()
    );
    assert!(!error.message().is_empty(), "an error without a message");
}

fn assert_json(answer: &[u8]) {
    if let Err(error) = serde_json::from_slice::<Value>(answer) {
        panic!(
            "the answer is not JSON ({error}): {:?}",
            String::from_utf8_lossy(answer)
        );
    }
}

fn check_request(request: &Request<Body>) {
    let uri = request.uri();
    assert!(uri.scheme().is_none(), "a scheme in {uri}");
    assert!(uri.authority().is_none(), "an authority in {uri}");
    assert!(uri.path().starts_with('/'), "a relative path {uri}");
    let headers = request.headers();
    assert!(
        !headers.contains_key(TRANSFER_ENCODING),
        "transfer-encoding forwarded"
    );
    let lengths: Vec<_> = headers.get_all(CONTENT_LENGTH).iter().collect();
    assert!(lengths.len() <= 1, "several content-length: {lengths:?}");
    if let Some(length) = lengths.first() {
        let size = http_body::Body::size_hint(request.body());
        let declared: u64 = length.to_str().unwrap().parse().unwrap();
        assert_eq!(
            Some(declared),
            size.exact(),
            "content-length disagrees with the body"
        );
    }
}

/// A response head derived from the input: some status, and headers including cookies.
fn response_head(data: &[u8]) -> http::response::Parts {
    let status = 100 + (data.iter().map(|&b| u32::from(b)).sum::<u32>() % 500) as u16;
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "text/plain")
        .header("set-cookie", "a=1; Path=/")
        .header("set-cookie", "b=2")
        .header("x-multi", "one")
        .header("x-multi", "two")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// An outcome for item `index`, varied by the input.
fn outcome_for(data: &[u8], index: usize) -> ItemResult {
    let byte = data.get(index).copied().unwrap_or(0);
    match byte % 5 {
        0 => ItemResult::Failed(Error::panic("fuzz")),
        1 => ItemResult::Skipped,
        2 => ItemResult::Answered {
            head: Response::builder()
                .status(500)
                .body(())
                .unwrap()
                .into_parts()
                .0,
            body: Bytes::from_static(b"{\"error\":true}"),
        },
        _ => ItemResult::Answered {
            head: Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(())
                .unwrap()
                .into_parts()
                .0,
            body: Bytes::from_static(b"{\"ok\":true}"),
        },
    }
}

/// A small deterministic generator (xorshift), seeded by libFuzzer.
struct Rng(u64);

impl Rng {
    fn new(seed: u32) -> Self {
        Self(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Strings that matter to adapters: control characters, paths, hosts, encodings, names.
const TRICKY: &[&str] = &[
    "",
    "\r\n",
    "a\r\nx-injected: 1",
    "\u{0}",
    "..",
    "/../../etc/passwd",
    "http://evil/",
    "//evil/x",
    "%%%",
    "YWJj",
    "chunked",
    "content-length",
    "transfer-encoding",
    "x-amzn-request-context",
    "1e400",
    "GET",
    "not a method",
    "aws:sqs",
    "aws:sns",
    "aws:s3",
    "aws:kinesis",
    "aws:dynamodb",
    "aws.events",
    "2.0",
    "1.0",
    "$connect",
    "arn:aws:sqs:us-east-1:1:q.fifo",
    "\u{feff}é\u{1F600}",
];

fn random_value(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next() as i64),
        3 => serde_json::from_str("1e308").unwrap(),
        4 => Value::Array(Vec::new()),
        5 => Value::Object(Map::new()),
        6 => {
            let depth = 1 + rng.below(200);
            let mut value = Value::Null;
            for _ in 0..depth {
                value = Value::Array(vec![value]);
            }
            value
        }
        _ => Value::String(TRICKY[rng.below(TRICKY.len())].to_owned()),
    }
}

/// Counts the nodes of `value`.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// Applies one mutation to node number `target` (pre-order) of `value`.
fn mutate_node(value: &mut Value, target: &mut usize, rng: &mut Rng) -> bool {
    if *target == 0 {
        match (value, rng.below(6)) {
            (Value::Object(map), 0) if !map.is_empty() => {
                let key = map.keys().nth(rng.below(map.len())).cloned().unwrap();
                map.remove(&key);
            }
            (Value::Object(map), 1) => {
                let key = TRICKY[rng.below(TRICKY.len())].to_owned();
                map.insert(key, random_value(rng));
            }
            (Value::Array(items), 2) if !items.is_empty() => {
                let copy = items[rng.below(items.len())].clone();
                items.push(copy);
            }
            (Value::String(text), 3) => {
                let insert = TRICKY[rng.below(TRICKY.len())];
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, insert);
            }
            (value, _) => *value = random_value(rng),
        }
        return true;
    }
    *target -= 1;
    match value {
        Value::Array(items) => items.iter_mut().any(|item| mutate_node(item, target, rng)),
        Value::Object(map) => map.values_mut().any(|item| mutate_node(item, target, rng)),
        _ => false,
    }
}

/// libFuzzer's custom mutator: JSON inputs get one to three structural mutations; anything
/// else (and every fourth call) goes to libFuzzer's own byte-level mutator.
pub fn mutate_json(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    if rng.below(4) != 0 {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&data[..size]) {
            for _ in 0..1 + rng.below(3) {
                let mut target = rng.below(count(&value));
                mutate_node(&mut value, &mut target, &mut rng);
            }
            if let Ok(bytes) = serde_json::to_vec(&value) {
                if bytes.len() <= max_size {
                    data[..bytes.len()].copy_from_slice(&bytes);
                    return bytes.len();
                }
            }
        }
    }
    libfuzzer_sys::fuzzer_mutate(data, size, max_size)
}

/// Declares a fuzz target for one adapter (each of its variants checked on every input), with
/// the JSON mutator.
#[macro_export]
macro_rules! adapter_target {
    ($($adapter:expr),+ $(,)?) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            $($crate::check_adapter(&$adapter, data);)+
        });
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::mutate_json(data, size, max_size, seed)
        });
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_keep_json() {
        let mut value: Value = serde_json::from_str(r#"{"a":[1,"x",{"b":null}],"c":"d"}"#).unwrap();
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            let mut target = rng.below(count(&value));
            mutate_node(&mut value, &mut target, &mut rng);
            let text = serde_json::to_vec(&value).unwrap();
            if text.len() > 100_000 {
                value = serde_json::from_str(r#"{"a":1}"#).unwrap();
            }
        }
    }
}
