use std::io::Write as _;

use http_body::Body as _;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::*;

#[test]
fn negotiation_follows_the_weights() {
    let pick = |accept: &str| Encoding::negotiate([accept]);
    assert_eq!(pick("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
    assert_eq!(pick("gzip, zstd"), Some(Encoding::Zstd));
    assert_eq!(pick("gzip"), Some(Encoding::Gzip));
    assert_eq!(pick("x-gzip"), Some(Encoding::Gzip));
    assert_eq!(pick("GZIP;Q=0.5"), Some(Encoding::Gzip));
    assert_eq!(pick("br;q=0.2, gzip;q=0.8"), Some(Encoding::Gzip));
    assert_eq!(pick("br;q=0, gzip"), Some(Encoding::Gzip));
    assert_eq!(pick("br;q=0, gzip;q=0, zstd;q=0"), None);
    assert_eq!(pick("deflate"), None);
    assert_eq!(pick(""), None);
    assert_eq!(pick("identity"), None);
    assert_eq!(pick("*"), Some(Encoding::Brotli));
    assert_eq!(pick("*;q=0.5, br;q=0"), Some(Encoding::Zstd));
    assert_eq!(
        pick("gzip;q=0.5, identity;q=1"),
        None,
        "identity weighs more"
    );
    assert_eq!(pick("gzip;q=0.5, *;q=0"), Some(Encoding::Gzip));
    assert_eq!(pick("gzip, identity;q=0"), Some(Encoding::Gzip));
    // Malformed weights make the item ignored.
    assert_eq!(pick("br;q=2, gzip"), Some(Encoding::Gzip));
    assert_eq!(pick("br;q=0.1234, gzip;q=abc"), None);
    assert_eq!(pick("br;q=0.001"), Some(Encoding::Brotli));
    assert_eq!(pick("br;q=1.000"), Some(Encoding::Brotli));
    // Repeated headers are read together.
    assert_eq!(
        Encoding::negotiate(["gzip;q=0.1", "zstd;q=0.9"]),
        Some(Encoding::Zstd)
    );
}

#[test]
fn compressible_content_types() {
    for yes in [
        "text/plain",
        "text/html; charset=utf-8",
        "TEXT/EVENT-STREAM",
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/xml",
        "application/atom+xml",
        "image/svg+xml",
        "application/x-ndjson",
        "font/ttf",
        "application/wasm",
    ] {
        assert!(is_compressible(yes), "{yes}");
    }
    for no in [
        "application/octet-stream",
        "image/png",
        "video/mp4",
        "application/zip",
        "application/gzip",
        "font/woff2",
        "",
        "json",
    ] {
        assert!(!is_compressible(no), "{no}");
    }
}

fn negotiated(accept: &str) -> Negotiated {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
    Negotiated::from_request(&Method::GET, &headers)
}

fn response(content_type: &str, body: &'static str) -> http::response::Builder {
    let _ = body;
    Response::builder()
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, body.len())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut decoder = flate2::write::GzDecoder::new(Vec::new());
            decoder.write_all(bytes).unwrap();
            decoder.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
            out
        }
        "zstd" => zstd::stream::decode_all(bytes).unwrap(),
        other => panic!("unexpected encoding {other}"),
    }
}

const TEXT: &str = "hello hello hello hello hello hello hello hello hello hello";

