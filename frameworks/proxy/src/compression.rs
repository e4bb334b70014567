//! Response compression (`AWS_LWA_ENABLE_COMPRESSION=true`): gzip, Brotli or Zstandard,
//! negotiated from the request's `accept-encoding`, applied to the app's response body as it
//! streams.
//!
//! # When a response is compressed
//! All of these must hold:
//! - the client accepts one of `br`, `zstd`, `gzip` (or `x-gzip`) — see [`Encoding::negotiate`];
//! - the app's response has no `content-encoding` (the app compressed it itself, or chose not to)
//!   and no `content-range`, and its `cache-control` does not say `no-transform`;
//! - the status may carry a body (not `1xx`, `204`, `206` or `304`) and the request is not a
//!   `HEAD`;
//! - the content type is compressible ([`is_compressible`]): `text/*` (so `text/event-stream`
//!   too), JSON, JavaScript, XML, SVG, and a few other textual or uncompressed formats;
//! - the body is not tiny: a body whose known length (`content-length`, or the body's exact
//!   size) is under [`MIN_SIZE`] bytes is sent as is. A body of unknown length is compressed.
//!
//! A compressed response gets `content-encoding`, `vary: accept-encoding` (added to any `vary`
//! the app sent), loses `content-length` and `accept-ranges` (they described the uncompressed
//! bytes), and a strong `etag` becomes weak (the bytes differ, the meaning does not).
//!
//! # Streaming
//! The body is never collected: each frame of the app is fed to the encoder as it arrives, and
//! whenever the app has nothing more to give right now (its body is pending) the encoder is
//! flushed (gzip sync flush, Brotli flush, Zstandard block end) and what it produced is sent.
//! So a server-sent event reaches the client as soon as the app wrote it, compressed, while a
//! body the app writes in a burst is compressed in large pieces. The Lambda Web Adapter turns
//! compression off in `response_stream` mode; this module does not need to.
//!
//! # Levels
//! Tuned for latency: gzip level 6 (zlib's default), Brotli quality 4 with a 4 MiB window,
//! Zstandard level 3 (its default).

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING,
    CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, VARY,
};
use http::{Method, Response, StatusCode};
use http_body::{Frame, SizeHint};
use serverless_adapter_core::{Body, BoxError};

/// Bodies whose known length is below this many bytes are not compressed: the encoding's own
/// framing (gzip's header and trailer alone take 18 bytes) would make them larger.
pub const MIN_SIZE: u64 = 32;

/// Once the compressed output waiting to be sent reaches this size, it is sent without
/// waiting for the app to pause.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// The most input compressed in one poll before yielding to other tasks.
const INPUT_PER_POLL: usize = 1024 * 1024;

/// A content coding the proxy can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `br`, Brotli (RFC 7932).
    Brotli,
    /// `zstd`, Zstandard (RFC 8878).
    Zstd,
}

impl Encoding {
    /// Preference order when the client rates several codings equally: Brotli compresses text
    /// best, Zstandard is close and faster, gzip is understood everywhere.
    const PREFERENCE: [Encoding; 3] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

    /// The coding's name, as in `content-encoding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }

