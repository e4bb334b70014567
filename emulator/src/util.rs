//! Small helpers: random identifiers, time formatting, JSON error answers, bounded body reads.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::{header, HeaderValue, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use crate::server::BoxBody;

/// A pseudo-random 64-bit value (not cryptographic; good enough for identifiers).
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one((n, SystemTime::now()))
}

/// A random UUID (version 4 layout), as Lambda uses for request ids.
pub(crate) fn uuid() -> String {
    let a = random_u64();
    let b = random_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// `n` random lowercase hex digits.
pub(crate) fn hex(n: usize) -> String {
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(n);
    s
}

/// An X-Ray trace header value like Lambda's.
pub(crate) fn trace_id() -> String {
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        epoch_ms() / 1000,
        hex(24),
        hex(16)
    )
}

/// Milliseconds since the Unix epoch.
pub(crate) fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Utc {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) millis: u32,
}

impl Utc {
    pub(crate) fn from_epoch_ms(ms: u64) -> Self {
        let secs = (ms / 1000) as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: (rem / 60) % 60,
            second: rem % 60,
            millis: (ms % 1000) as u32,
        }
    }

    pub(crate) fn now() -> Self {
        Self::from_epoch_ms(epoch_ms())
    }

    /// `12/Mar/2020:19:03:58 +0000`, as in Function URL events.
    pub(crate) fn clf(&self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
            self.day,
            MONTHS[(self.month - 1) as usize],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `2020-03-12T19:03:58.123Z`.
    pub(crate) fn iso(&self) -> String {
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }

    /// `2020/03/12`, as in log stream names.
    pub(crate) fn ymd_slashes(&self) -> String {
        format!("{}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// A JSON answer with the given status.
pub(crate) fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<BoxBody> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A Runtime API style error answer: `{"errorMessage":..,"errorType":..}`.
pub(crate) fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response<BoxBody> {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    json_response(status, body.to_string())
}

/// A fixed body.
pub(crate) fn full(body: impl Into<Bytes>) -> BoxBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Why a bounded read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// More than `limit` bytes were sent (the rest was drained, up to a cap).
    TooLarge,
    /// The connection failed.
    Io(String),
}

/// Reads a whole body, at most `limit` bytes. Past the limit, keeps draining (up to
/// `4 * limit` more bytes) so that the peer can read the error answer, then fails.
pub(crate) async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, ReadError> {
    if body.size_hint().lower() > (limit as u64) * 5 {
        // Announced far too large: not worth draining.
        return Err(ReadError::TooLarge);
    }
    let mut buf = BytesMut::new();
    let mut total: u64 = 0;
    let mut over = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Io(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if total > limit as u64 {
                over = true;
                buf.clear();
                if total > (limit as u64) * 5 {
                    break;
                }
            } else {
                buf.extend_from_slice(&data);
            }
        }
    }
    if over {
        Err(ReadError::TooLarge)
    } else {
        Ok(buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        // 2020-03-12T19:03:58.123Z
        let t = Utc::from_epoch_ms(1_584_039_838_123);
        assert_eq!(t.clf(), "12/Mar/2020:19:03:58 +0000");
        assert_eq!(t.iso(), "2020-03-12T19:03:58.123Z");
        assert_eq!(t.ymd_slashes(), "2020/03/12");
        let t = Utc::from_epoch_ms(951_782_400_000); // 2000-02-29
        assert_eq!(t.iso(), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn uuid_shape() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(uuid(), uuid());
        assert_eq!(hex(24).len(), 24);
    }
}