#[tokio::test]
async fn buffered_bodies_round_trip_with_fixed_headers() {
    for (accept, name) in [("br", "br"), ("zstd", "zstd"), ("gzip", "gzip")] {
        let answer = response("text/plain", TEXT)
            .header(VARY, "origin")
            .header(ETAG, "\"v1\"")
            .header(ACCEPT_RANGES, "bytes")
            .body(Body::from(TEXT))
            .unwrap();
        let answer = compress(negotiated(accept), answer);
        let headers = answer.headers();
        assert_eq!(headers[CONTENT_ENCODING], name);
        assert!(!headers.contains_key(CONTENT_LENGTH));
        assert!(!headers.contains_key(ACCEPT_RANGES));
        assert_eq!(headers[ETAG], "W/\"v1\"");
        let vary: Vec<_> = headers.get_all(VARY).iter().collect();
        assert_eq!(vary, ["origin", "accept-encoding"]);
        let bytes = answer.into_body().collect().await.unwrap().to_bytes();
        assert!(bytes.len() < TEXT.len(), "{name}: {} bytes", bytes.len());
        assert_eq!(decode(name, &bytes), TEXT.as_bytes(), "{name}");
    }
}

#[tokio::test]
async fn responses_that_must_stay_as_they_are() {
    let unchanged = |answer: Response<Body>, accept: &str| {
        let negotiated = negotiated(accept);
        let answer = compress(negotiated, answer);
        !answer.headers().contains_key(CONTENT_ENCODING)
            || answer.headers()[CONTENT_ENCODING] == "identity-by-app"
    };
    let ok = || response("text/plain", TEXT);
    assert!(unchanged(ok().body(Body::from(TEXT)).unwrap(), "deflate"));
    assert!(unchanged(ok().body(Body::from(TEXT)).unwrap(), "identity"));
    assert!(unchanged(
        response("application/octet-stream", TEXT)
            .body(Body::from(TEXT))
            .unwrap(),
        "gzip"
    ));
    assert!(unchanged(
        Response::builder().body(Body::from(TEXT)).unwrap(),
        "gzip"
    ));
    assert!(unchanged(
        response("text/plain", "tiny")
            .body(Body::from("tiny"))
            .unwrap(),
        "gzip"
    ));
    // No content-length, but an exact size under the minimum.
    assert!(unchanged(
        Response::builder()
            .header(CONTENT_TYPE, "text/plain")
            .body(Body::from("tiny"))
            .unwrap(),
        "gzip"
    ));
    assert!(unchanged(
        ok().header(CONTENT_ENCODING, "identity-by-app")
            .body(Body::from(TEXT))
            .unwrap(),
        "gzip"
    ));
    assert!(unchanged(
        ok().header(CACHE_CONTROL, "public, No-Transform")
            .body(Body::from(TEXT))
            .unwrap(),
        "gzip"
    ));
    for status in [204, 206, 304] {
        assert!(unchanged(
            ok().status(status).body(Body::from(TEXT)).unwrap(),
            "gzip"
        ));
    }
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    let head = Negotiated::from_request(&Method::HEAD, &headers);
    let answer = compress(head, ok().body(Body::empty()).unwrap());
    assert!(!answer.headers().contains_key(CONTENT_ENCODING));
    // An app's vary: * already covers accept-encoding.
    let answer = compress(
        negotiated("gzip"),
        ok().header(VARY, "*").body(Body::from(TEXT)).unwrap(),
    );
    assert_eq!(answer.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(answer.headers().get_all(VARY).iter().count(), 1);
}

/// A body fed by the test through a channel.
struct ChannelBody(mpsc::UnboundedReceiver<Result<Frame<Bytes>, BoxError>>);

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

/// An incremental decoder: bytes in, everything decodable so far out.
enum Decoder {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

impl Decoder {
    fn new(name: &str) -> Self {
        match name {
            "gzip" => Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            "br" => Decoder::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096))),
            _ => Decoder::Zstd(zstd::stream::write::Decoder::new(Vec::new()).unwrap()),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Decoder::Gzip(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref().clone()
            }
            Decoder::Brotli(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref().clone()
            }
            Decoder::Zstd(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref().clone()
            }
        }
    }
}

async fn next_data(body: &mut Body) -> Bytes {
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
        .await
        .expect("a compressed frame comes while the app pauses")
        .expect("the body goes on")
        .expect("no error");
    frame.into_data().expect("a data frame")
}