    /// The coding to answer with, given the request's `accept-encoding` values (all of them,
    /// when the header is repeated); `None` to send the body as is.
    ///
    /// Follows RFC 9110 §12.5.3: each coding's weight is its own `q` (1 when absent), else the
    /// weight of `*`, else 0 (not acceptable). The coding with the highest weight above 0
    /// wins, ties broken by `br`, `zstd`, `gzip`; no compression when `identity` is listed
    /// with a greater weight than that coding's. `x-gzip` counts as `gzip`; names are case-insensitive; a
    /// malformed weight makes its item ignored.
    pub fn negotiate<'a>(accept: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        // Weights in thousandths: q has at most three decimals.
        let mut weights: [Option<u16>; 3] = [None; 3];
        let mut identity = None;
        let mut any = None;
        for item in accept.into_iter().flat_map(|value| value.split(',')) {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let mut weight = Some(1000);
            for param in parts {
                if let Some((key, value)) = param.split_once('=') {
                    if key.trim().eq_ignore_ascii_case("q") {
                        weight = parse_q(value.trim());
                    }
                }
            }
            let Some(weight) = weight else { continue };
            let slot = match name.to_ascii_lowercase().as_str() {
                "gzip" | "x-gzip" => &mut weights[Self::index(Encoding::Gzip)],
                "br" => &mut weights[Self::index(Encoding::Brotli)],
                "zstd" => &mut weights[Self::index(Encoding::Zstd)],
                "identity" => &mut identity,
                "*" => &mut any,
                _ => continue,
            };
            // A coding listed twice keeps its highest weight.
            *slot = Some(slot.map_or(weight, |old: u16| old.max(weight)));
        }
        let mut best: Option<(Encoding, u16)> = None;
        for encoding in Self::PREFERENCE {
            let weight = weights[Self::index(encoding)].or(any).unwrap_or(0);
            if weight > 0 && best.is_none_or(|(_, top)| weight > top) {
                best = Some((encoding, weight));
            }
        }
        let (encoding, weight) = best?;
        (weight >= identity.unwrap_or(0)).then_some(encoding)
    }

    fn index(self) -> usize {
        match self {
            Encoding::Gzip => 0,
            Encoding::Brotli => 1,
            Encoding::Zstd => 2,
        }
    }
}

/// `q` as thousandths: `0` to `1` with at most three decimals; `None` when malformed.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = match whole {
        "0" => {
            let padded = format!("{fraction:0<3}");
            padded.parse::<u16>().ok()?
        }
        "1" if fraction.bytes().all(|b| b == b'0') => 1000,
        _ => return None,
    };
    Some(thousandths)
}

/// Whether a response of this `content-type` is worth compressing: `text/*`; JSON, XML and
/// their `+json`/`+xml` kinds (so `image/svg+xml` too); JavaScript and ECMAScript;
/// `application/x-ndjson`, `application/x-www-form-urlencoded`, `application/wasm`,
/// `application/graphql`, `application/x-yaml`/`application/yaml`, `application/toml`,
/// `application/rtf`, `application/x-sh`, `application/vnd.ms-fontobject`, and uncompressed font
/// formats (`font/ttf`, `font/otf`, `application/x-font-ttf`). Images, audio, video, archives
/// and `font/woff`/`woff2` are already compressed; unknown types are left alone.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    if kind == "text" {
        return true;
    }
    if subtype.ends_with("+json") || subtype.ends_with("+xml") {
        return true;
    }
    match kind {
        "application" => matches!(
            subtype,
            "json"
                | "xml"
                | "javascript"
                | "x-javascript"
                | "ecmascript"
                | "x-ndjson"
                | "ndjson"
                | "x-www-form-urlencoded"
                | "wasm"
                | "graphql"
                | "yaml"
                | "x-yaml"
                | "toml"
                | "rtf"
                | "x-sh"
                | "vnd.ms-fontobject"
                | "x-font-ttf"
                | "x-font-otf"
        ),
        "font" => matches!(subtype, "ttf" | "otf" | "sfnt"),
        _ => false,
    }
}

/// What the proxy remembers of a request to decide on compressing its response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated {
    encoding: Option<Encoding>,
    head: bool,
}

impl Negotiated {
    /// Reads the request's method and `accept-encoding`.
    pub(crate) fn from_request(method: &Method, headers: &HeaderMap) -> Self {
        let accept = headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok());
        Self {
            encoding: Encoding::negotiate(accept),
            head: method == Method::HEAD,
        }
    }
}

