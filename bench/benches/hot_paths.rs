//! Micro benchmarks of the per-invocation hot paths, through the public APIs of
//! `serverless-adapter-core`, `-adapters` and `-handlers`:
//!
//! - `probe_decode/*`: event bytes → [`EventProbe`] → the first adapter of the default list
//!   (`event_adapters()`, in `register_all` order) that `can_handle` it → `decode` into the
//!   request(s), for real fixtures: the ones shipped in the `aws_lambda_events` crate and the
//!   adapters crate's own Function URL event;
//! - `encode/*`: the buffered JSON answer of an HTTP event (payload 2.0, 1.0, ALB) from a response
//!   head and body;
//! - `prelude/*`: the streaming prelude (`encode_prelude`) of a response head.
//!
//! `cargo bench -p serverless-adapter-bench` runs them (each 1 s of measurement, the whole suite
//! well under two minutes).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serverless_adapter_adapters::event_adapters;
use serverless_adapter_core::{Adapter, Decoded, EncodeAnswer, EventProbe, LambdaContext};
use serverless_adapter_handlers::encode_prelude;

/// The `src/fixtures` folder of the `aws_lambda_events` crate the workspace resolved (a
/// dependency of the adapters' tests and of `lambda_http`).
fn aws_fixtures_dir() -> PathBuf {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["name"] == "aws_lambda_events")
        .filter_map(|p| p["manifest_path"].as_str())
        .max()
        .expect("aws_lambda_events is in the dependency graph");
    let dir = PathBuf::from(manifest)
        .parent()
        .expect("crate folder")
        .join("src/fixtures");
    assert!(dir.is_dir(), "{} holds the fixtures", dir.display());
    dir
}

/// (label, event bytes) of the events benchmarked.
fn fixtures() -> Vec<(&'static str, Bytes)> {
    let aws = aws_fixtures_dir();
    let read = |path: PathBuf| {
        Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    };
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../adapters/fixtures");
    vec![
        (
            "function-url",
            read(own.join("lambda-function-url-request.json")),
        ),
        (
            "api-gateway-v2",
            read(aws.join("example-apigw-v2-request-no-authorizer.json")),
        ),
        (
            "api-gateway-v1",
            read(aws.join("example-apigw-request.json")),
        ),
        (
            "alb",
            read(aws.join("example-alb-lambda-target-request-headers-only.json")),
        ),
        ("sqs", read(aws.join("example-sqs-event.json"))),
    ]
}

/// The first adapter of `adapters` that accepts `event`.
fn pick<'a>(adapters: &'a [Box<dyn Adapter>], event: &[u8]) -> &'a dyn Adapter {
    let probe = EventProbe::new(event).expect("a JSON object");
    adapters
        .iter()
        .find(|a| a.can_handle(&probe))
        .map(|a| a.as_ref())
        .expect("an adapter accepts the fixture")
}

fn probe_decode(c: &mut Criterion) {
    let adapters = event_adapters();
    let context = LambdaContext::for_request_id("bench");
    let mut group = c.benchmark_group("probe_decode");
    for (label, event) in fixtures() {
        // Checked once outside the timing: the fixture decodes.
        let adapter = pick(&adapters, &event);
        adapter
            .decode(event.clone(), &context)
            .unwrap_or_else(|e| panic!("{label} decodes with {}: {e}", adapter.name()));
        group.bench_function(label, |b| {
            b.iter(|| {
                let adapter = pick(&adapters, std::hint::black_box(&event));
                adapter
                    .decode(event.clone(), &context)
                    .expect("fixture decodes")
            })
        });
    }
    group.finish();
}

/// The head of the reference app's `/echo` answer: a content type, two cookies, a repeated header.
fn echo_head() -> http::response::Parts {
    let mut response = Response::new(());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.append(SET_COOKIE, HeaderValue::from_static("a=1; Path=/"));
    headers.append(SET_COOKIE, HeaderValue::from_static("b=2; Path=/"));
    headers.append("x-multi", HeaderValue::from_static("one"));
    headers.append("x-multi", HeaderValue::from_static("two"));
    response.into_parts().0
}

fn plain_head() -> http::response::Parts {
    let mut response = Response::new(());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response.into_parts().0
}

fn encoder_for(
    adapters: &[Box<dyn Adapter>],
    event: &Bytes,
    context: &LambdaContext,
) -> Box<dyn EncodeAnswer> {
    match pick(adapters, event)
        .decode(event.clone(), context)
        .expect("fixture decodes")
    {
        Decoded::Http(exchange) => exchange.encoder,
        other => panic!("not an HTTP event: {other:?}"),
    }
}

fn encode(c: &mut Criterion) {
    let adapters = event_adapters();
    let context = LambdaContext::for_request_id("bench");
    let plain = plain_head();
    let echo = echo_head();
    let ok = Bytes::from_static(b"ok");
    let json = Bytes::from(format!(
        "{{\"method\":\"GET\",\"path\":\"/echo\",\"query\":\"\",\"headers\":[],\"body_base64\":\"{}\"}}",
        "QUJD".repeat(256)
    ));
    let binary = Bytes::from(
        (0..64 * 1024u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let mut group = c.benchmark_group("encode");
    for (label, event) in fixtures() {
        if label == "sqs" || label == "function-url" {
            continue;
        }
        let cases: [(&str, &http::response::Parts, &Bytes); 3] = [
            ("text 2 B", &plain, &ok),
            ("echo json 1 KiB", &echo, &json),
            ("binary 64 KiB", &plain, &binary),
        ];
        for (case, head, body) in cases {
            // The binary case is base64: give it an octet-stream type.
            let mut binary_head;
            let head = if case.starts_with("binary") {
                binary_head = head.clone();
                binary_head.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                &binary_head
            } else {
                head
            };
            group.bench_function(format!("{label}/{case}"), |b| {
                b.iter_batched(
                    || encoder_for(&adapters, &event, &context),
                    |encoder| encoder.encode(head, body.clone()).expect("encodes"),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

fn prelude(c: &mut Criterion) {
    let mut group = c.benchmark_group("prelude");
    let plain = plain_head();
    let echo = echo_head();
    let mut many = HeaderMap::new();
    for i in 0..20 {
        many.append(
            http::HeaderName::try_from(format!("x-header-{i}")).expect("valid name"),
            HeaderValue::from_bytes("some \"quoted\" value, a tab\t and obs-text é".as_bytes())
                .expect("valid header value"),
        );
    }
    for (label, headers) in [
        ("1 header", &plain.headers),
        ("echo head (cookies, repeated)", &echo.headers),
        ("20 headers with escapes", &many),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| encode_prelude(StatusCode::OK, std::hint::black_box(headers)))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = probe_decode, encode, prelude
}
criterion_main!(benches);
