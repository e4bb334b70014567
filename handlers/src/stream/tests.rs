use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt as _;
use serverless_adapter_core::{Body, BoxError, Error};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;

/// A body fed frame by frame through a channel, like an app writing as it goes.
struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, BoxError>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx)
    }
}

type Sender = mpsc::Sender<Result<Frame<Bytes>, BoxError>>;

fn channel_response(status: StatusCode) -> (Sender, Response<Body>) {
    let (tx, rx) = mpsc::channel(4);
    let mut response = Response::new(Body::new(ChannelBody(rx)));
    *response.status_mut() = status;
    (tx, response)
}

async fn data(tx: &Sender, text: &'static str) {
    tx.send(Ok(Frame::data(Bytes::from_static(text.as_bytes()))))
        .await
        .unwrap();
}

/// The next frame, within two seconds.
async fn next(body: &mut HttpIntegrationBody) -> Option<Frame<Bytes>> {
    tokio::time::timeout(Duration::from_secs(2), body.frame())
        .await
        .expect("a frame (or the end) within two seconds")
        .map(|frame| frame.expect("the body never fails"))
}

async fn next_data(body: &mut HttpIntegrationBody) -> Bytes {
    next(body)
        .await
        .expect("a frame")
        .into_data()
        .expect("a data frame")
}

async fn next_trailers(body: &mut HttpIntegrationBody) -> HeaderMap {
    next(body)
        .await
        .expect("a frame")
        .into_trailers()
        .expect("a trailers frame")
}

async fn skip_prelude(body: &mut HttpIntegrationBody) {
    assert!(next_data(body).await.starts_with(b"{\"statusCode\":"));
    assert_eq!(next_data(body).await, &PRELUDE_SEPARATOR[..]);
}