/// Compresses `response` when [the rules](self) allow it; returns it unchanged otherwise.
pub(crate) fn compress(negotiated: Negotiated, response: Response<Body>) -> Response<Body> {
    let Some(encoding) = negotiated.encoding else {
        return response;
    };
    if negotiated.head || !should_compress(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let headers = &mut parts.headers;
    headers.insert(
        CONTENT_ENCODING,
        HeaderValue::from_static(encoding.as_str()),
    );
    headers.remove(CONTENT_LENGTH);
    headers.remove(ACCEPT_RANGES);
    add_vary(headers);
    weaken_etag(headers);
    let body = CompressedBody::new(body, Encoder::new(encoding));
    Response::from_parts(parts, Body::new(body))
}

fn should_compress(response: &Response<Body>) -> bool {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return false;
    }
    let headers = response.headers();
    if headers.contains_key(CONTENT_ENCODING) || headers.contains_key(CONTENT_RANGE) {
        return false;
    }
    let no_transform = headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-transform"))
        })
    });
    if no_transform {
        return false;
    }
    let compressible = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_compressible);
    if !compressible {
        return false;
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let known = declared.or_else(|| http_body::Body::size_hint(response.body()).exact());
    known.is_none_or(|length| length >= MIN_SIZE)
}

fn add_vary(headers: &mut HeaderMap) {
    let covered = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(',').any(|name| {
                let name = name.trim();
                name == "*" || name.eq_ignore_ascii_case("accept-encoding")
            })
        })
    });
    if !covered {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn weaken_etag(headers: &mut HeaderMap) {
    let Some(etag) = headers.get(ETAG) else {
        return;
    };
    let bytes = etag.as_bytes();
    if bytes.starts_with(b"\"") {
        let mut weak = Vec::with_capacity(bytes.len() + 2);
        weak.extend_from_slice(b"W/");
        weak.extend_from_slice(bytes);
        if let Ok(value) = HeaderValue::from_bytes(&weak) {
            headers.insert(ETAG, value);
        }
    }
}

/// A streaming encoder writing into a buffer the body drains.
enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// Finished (or failed): nothing more is written.
    Done,
}

impl Encoder {
    fn new(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(6),
            )),
            Encoding::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                16 * 1024,
                4,
                22,
            ))),
            Encoding::Zstd => match zstd::stream::write::Encoder::new(Vec::new(), 3) {
                Ok(encoder) => Encoder::Zstd(encoder),
                // Only an allocation failure in the C library gets here: fall back to gzip.
                Err(error) => {
                    tracing::warn!(error = %error, "cannot start a zstd encoder; using gzip");
                    Self::new(Encoding::Gzip)
                }
            },
        }
    }

    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Encoder::Gzip(encoder) => encoder.write_all(data),
            Encoder::Brotli(encoder) => encoder.write_all(data),
            Encoder::Zstd(encoder) => encoder.write_all(data),
            Encoder::Done => Ok(()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Gzip(encoder) => encoder.flush(),
            Encoder::Brotli(encoder) => encoder.flush(),
            Encoder::Zstd(encoder) => encoder.flush(),
            Encoder::Done => Ok(()),
        }
    }

    /// The compressed bytes produced so far and not taken yet.
    fn take(&mut self) -> Vec<u8> {
        match self {
            Encoder::Gzip(encoder) => std::mem::take(encoder.get_mut()),
            Encoder::Brotli(encoder) => std::mem::take(encoder.get_mut()),
            Encoder::Zstd(encoder) => std::mem::take(encoder.get_mut()),
            Encoder::Done => Vec::new(),
        }
    }

    fn pending_len(&self) -> usize {
        match self {
            Encoder::Gzip(encoder) => encoder.get_ref().len(),
            Encoder::Brotli(encoder) => encoder.get_ref().len(),
            Encoder::Zstd(encoder) => encoder.get_ref().len(),
            Encoder::Done => 0,
        }
    }

    /// Ends the stream: the last compressed bytes (with the format's trailer).
    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        match std::mem::replace(self, Encoder::Done) {
            Encoder::Gzip(encoder) => encoder.finish(),
            Encoder::Brotli(encoder) => Ok(encoder.into_inner()),
            Encoder::Zstd(encoder) => encoder.finish(),
            Encoder::Done => Ok(Vec::new()),
        }
    }
}