#[tokio::test]
async fn every_chunk_is_flushed_while_the_app_pauses() {
    for name in ["br", "zstd", "gzip"] {
        let (tx, rx) = mpsc::unbounded_channel();
        let answer = Response::builder()
            .header(CONTENT_TYPE, "text/event-stream")
            .body(Body::new(ChannelBody(rx)))
            .unwrap();
        let answer = compress(negotiated(name), answer);
        assert_eq!(answer.headers()[CONTENT_ENCODING], name);
        let mut body = answer.into_body();
        let mut decoder = Decoder::new(name);
        let mut expected = Vec::new();
        for i in 0..4 {
            let event = format!("data: {i} some padding padding padding\n\n");
            expected.extend_from_slice(event.as_bytes());
            tx.send(Ok(Frame::data(Bytes::from(event)))).unwrap();
            // The app pauses here: the event must come out whole, decodable now.
            let mut decoded = Vec::new();
            while decoded.len() < expected.len() {
                decoded = decoder.feed(&next_data(&mut body).await);
            }
            assert_eq!(decoded, expected, "{name}: event {i}");
        }
        let mut trailers = HeaderMap::new();
        trailers.insert("x-done", HeaderValue::from_static("yes"));
        tx.send(Ok(Frame::trailers(trailers))).unwrap();
        drop(tx);
        let mut rest = Vec::new();
        let mut seen_trailers = None;
        while let Some(frame) = body.frame().await {
            match frame.unwrap().into_data() {
                Ok(data) => rest.extend_from_slice(&data),
                Err(frame) => seen_trailers = frame.into_trailers().ok(),
            }
        }
        assert!(body.is_end_stream());
        assert_eq!(
            decoder.feed(&rest),
            expected,
            "{name}: the stream ends cleanly"
        );
        assert_eq!(seen_trailers.unwrap()["x-done"], "yes", "{name}");
    }
}

#[tokio::test]
async fn an_app_error_comes_after_the_compressed_bytes() {
    let (tx, rx) = mpsc::unbounded_channel();
    let answer = Response::builder()
        .header(CONTENT_TYPE, "text/plain")
        .body(Body::new(ChannelBody(rx)))
        .unwrap();
    let mut body = compress(negotiated("gzip"), answer).into_body();
    tx.send(Ok(Frame::data(Bytes::from_static(b"partial"))))
        .unwrap();
    tx.send(Err("the app failed".into())).unwrap();
    let data = next_data(&mut body).await;
    let mut decoder = Decoder::new("gzip");
    assert_eq!(decoder.feed(&data), b"partial");
    let error = body.frame().await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "the app failed");
    assert!(body.frame().await.is_none());
}

#[tokio::test]
async fn large_bursts_are_compressed_in_pieces() {
    // 4 MiB in 64 KiB frames, all ready at once: output comes in several frames, and the
    // whole decodes back to the input.
    let mut state = 0x2545_f491_u32;
    let mut random_letters = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                b'a' + (state % 26) as u8
            })
            .collect()
    };
    let chunks: Vec<Vec<u8>> = (0..64).map(|_| random_letters(64 * 1024)).collect();
    let (tx, rx) = mpsc::unbounded_channel();
    for chunk in &chunks {
        tx.send(Ok(Frame::data(Bytes::from(chunk.clone()))))
            .unwrap();
    }
    drop(tx);
    let answer = Response::builder()
        .header(CONTENT_TYPE, "application/json")
        .body(Body::new(ChannelBody(rx)))
        .unwrap();
    let mut body = compress(negotiated("zstd"), answer).into_body();
    let mut frames = 0;
    let mut all = Vec::new();
    while let Some(frame) = body.frame().await {
        all.extend_from_slice(&frame.unwrap().into_data().unwrap());
        frames += 1;
    }
    let decoded = decode("zstd", &all);
    assert_eq!(decoded, chunks.concat());
    assert!(frames > 1, "{frames} frames");
}
