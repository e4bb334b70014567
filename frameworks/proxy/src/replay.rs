//! A request body that can be sent again after a failed attempt.
//!
//! The body streams through unchanged; each frame handed to the connection is also kept (a
//! `Bytes` clone: a reference count, no copy) until the app's response head arrives or the
//! kept frames pass [`REPLAY_LIMIT`]. The unsent rest of the body stays in the shared state,
//! not in the connection, so that after a failure the body can be rebuilt as "the frames
//! already sent, then the rest" — even when the failure came in the middle of it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use serverless_adapter_core::{Body, BoxError};

/// Most bytes kept for a replay; a larger body is not replayed. Lambda events are at most
/// 6 MB, so every body an event carries fits.
pub(crate) const REPLAY_LIMIT: usize = 8 * 1024 * 1024;

enum State {
    /// Frames are kept as they are sent.
    Recording,
    /// Too large, or the response arrived: nothing is kept any more.
    Off,
}

struct Shared {
    rest: Option<Body>,
    sent: Vec<Frame<Bytes>>,
    sent_bytes: usize,
    state: State,
    /// The rest of the body returned an error: a replay would fail the same way.
    failed: bool,
}

/// The handle kept by the sender, to stop recording or to rebuild the body.
pub(crate) struct Replay {
    shared: Arc<Mutex<Shared>>,
}

/// The body given to the connection.
pub(crate) struct RecordingBody {
    shared: Arc<Mutex<Shared>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wraps `body` for sending; the [`Replay`] can rebuild it after a failed attempt.
pub(crate) fn record(body: Body) -> (RecordingBody, Replay) {
    let shared = Arc::new(Mutex::new(Shared {
        rest: Some(body),
        sent: Vec::new(),
        sent_bytes: 0,
        state: State::Recording,
        failed: false,
    }));
    (
        RecordingBody {
            shared: shared.clone(),
        },
        Replay { shared },
    )
}

impl Replay {
    /// Stops recording and frees what was kept (the response has arrived: no replay now).
    pub(crate) fn stop(&self) {
        let mut shared = lock(&self.shared);
        shared.state = State::Off;
        shared.sent = Vec::new();
    }

    /// The whole body again (the frames already sent, then the unsent rest), or `None` when
    /// it cannot be rebuilt. Recording goes on in the new body, which this handle now follows.
    pub(crate) fn rebuild(&mut self) -> Option<RecordingBody> {
        let (sent, rest, size) = {
            let mut shared = lock(&self.shared);
            if matches!(shared.state, State::Off) || shared.failed {
                return None;
            }
            (
                std::mem::take(&mut shared.sent),
                shared.rest.take().unwrap_or_default(),
                shared.sent_bytes,
            )
        };
        let (body, replay) = record(Body::new(Replayed {
            frames: sent.into(),
            rest,
            size,
        }));
        self.shared = replay.shared;
        Some(body)
    }
}

impl http_body::Body for RecordingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut guard = lock(&self.shared);
        let shared = &mut *guard;
        let Some(rest) = shared.rest.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(rest).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if matches!(shared.state, State::Recording) {
                    let size = frame.data_ref().map_or(0, Bytes::len);
                    if shared.sent_bytes + size > REPLAY_LIMIT {
                        shared.state = State::Off;
                        shared.sent = Vec::new();
                    } else {
                        shared.sent_bytes += size;
                        shared.sent.push(clone_frame(frame));
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => shared.failed = true,
            Poll::Ready(None) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        lock(&self.shared)
            .rest
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        lock(&self.shared)
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

fn clone_frame(frame: &Frame<Bytes>) -> Frame<Bytes> {
    match (frame.data_ref(), frame.trailers_ref()) {
        (Some(data), _) => Frame::data(data.clone()),
        (None, Some(trailers)) => Frame::trailers(trailers.clone()),
        (None, None) => Frame::data(Bytes::new()),
    }
}

/// Frames already sent once, then the rest of the original body.
struct Replayed {
    frames: VecDeque<Frame<Bytes>>,
    rest: Body,
    size: usize,
}

impl http_body::Body for Replayed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(frame) = self.frames.pop_front() {
            let size = frame.data_ref().map_or(0, Bytes::len);
            self.size -= size;
            return Poll::Ready(Some(Ok(frame)));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let rest = self.rest.size_hint();
        let kept = self.size as u64;
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + kept);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + kept);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::{BodyExt, StreamBody};

    fn frames(parts: &[&'static str]) -> Body {
        let stream = futures_util::stream::iter(
            parts
                .iter()
                .map(|part| {
                    Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(part.as_bytes())))
                })
                .collect::<Vec<_>>(),
        );
        Body::new(StreamBody::new(stream))
    }

    #[tokio::test]
    async fn a_partly_sent_body_is_rebuilt_whole() {
        let (mut body, mut replay) = record(frames(&["ab", "cd", "ef"]));
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "ab");
        drop(body); // the connection failed and dropped its body
        let again = replay.rebuild().expect("replayable");
        let whole = again.collect().await.unwrap().to_bytes();
        assert_eq!(whole, "abcdef");
    }

    #[tokio::test]
    async fn a_fully_sent_body_is_rebuilt_and_can_be_rebuilt_again() {
        let (body, mut replay) = record(Body::from("payload"));
        assert_eq!(body.size_hint().exact(), Some(7));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "payload");
        let again = replay.rebuild().unwrap();
        assert_eq!(again.size_hint().exact(), Some(7));
        assert_eq!(again.collect().await.unwrap().to_bytes(), "payload");
        let third = replay.rebuild().unwrap();
        assert_eq!(third.collect().await.unwrap().to_bytes(), "payload");
    }

    #[tokio::test]
    async fn no_replay_after_the_response_or_past_the_limit() {
        let (body, mut replay) = record(Body::from("x"));
        replay.stop();
        assert_eq!(body.collect().await.unwrap().to_bytes(), "x");
        assert!(replay.rebuild().is_none());

        let big = Bytes::from(vec![7u8; REPLAY_LIMIT + 1]);
        let (body, mut replay) = record(Body::from(big));
        body.collect().await.unwrap();
        assert!(replay.rebuild().is_none());
    }

    #[tokio::test]
    async fn a_failed_body_is_not_replayed() {
        let stream = futures_util::stream::iter([
            Ok(Frame::data(Bytes::from("a"))),
            Err(std::io::Error::other("broken")),
        ]);
        let (body, mut replay) = record(Body::new(StreamBody::new(stream)));
        assert!(body.collect().await.is_err());
        assert!(replay.rebuild().is_none());
    }
}