/// What the body sends after the compressed data it is about to send.
enum After {
    /// Keep reading the app's body.
    Read,
    /// Send this frame (the app's trailers), then end.
    Trailers(HeaderMap),
    /// Fail with this error.
    Fail(BoxError),
    /// End.
    End,
}

pin_project_lite::pin_project! {
    /// The app's body, compressed frame by frame and flushed whenever the app pauses.
    struct CompressedBody {
        #[pin]
        inner: Body,
        encoder: Encoder,
        // Data written since the last flush.
        dirty: bool,
        after: After,
    }
}

impl CompressedBody {
    fn new(inner: Body, encoder: Encoder) -> Self {
        Self {
            inner,
            encoder,
            dirty: false,
            after: After::Read,
        }
    }
}

fn compression_error(error: std::io::Error) -> BoxError {
    Box::new(serverless_adapter_core::Error::app(format!(
        "compressing the response failed: {error}"
    )))
}

impl http_body::Body for CompressedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        match std::mem::replace(this.after, After::Read) {
            After::Read => {}
            After::Trailers(trailers) => {
                *this.after = After::End;
                return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
            }
            After::Fail(error) => {
                *this.after = After::End;
                return Poll::Ready(Some(Err(error)));
            }
            After::End => {
                *this.after = After::End;
                return Poll::Ready(None);
            }
        }
        let mut read = 0;
        loop {
            match this.inner.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        read += data.len();
                        if let Err(error) = this.encoder.write(&data) {
                            *this.after = After::End;
                            this.encoder.finish().ok();
                            return Poll::Ready(Some(Err(compression_error(error))));
                        }
                        *this.dirty = true;
                        if this.encoder.pending_len() >= OUTPUT_CHUNK {
                            return Poll::Ready(Some(Ok(Frame::data(this.encoder.take().into()))));
                        }
                        if read >= INPUT_PER_POLL {
                            // Let other tasks run; come back at once.
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                    }
                    Err(frame) => {
                        let last = this.encoder.finish();
                        *this.after = match frame.into_trailers() {
                            Ok(trailers) => After::Trailers(trailers),
                            Err(_) => After::End,
                        };
                        return finished(last, this.after);
                    }
                },
                Poll::Ready(Some(Err(error))) => {
                    // What was compressed so far is sent, then the app's error: a streamed
                    // answer shows the client every byte the app managed to write.
                    let flushed = this.encoder.flush().map(|()| this.encoder.take());
                    this.encoder.finish().ok();
                    *this.after = After::Fail(error);
                    return finished(flushed, this.after);
                }
                Poll::Ready(None) => {
                    let last = this.encoder.finish();
                    *this.after = After::End;
                    return finished(last, this.after);
                }
                Poll::Pending => {
                    if *this.dirty {
                        *this.dirty = false;
                        if let Err(error) = this.encoder.flush() {
                            *this.after = After::End;
                            this.encoder.finish().ok();
                            return Poll::Ready(Some(Err(compression_error(error))));
                        }
                    }
                    let output = this.encoder.take();
                    if output.is_empty() {
                        return Poll::Pending;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(output.into()))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.after, After::End)
    }

    fn size_hint(&self) -> SizeHint {
        if self.is_end_stream() {
            SizeHint::with_exact(0)
        } else {
            SizeHint::default()
        }
    }
}

/// The last compressed bytes, then what `after` holds; an encoder error replaces both.
fn finished(
    last: std::io::Result<Vec<u8>>,
    after: &mut After,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    match last {
        Ok(bytes) if !bytes.is_empty() => Poll::Ready(Some(Ok(Frame::data(bytes.into())))),
        Ok(_) => match std::mem::replace(after, After::End) {
            After::Trailers(trailers) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            After::Fail(error) => Poll::Ready(Some(Err(error))),
            After::Read | After::End => Poll::Ready(None),
        },
        Err(error) => {
            *after = After::End;
            Poll::Ready(Some(Err(compression_error(error))))
        }
    }
}

#[cfg(test)]
mod tests;
