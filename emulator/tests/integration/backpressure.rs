//! Back-pressure: a streamed answer moves at the pace of whoever reads it. While a Function
//! URL client (or an `InvocationStream`) does not read, the emulator stops reading the
//! function's answer, so the function's writes block instead of the emulator holding the
//! stream in memory.
//!
//! No timing thresholds: the function's progress is measured in bytes, after it stalled.

use crate::common;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Rt, HTTP_CT, LIMIT, NULS};
use http::Request;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serverless_adapter_emulator::{Emulator, StreamEvent, STREAM_BUFFER};
use tokio::net::TcpSocket;
use tokio::time::timeout;

/// The streamed body size.
const TOTAL: usize = 20 * 1024 * 1024;
/// The size of each frame the function writes.
const FRAME: usize = 64 * 1024;
/// What the reader reads before it pauses.
const READ_FIRST: usize = 1024 * 1024;
/// The socket buffer size the test's own sockets ask for (the function's send buffer, the
/// client's receive buffer), as the emulator does for its side (Linux doubles it).
const SOCKET_BUFFER: u32 = 256 * 1024;
/// The most the function may have written while the reader has read `READ_FIRST`: the
/// emulator's stream buffer (1 MiB), four socket buffers of 512 KiB, hyper's read and write
/// buffers (about 400 KiB each) — about 4.6 MiB — with room to spare. Without back-pressure
/// the function writes all of `TOTAL` at once.
const WRITTEN_BOUND: usize = 8 * 1024 * 1024;
const _: () = assert!(STREAM_BUFFER + READ_FIRST < WRITTEN_BOUND);

/// Byte `i` of the streamed body.
fn byte_at(i: usize) -> u8 {
    (i % 251) as u8
}

/// A streamed HTTP answer as fast as the connection takes it: the prelude, 8 NULs, then
/// `TOTAL` bytes in `FRAME`-sized frames. `taken` counts the body bytes handed to the HTTP
/// client (which writes them to the socket as it takes them).
struct Producer {
    step: u8,
    produced: usize,
    taken: Arc<AtomicUsize>,
}

impl Body for Producer {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let frame = match self.step {
            0 => {
                self.step = 1;
                common::prelude(
                    200,
                    serde_json::json!({"content-type": "application/octet-stream"}),
                    serde_json::json!([]),
                )
            }
            1 => {
                self.step = 2;
                Bytes::from_static(NULS)
            }
            _ if self.produced >= TOTAL => return Poll::Ready(None),
            _ => {
                let start = self.produced;
                let n = FRAME.min(TOTAL - start);
                let data: Vec<u8> = (start..start + n).map(byte_at).collect();
                self.produced += n;
                self.taken.fetch_add(n, Ordering::SeqCst);
                Bytes::from(data)
            }
        };
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }
}

/// An HTTP/1.1 connection from a socket with a fixed receive or send buffer.
async fn connect<B>(
    addr: SocketAddr,
    recv_buffer: Option<u32>,
    send_buffer: Option<u32>,
) -> hyper::client::conn::http1::SendRequest<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size).unwrap();
    }
    let stream = socket.connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// Plays the function: takes one event and streams `TOTAL` bytes as fast as its socket
/// takes them, echoing the invocation id. Resolves to the status of its `/response` POST.
fn spawn_function(emu: &Emulator, taken: Arc<AtomicUsize>) -> tokio::task::JoinHandle<u16> {
    let rt = Rt::new(emu.runtime_api());
    let addr = emu.runtime_api_addr();
    tokio::spawn(async move {
        let next = rt.next().await;
        let body = Producer {
            step: 0,
            produced: 0,
            taken,
        };
        let req = Request::post(format!(
            "/2018-06-01/runtime/invocation/{}/response",
            next.id
        ))
        .header("host", addr.to_string())
        .header("lambda-runtime-function-response-mode", "streaming")
        .header("lambda-runtime-invocation-id", next.invocation_id.unwrap())
        .header("content-type", HTTP_CT)
        .header("transfer-encoding", "chunked")
        .body(body)
        .unwrap();
        let mut sender = connect(addr, None, Some(SOCKET_BUFFER)).await;
        let resp = sender.send_request(req).await.unwrap();
        resp.status().as_u16()
    })
}

/// A Function URL client with a small receive buffer: `GET path`, the body not read yet.
async fn url_get(emu: &Emulator, path: &str) -> http::Response<hyper::body::Incoming> {
    let addr = emu.function_url_addr();
    let mut sender = connect(addr, Some(SOCKET_BUFFER), None).await;
    let req = Request::get(path)
        .header("host", addr.to_string())
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    sender.send_request(req).await.unwrap()
}

