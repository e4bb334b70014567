//! A small HTTP/1.1 client for the front doors (Function URLs), recording when each body frame
//! arrived and whether the body ended cleanly.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A response read frame by frame.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// When the request was sent.
    pub sent: Instant,
    /// The body's frames with their arrival times.
    pub frames: Vec<(Instant, Bytes)>,
    /// The body's error, if it ended abnormally.
    pub error: Option<String>,
}

impl Reply {
    /// The whole body.
    pub fn body(&self) -> Vec<u8> {
        self.frames
            .iter()
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }

    /// The body as JSON; panics otherwise.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body())
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", self.text()))
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// When each server-sent event of the body (each `\n\n`-terminated block) had fully
    /// arrived: the arrival time of the frame that completed it.
    pub fn event_arrivals(&self) -> Vec<Instant> {
        let mut arrivals = Vec::new();
        for (at, data) in &self.frames {
            for _ in 0..data.windows(2).filter(|w| w == b"\n\n").count() {
                arrivals.push(*at);
            }
        }
        arrivals
    }

    /// Asserts that the body holds `events` server-sent events, each arriving at least `gap`
    /// after the one before: streamed as produced, not held back on the way.
    pub fn assert_events_spread(&self, events: usize, gap: Duration) {
        let arrivals = self.event_arrivals();
        assert_eq!(arrivals.len(), events, "events in {:?}", self.text());
        for pair in arrivals.windows(2) {
            let spacing = pair[1].duration_since(pair[0]);
            assert!(
                spacing >= gap,
                "events arrived {spacing:?} apart, expected at least {gap:?}"
            );
        }
    }
}

/// How fast to read a body.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// As fast as frames come.
    Full,
    /// Pause this long after every frame.
    Slow(Duration),
}

/// Sends `request` and reads the whole answer at `pace`, calling `progress` with the bytes read
/// so far after each frame.
pub async fn send(
    request: http::Request<Bytes>,
    pace: Pace,
    mut progress: impl FnMut(usize),
) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let sent = Instant::now();
    let request = request.map(Full::new);
    let response = tokio::time::timeout(crate::LIMIT, client.request(request))
        .await
        .expect("answered within the liveness limit")
        .expect("the request succeeds");
    let (head, mut body) = response.into_parts();
    let mut frames = Vec::new();
    let mut error = None;
    let mut read = 0usize;
    loop {
        match tokio::time::timeout(crate::LIMIT, body.frame())
            .await
            .expect("each frame within the liveness limit")
        {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        read += data.len();
                        frames.push((Instant::now(), data));
                        progress(read);
                        if let Pace::Slow(pause) = pace {
                            tokio::time::sleep(pause).await;
                        }
                    }
                }
            }
            Some(Err(err)) => {
                error = Some(err.to_string());
                break;
            }
        }
    }
    Reply {
        status: head.status.as_u16(),
        headers: head.headers,
        sent,
        frames,
        error,
    }
}

/// `GET url`, read as fast as it comes.
pub async fn get(url: &str) -> Reply {
    send(
        http::Request::get(url)
            .body(Bytes::new())
            .expect("a valid request"),
        Pace::Full,
        |_| {},
    )
    .await
}
