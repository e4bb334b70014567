//! Bodies crossing between the caller's threads and an actix worker.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_http::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;
use http_body::{Body as _, Frame, SizeHint};
use serverless_adapter_core::{Body, BoxError};
use tokio::sync::mpsc;

use crate::worker::Failure;

/// A request body read by the app as its actix payload: the frames are polled on the worker,
/// as the app reads them; trailers are skipped (actix has no place for them).
pub(crate) struct PayloadStream(pub(crate) Body);

impl Stream for PayloadStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match ready!(Pin::new(&mut self.0).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => Poll::Ready(Some(Ok(data))),
                    // Empty frames and trailers.
                    _ => continue,
                },
                Some(Err(error)) => {
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::other(error)))))
                }
                None => Poll::Ready(None),
            };
        }
    }
}

/// What a worker sends for a response body.
pub(crate) enum Chunk {
    /// The next bytes.
    Data(Bytes),
    /// The body ended well.
    End,
    /// The body failed, or panicked.
    Failed(Failure),
}

/// A response body produced on a worker, received over a bounded channel.
pub(crate) struct ChannelBody {
    frames: mpsc::Receiver<Chunk>,
    /// Bytes still to come, when the app told the body's size.
    remaining: Option<u64>,
    done: bool,
}

impl ChannelBody {
    pub(crate) fn new(frames: mpsc::Receiver<Chunk>, exact: Option<u64>) -> Self {
        Self {
            frames,
            remaining: exact,
            done: false,
        }
    }
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let chunk = ready!(self.frames.poll_recv(cx));
        if !matches!(chunk, Some(Chunk::Data(_))) {
            self.done = true;
            // Let the worker's pump stop at once.
            self.frames.close();
        }
        Poll::Ready(match chunk {
            Some(Chunk::Data(bytes)) => {
                if let Some(remaining) = &mut self.remaining {
                    *remaining = remaining.saturating_sub(bytes.len() as u64);
                }
                Some(Ok(Frame::data(bytes)))
            }
            Some(Chunk::End) => None,
            Some(Chunk::Failed(Failure::Error(error))) => Some(Err(error)),
            // Resumed here, as if the app's body had been polled by the caller: core's
            // `serve_guarded` turns it into an `App.Panic` error frame.
            Some(Chunk::Failed(Failure::Panic(payload))) => std::panic::resume_unwind(payload),
            None => Some(Err(
                "the actix worker stopped (it panicked or was shut down) before the response body was complete".into(),
            )),
        })
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(remaining) if !self.done => SizeHint::with_exact(remaining),
            _ if self.done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