/// The next data frame of a response body (`None` at its end).
async fn data(body: &mut hyper::body::Incoming) -> Option<Bytes> {
    loop {
        let frame = body.frame().await?.unwrap();
        if let Ok(data) = frame.into_data() {
            return Some(data);
        }
    }
}

/// Waits until the function has stopped making progress (nothing more taken for 300 ms,
/// at most 10 s), and returns how much it has written.
async fn stalled(taken: &AtomicUsize) -> usize {
    let give_up = Instant::now() + Duration::from_secs(10);
    let mut last = taken.load(Ordering::SeqCst);
    let mut still_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = taken.load(Ordering::SeqCst);
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= Duration::from_millis(300) || Instant::now() > give_up {
            return now;
        }
    }
}

/// Checks a piece of the body that starts at `offset`.
fn check(offset: usize, data: &[u8]) {
    for (k, b) in data.iter().enumerate() {
        assert_eq!(*b, byte_at(offset + k), "byte {}", offset + k);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_function_url_client_slows_the_function_down() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let function = spawn_function(&emu, taken.clone());

        let resp = url_get(&emu, "/big").await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/octet-stream");
        let mut body = resp.into_body();
        // Read slowly: a chunk, then a pause, until 1 MiB has been read.
        let mut read = 0;
        while read < READ_FIRST {
            let chunk = data(&mut body).await.expect("more body");
            check(read, &chunk);
            read += chunk.len();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Stop reading: the function must stall well before it has written everything.
        let written = stalled(&taken).await;
        assert!(
            written < WRITTEN_BOUND,
            "the function wrote {written} bytes while the client had read {read}"
        );
        assert!(!function.is_finished());

        // Read the rest: every byte arrives, in order, and the function's POST succeeds.
        while let Some(chunk) = data(&mut body).await {
            check(read, &chunk);
            read += chunk.len();
        }
        assert_eq!(read, TOTAL);
        assert_eq!(taken.load(Ordering::SeqCst), TOTAL);
        assert_eq!(function.await.unwrap(), 202);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_invoke_stream_reader_slows_the_function_down() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let function = spawn_function(&emu, taken.clone());

        let mut stream = emu.invoke_stream(r#"{"action":"big"}"#).unwrap();
        match stream.next_event().await.unwrap() {
            StreamEvent::StreamStarted { prelude, .. } => {
                assert_eq!(prelude.unwrap().status_code, 200)
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut read = 0;
        let mut chunks = 0usize;
        let mut last_at: Option<Instant> = None;
        while read < READ_FIRST {
            match stream.next_event().await.unwrap() {
                StreamEvent::Chunk(at, data) => {
                    check(read, &data);
                    read += data.len();
                    chunks += 1;
                    // Timing info: each chunk is stamped when it was passed on, in order.
                    assert!(last_at.is_none_or(|last| at >= last));
                    last_at = Some(at);
                }
                other => panic!("unexpected {other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(chunks >= 2);
        let written = stalled(&taken).await;
        assert!(
            written < WRITTEN_BOUND,
            "the function wrote {written} bytes while the reader had taken {read}"
        );

        loop {
            match stream.next_event().await.unwrap() {
                StreamEvent::Chunk(_, data) => {
                    check(read, &data);
                    read += data.len();
                }
                StreamEvent::End { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(read, TOTAL);
        assert!(stream.next_event().await.is_none());
        assert_eq!(function.await.unwrap(), 202);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_does_not_block_the_function() {
    timeout(LIMIT, async {
        let emu = Emulator::builder().quiet(true).start().await.unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let function = spawn_function(&emu, taken.clone());
        let mut stream = emu.invoke_stream(r#"{"action":"big"}"#).unwrap();
        // Take the start, then drop the stream: the rest is read and discarded.
        assert!(matches!(
            stream.next_event().await,
            Some(StreamEvent::StreamStarted { .. })
        ));
        drop(stream);
        assert_eq!(function.await.unwrap(), 202);
        assert_eq!(taken.load(Ordering::SeqCst), TOTAL);

        // A Function URL client that disconnects mid-stream: the same.
        let taken = Arc::new(AtomicUsize::new(0));
        let function = spawn_function(&emu, taken.clone());
        let mut resp = emu
            .request(Request::get("/big").body(Bytes::new()).unwrap())
            .await
            .unwrap();
        resp.chunk().await.unwrap().unwrap();
        drop(resp);
        assert_eq!(function.await.unwrap(), 202);
        assert_eq!(taken.load(Ordering::SeqCst), TOTAL);
        emu.shutdown().await.unwrap();
    })
    .await
    .unwrap();
}
