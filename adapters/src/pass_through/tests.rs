use super::*;
use crate::fixtures::aws_fixtures;
use crate::test_support::{answered, body_of, decode_batch, failed};
use serverless_adapter_core::{BatchOrder, ItemOutcome, ItemResult, RequestContext};

#[tokio::test]
async fn any_object_is_posted_as_it_is() {
    let event = br#"{"anything": [1, 2], "fail": "maybe"}"#;
    let mut batch = decode_batch(&PassThroughAdapter, event);
    assert_eq!(batch.order, BatchOrder::InOrder);
    let request = batch.items.remove(0).request;
    assert_eq!(request.method(), "POST");
    assert_eq!(request.uri(), "/events");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert!(!request.headers().contains_key("host"));
    assert_eq!(
        request
            .extensions()
            .get::<RequestContext>()
            .unwrap()
            .source(),
        "pass-through"
    );
    assert_eq!(body_of(request).await, &event[..]);
}

#[test]
fn every_fixture_is_accepted() {
    for (name, bytes) in aws_fixtures(&["example-"]) {
        let probe = EventProbe::new(&bytes).unwrap();
        assert!(PassThroughAdapter.can_handle(&probe), "{name}");
    }
}

#[test]
fn options_and_lwa_environment() {
    let batch = decode_batch(&PassThroughAdapter::configure().path("/invoke"), b"{}");
    assert_eq!(batch.items[0].request.uri(), "/invoke");
    let from_env = PassThroughConfigured::from_lookup(|name| {
        (name == "AWS_LWA_PASS_THROUGH_PATH").then(|| " /custom ".to_owned())
    });
    assert_eq!(
        decode_batch(&from_env, b"{}").items[0].request.uri(),
        "/custom"
    );
    let unset = PassThroughConfigured::from_lookup(|_| None);
    assert_eq!(
        decode_batch(&unset, b"{}").items[0].request.uri(),
        "/events"
    );
    let empty = PassThroughConfigured::from_lookup(|_| Some(String::new()));
    assert_eq!(
        decode_batch(&empty, b"{}").items[0].request.uri(),
        "/events"
    );
    assert_eq!(from_env.name(), "pass-through");
}

#[test]
fn answers_are_json_and_error_statuses_fail() {
    let settle = |outcome| {
        decode_batch(&PassThroughAdapter, b"{}")
            .settle
            .settle(vec![outcome])
    };
    let ok = |body: &str| settle(answered("event", 200, body)).unwrap();
    assert_eq!(&ok(r#"{"ok":true}"#)[..], br#"{"ok":true}"#);
    assert_eq!(&ok("[1,2]")[..], b"[1,2]");
    assert_eq!(&ok("42")[..], b"42");
    assert_eq!(&ok("")[..], b"null");
    assert_eq!(&ok("plain \"text\"")[..], br#""plain \"text\"""#);
    let binary = settle(ItemOutcome {
        id: "event".into(),
        result: ItemResult::Answered {
            head: http::Response::new(()).into_parts().0,
            body: Bytes::from_static(&[0xff, 0x00]),
        },
    })
    .unwrap();
    assert_eq!(&binary[..], br#""/wA=""#);

    let err = settle(answered("event", 500, r#"{"ok":false,"detail":"fail"}"#)).unwrap_err();
    assert_eq!(err.error_type(), "App.ErrorStatus");
    assert!(err.message().contains("500 Internal Server Error"), "{err}");
    assert!(
        err.message().contains(r#"{"ok":false,"detail":"fail"}"#),
        "{err}"
    );
    let long = "x".repeat(10_000);
    let err = settle(answered("event", 503, &long)).unwrap_err();
    assert!(err.message().len() < 1_000, "the body is quoted, bounded");
    assert!(settle(answered("event", 301, "")).is_err());
    assert!(settle(failed("event", Error::panic("p")))
        .unwrap_err()
        .is_panic());
}
