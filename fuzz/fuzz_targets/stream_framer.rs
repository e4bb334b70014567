//! The streaming framer (`HttpIntegrationBody`): arbitrary heads and bodies made of data
//! frames, trailers and errors. The output is always the prelude, the eight NUL bytes, every
//! non-empty data frame in order and unchanged, then either the end or one error-trailers
//! frame; it never fails and never ends early.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt as _, StreamBody};
use libfuzzer_sys::fuzz_target;
use serverless_adapter_core::{Body, BoxError};
use serverless_adapter_handlers::{encode_prelude, HttpIntegrationBody, PRELUDE_SEPARATOR};

#[derive(Arbitrary, Debug)]
enum Part {
    Data(Vec<u8>),
    Trailers(Vec<(Vec<u8>, Vec<u8>)>),
    Error(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    status: u16,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    parts: Vec<Part>,
}

fn header_map(pairs: &[(Vec<u8>, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

fuzz_target!(|input: Input| {
    let Ok(status) = StatusCode::from_u16(input.status) else {
        return;
    };
    let headers = header_map(&input.headers);
    // What must come out: data frames up to the first error.
    let mut expected: Vec<Bytes> = Vec::new();
    let mut fails = false;
    let mut frames: Vec<Result<Frame<Bytes>, BoxError>> = Vec::new();
    for part in &input.parts {
        match part {
            Part::Data(data) => {
                if !fails && !data.is_empty() {
                    expected.push(Bytes::copy_from_slice(data));
                }
                frames.push(Ok(Frame::data(Bytes::copy_from_slice(data))));
            }
            Part::Trailers(pairs) => frames.push(Ok(Frame::trailers(header_map(pairs)))),
            Part::Error(message) => {
                fails = true;
                frames.push(Err(message.clone().into()));
            }
        }
    }
    let body = Body::new(StreamBody::new(futures_util::stream::iter(frames)));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    let mut framed = HttpIntegrationBody::new(response);

    let mut out: Vec<Frame<Bytes>> = Vec::new();
    loop {
        let next = framed
            .frame()
            .now_or_never()
            .expect("every frame is ready: the framer never waits on its own");
        match next {
            None => break,
            Some(Ok(frame)) => out.push(frame),
            Some(Err(never)) => match never {},
        }
        assert!(
            out.len() <= input.parts.len() + 3,
            "more frames than went in"
        );
    }
    let mut out = out.into_iter();
    let prelude = out
        .next()
        .and_then(|f| f.into_data().ok())
        .expect("the prelude");
    assert_eq!(prelude, encode_prelude(status, &headers));
    let separator = out
        .next()
        .and_then(|f| f.into_data().ok())
        .expect("the separator");
    assert_eq!(&separator[..], &PRELUDE_SEPARATOR[..]);
    let mut data = Vec::new();
    let mut trailers = None;
    for frame in out {
        assert!(trailers.is_none(), "nothing after the error trailers");
        match frame.into_data() {
            Ok(bytes) => {
                assert!(!bytes.is_empty(), "no empty data frames");
                data.push(bytes);
            }
            Err(frame) => trailers = Some(frame.into_trailers().expect("data or trailers")),
        }
    }
    assert_eq!(data, expected, "every frame, in order, unchanged");
    match (fails, trailers) {
        (false, None) => {}
        (true, Some(trailers)) => {
            assert!(trailers.contains_key("lambda-runtime-function-error-type"));
            assert!(trailers.contains_key("lambda-runtime-function-error-body"));
        }
        (fails, trailers) => panic!("fails {fails}, trailers {trailers:?}"),
    }
});
