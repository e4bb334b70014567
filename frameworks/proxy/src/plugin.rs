//! The proxy framework in the plugin registry, as `proxy`: a [`ProxyFramework`] built from
//! [`ProxySettings`] read through the registry's settings (`AWS_LWA_PORT`, `AWS_LWA_HOST`...).
//!
//! The framework built this way takes the app to be ready; the `lambda-adapter` binary waits
//! for readiness itself before serving.

use serverless_adapter_core::register_framework;
use serverless_adapter_core::registry::{BoxFramework, Settings};
use serverless_adapter_core::Error;

use crate::{ProxyFramework, ProxySettings};

/// The proxy framework for the app the settings describe.
fn build(settings: &Settings) -> Result<BoxFramework, Error> {
    let settings = ProxySettings::from_lookup(|key| settings.get(key))?;
    Ok(BoxFramework::new(ProxyFramework::new(&settings)))
}

register_framework! {
    name: "proxy",
    summary: "a web app listening on a local port (AWS_LWA_HOST:AWS_LWA_PORT), proxied with streaming bodies",
    build: build,
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::TcpListener;

    use http_body_util::BodyExt as _;
    use serverless_adapter_core::registry::{Registry, Settings, FRAMEWORK_VAR};
    use serverless_adapter_core::{Body, Framework as _};

    #[test]
    fn the_proxy_is_registered() {
        let registry = Registry::global().unwrap();
        let names: Vec<&str> = registry.frameworks().iter().map(|p| p.name).collect();
        assert_eq!(names, ["proxy"]);
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let settings = Settings::from_map([(FRAMEWORK_VAR, "proxy"), ("AWS_LWA_PORT", "eighty")]);
        let error = Registry::global()
            .unwrap()
            .framework_from(&settings)
            .err()
            .unwrap();
        assert!(error.is_config(), "{error}");
        assert!(error.message().contains("AWS_LWA_PORT"), "{error}");
    }

    #[tokio::test]
    async fn the_registered_proxy_forwards_to_the_configured_port() {
        // A one-shot app: reads the request head, answers with its request line.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let body = request_line.trim_end().to_owned();
            write!(
                &stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        });

        let settings = Settings::from_map([
            (FRAMEWORK_VAR, "proxy".to_owned()),
            ("AWS_LWA_PORT", port.to_string()),
        ]);
        let proxy = Registry::global()
            .unwrap()
            .framework_from(&settings)
            .unwrap()
            .expect("SERVERLESS_ADAPTER_FRAMEWORK is set");
        let request = http::Request::builder()
            .uri("/hello?x=1")
            .body(Body::empty())
            .unwrap();
        let response =
            tokio::time::timeout(std::time::Duration::from_secs(30), proxy.serve(request))
                .await
                .expect("answered in time")
                .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"GET /hello?x=1 HTTP/1.1");
        app.join().unwrap();
    }
}