/// The error type and the decoded JSON of error trailers.
fn decode_trailers(trailers: &HeaderMap) -> (String, serde_json::Value) {
    assert_eq!(trailers.len(), 2, "{trailers:?}");
    let error_type = trailers["lambda-runtime-function-error-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let json = base64::engine::general_purpose::STANDARD
        .decode(trailers["lambda-runtime-function-error-body"].as_bytes())
        .unwrap();
    (error_type, serde_json::from_slice(&json).unwrap())
}

#[tokio::test]
async fn prelude_separator_and_data_are_separate_frames() {
    let response = Response::builder()
        .status(201)
        .header("content-type", "text/plain")
        .header("set-cookie", "a=1; Path=/")
        .header("x-multi", "one")
        .header("set-cookie", "b=2; Path=/")
        .header("x-multi", "two")
        .body(Body::from("hello"))
        .unwrap();
    let mut body = HttpIntegrationBody::new(response);
    assert!(!body.is_end_stream());
    assert_eq!(body.size_hint().exact(), None, "always chunked");
    assert_eq!(
        next_data(&mut body).await,
        &br#"{"statusCode":201,"headers":{"content-type":"text/plain","x-multi":["one","two"]},"cookies":["a=1; Path=/","b=2; Path=/"]}"#[..]
    );
    assert_eq!(next_data(&mut body).await, &[0u8; 8][..]);
    assert_eq!(next_data(&mut body).await, "hello");
    assert!(body.is_end_stream(), "ends with the app's last frame");
    assert!(next(&mut body).await.is_none());
    assert_eq!(body.size_hint().exact(), Some(0));
}

#[tokio::test]
async fn data_frames_are_forwarded_one_by_one_as_they_come() {
    let (tx, response) = channel_response(StatusCode::OK);
    let mut body = HttpIntegrationBody::new(response);
    skip_prelude(&mut body).await;
    data(&tx, "one").await;
    assert_eq!(next_data(&mut body).await, "one");
    // Nothing else is ready: the body waits for the app rather than buffering.
    assert!(
        tokio::time::timeout(Duration::from_millis(30), body.frame())
            .await
            .is_err(),
        "no frame before the app sends one"
    );
    assert!(!body.is_end_stream());
    data(&tx, "two").await;
    assert_eq!(next_data(&mut body).await, "two");
    data(&tx, "").await;
    let mut trailers = HeaderMap::new();
    trailers.insert("x-app-trailer", "dropped".parse().unwrap());
    tx.send(Ok(Frame::trailers(trailers))).await.unwrap();
    data(&tx, "three").await;
    assert_eq!(
        next_data(&mut body).await,
        "three",
        "empty frames and app trailers are skipped"
    );
    drop(tx);
    assert!(next(&mut body).await.is_none());
    assert!(body.is_end_stream());
}

#[tokio::test]
async fn the_app_is_polled_only_when_the_answer_is() {
    // A one-slot channel: the app can be at most one frame ahead of what was taken, so
    // the sender blocks until the answer's reader asks for more.
    let (tx, rx) = mpsc::channel(1);
    let mut body = HttpIntegrationBody::new(Response::new(Body::new(ChannelBody(rx))));
    skip_prelude(&mut body).await;
    let producer = tokio::spawn(async move {
        let mut sent = Vec::new();
        for i in 0..3u8 {
            tx.send(Ok(Frame::data(Bytes::from(vec![i]))))
                .await
                .unwrap();
            sent.push(Instant::now());
        }
        sent
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let taken = Instant::now();
    for i in 0..3u8 {
        assert_eq!(next_data(&mut body).await, &[i][..]);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = producer.await.unwrap();
    assert!(
        sent[2] >= taken,
        "the third frame could only be sent once the reader took the first"
    );
}

#[tokio::test]
async fn an_error_after_the_prelude_becomes_error_trailers() {
    let (tx, response) = channel_response(StatusCode::OK);
    let mut body = HttpIntegrationBody::new(response).request_id("req-1");
    skip_prelude(&mut body).await;
    data(&tx, "partial").await;
    tx.send(Err(
        std::io::Error::other("broken pipe to the database").into()
    ))
    .await
    .unwrap();
    assert_eq!(next_data(&mut body).await, "partial");
    let (error_type, json) = decode_trailers(&next_trailers(&mut body).await);
    assert_eq!(error_type, "Runtime.StreamError");
    assert_eq!(
        json,
        serde_json::json!({
            "errorType": "Runtime.StreamError",
            "errorMessage": "broken pipe to the database",
        })
    );
    assert!(body.is_end_stream());
    assert!(next(&mut body).await.is_none());
}

#[tokio::test]
async fn a_panic_in_the_body_keeps_its_error_type() {
    let (tx, response) = channel_response(StatusCode::OK);
    let mut body = HttpIntegrationBody::new(response);
    skip_prelude(&mut body).await;
    tx.send(Err(Box::new(Error::panic("boom")))).await.unwrap();
    let (error_type, json) = decode_trailers(&next_trailers(&mut body).await);
    assert_eq!(error_type, "App.Panic");
    assert_eq!(json["errorType"], "App.Panic");
    assert_eq!(json["errorMessage"], "boom");
}

#[tokio::test]
async fn long_error_messages_are_cut() {
    let (tx, response) = channel_response(StatusCode::OK);
    let mut body = HttpIntegrationBody::new(response);
    skip_prelude(&mut body).await;
    let long = "é".repeat(5000);
    tx.send(Err(long.into())).await.unwrap();
    let (_, json) = decode_trailers(&next_trailers(&mut body).await);
    let message = json["errorMessage"].as_str().unwrap();
    assert!(message.len() <= 2048 + 3, "{}", message.len());
    assert!(message.ends_with("é..."));
}

#[tokio::test]
async fn an_empty_body_ends_right_after_the_separator() {
    for status in [204, 304, 302, 200] {
        let response = Response::builder()
            .status(status)
            .body(Body::empty())
            .unwrap();
        let mut body = HttpIntegrationBody::new(response);
        assert_eq!(
            next_data(&mut body).await,
            format!(r#"{{"statusCode":{status},"headers":{{}},"cookies":[]}}"#)
        );
        assert_eq!(next_data(&mut body).await, &PRELUDE_SEPARATOR[..]);
        assert!(body.is_end_stream(), "{status}: ends with the separator");
        assert!(next(&mut body).await.is_none());
    }
}

#[tokio::test]
async fn a_body_that_turns_out_empty_after_waiting_ends() {
    let (tx, response) = channel_response(StatusCode::OK);
    let mut body = HttpIntegrationBody::new(response);
    skip_prelude(&mut body).await;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(tx);
    });
    assert!(next(&mut body).await.is_none());
    assert!(body.is_end_stream());
}

#[tokio::test]
async fn a_body_still_running_at_the_deadline_ends_with_a_timeout_trailer() {
    let (tx, response) = channel_response(StatusCode::OK);
    let start = Instant::now();
    let mut body = HttpIntegrationBody::new(response).deadline(start + Duration::from_millis(80));
    skip_prelude(&mut body).await;
    data(&tx, "early").await;
    assert_eq!(next_data(&mut body).await, "early");
    let (error_type, json) = decode_trailers(&next_trailers(&mut body).await);
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(75), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert_eq!(error_type, "App.Timeout");
    assert_eq!(json["errorType"], "App.Timeout");
    assert!(json["errorMessage"].as_str().unwrap().contains("deadline"));
    assert!(body.is_end_stream());
    assert!(next(&mut body).await.is_none());
    assert!(
        tx.send(Ok(Frame::data(Bytes::from("late")))).await.is_err(),
        "the app's body was dropped"
    );
}

#[tokio::test]
async fn a_body_that_ends_in_time_ignores_the_deadline() {
    let response = Response::new(Body::from("done"));
    let mut body =
        HttpIntegrationBody::new(response).deadline(Instant::now() + Duration::from_millis(20));
    skip_prelude(&mut body).await;
    assert_eq!(next_data(&mut body).await, "done");
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert!(next(&mut body).await.is_none());
}

#[test]
fn handler_configuration() {
    assert_eq!(StreamHandler::default().margin(), DEFAULT_DEADLINE_MARGIN);
    assert_eq!(
        AwsStreamHandler::with_deadline_margin(Duration::from_secs(1)),
        StreamHandler::new().deadline_margin(Duration::from_secs(1))
    );
    fn is_handler<H: serverless_adapter_core::Handler>(_: H) {}
    is_handler(AwsStreamHandler);
    is_handler(StreamHandler::new());
}
