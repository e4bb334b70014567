//! What the reference app's `ANY /echo/{*rest}` reports of the request it received.

use base64::Engine as _;
use serde_json::Value;

/// The request as the app saw it: `{"method","path","query","headers":[[name,value],...],
/// "body_base64"}`, decoded.
#[derive(Debug, Clone)]
pub struct Echo {
    /// The method.
    pub method: String,
    /// The path, as received (percent-encoding kept).
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// Every header, in order.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
    /// The whole echo as JSON.
    pub json: Value,
}

impl Echo {
    /// Parses an echo body; panics (quoting it) if it is not one.
    pub fn parse(body: &[u8]) -> Self {
        let json: Value = serde_json::from_slice(body).unwrap_or_else(|err| {
            panic!("not an echo ({err}): {:?}", String::from_utf8_lossy(body))
        });
        let text = |name: &str| {
            json[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in the echo {json}"))
                .to_owned()
        };
        let headers = serde_json::from_value(json["headers"].clone())
            .unwrap_or_else(|err| panic!("bad headers in the echo ({err}): {json}"));
        let body = base64::engine::general_purpose::STANDARD
            .decode(text("body_base64"))
            .unwrap_or_else(|err| panic!("bad body_base64 in the echo ({err}): {json}"));
        Self {
            method: text("method"),
            path: text("path"),
            query: text("query"),
            headers,
            body,
            json,
        }
    }

    /// Every value the app received for header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
