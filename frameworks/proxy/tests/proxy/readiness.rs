//! Readiness against apps that start late, and the supervisor with the reference app.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use crate::support::{bounded, collect, free_port, reference_server_bin};
use http::Request;
use serverless_adapter_core::{serve_guarded, Body};
use serverless_adapter_proxy::{
    ProxyFramework, ProxySettings, ReadinessCheck, ReadinessGate, ReadinessProtocol, Supervisor,
};

const LIMIT: Duration = Duration::from_secs(30);

/// Starts an app on `port` after `delay`: TCP only, or HTTP answering 200. Returns when its
/// port opened.
async fn start_late(port: u16, delay: Duration, http: bool) -> Instant {
    tokio::time::sleep(delay).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let opened = Instant::now();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            if http {
                let service =
                    hyper::service::service_fn(|_: Request<hyper::body::Incoming>| async {
                        Ok::<_, std::convert::Infallible>(http::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from("ok")),
                        ))
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        }
    });
    opened
}

async fn measure(delay: Duration, protocol: ReadinessProtocol) -> Duration {
    let port = free_port();
    let mut settings = ProxySettings::for_app("127.0.0.1", port);
    settings.readiness_protocol = protocol;
    let check = ReadinessCheck::new(&settings);
    let app = tokio::spawn(start_late(port, delay, protocol == ReadinessProtocol::Http));
    check.wait(Some(Duration::from_secs(10))).await.unwrap();
    let ready = Instant::now();
    let opened = app.await.unwrap();
    ready.saturating_duration_since(opened)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_detected_right_after_the_port_opens() {
    bounded(LIMIT, async {
        for (delay, protocol, bound) in [
            (Duration::from_millis(50), ReadinessProtocol::Tcp, 5),
            (Duration::from_millis(50), ReadinessProtocol::Http, 5),
            (Duration::from_millis(400), ReadinessProtocol::Http, 20),
        ] {
            let mut delays = Vec::new();
            for _ in 0..3 {
                delays.push(measure(delay, protocol).await);
            }
            delays.sort();
            let median = delays[1];
            eprintln!(
                "readiness ({protocol:?}, app starting after {delay:?}): port open -> ready in {:?} (median of {delays:?})",
                median
            );
            assert!(
                median < Duration::from_millis(bound),
                "{protocol:?} after {delay:?}: {delays:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn invocations_wait_at_a_closed_gate() {
    let port = free_port();
    let gate = ReadinessGate::pending();
    let proxy = ProxyFramework::builder(&ProxySettings::for_app("127.0.0.1", port))
        .gate(gate.clone())
        .build();
    bounded(LIMIT, async {
        let waiting = tokio::spawn({
            let proxy = proxy.clone();
            async move {
                let response =
                    serve_guarded(&proxy, Request::get("/").body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                (response.status(), collect(response.into_body()).await.0)
            }
        });
        start_late(port, Duration::from_millis(100), true).await;
        assert!(!waiting.is_finished(), "the request waits for the gate");
        gate.set_ready();
        let (status, body) = waiting.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body, "ok");

        gate.fail("the app did not start");
        let response = serve_guarded(&proxy, Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
    })
    .await;
}

#[tokio::test]
async fn the_supervisor_restarts_a_dead_app_and_requests_wait_for_it() {
    let port = free_port();
    let settings = ProxySettings::for_app("127.0.0.1", port);
    let gate = ReadinessGate::pending();
    let command: Vec<OsString> = vec![
        "env".into(),
        format!("PORT={port}").into(),
        reference_server_bin().into(),
    ];
    let supervisor = Supervisor::start(
        command,
        ReadinessCheck::new(&settings),
        gate.clone(),
        Some(Duration::from_secs(20)),
    )
    .unwrap();
    let proxy = ProxyFramework::builder(&settings)
        .gate(gate.clone())
        .build();
    let get = |proxy: ProxyFramework| async move {
        let response = serve_guarded(&proxy, Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        (response.status(), collect(response.into_body()).await.0)
    };
    bounded(LIMIT, async {
        gate.wait().await.unwrap();
        assert_eq!(get(proxy.clone()).await.1, "ok");

        let first = supervisor.pid().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(first as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        // Once the supervisor saw the crash, a request sent while the app restarts waits for
        // it and is answered. (A request already in flight when the app dies fails with 502:
        // it is not sent again, as it may be what crashed the app.)
        while supervisor.pid() == Some(first) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(
            !gate.is_ready(),
            "the gate is closed while the app restarts"
        );
        let (status, body) = get(proxy.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(body, "ok");
        assert_eq!(supervisor.restarts(), 1);
        assert_ne!(supervisor.pid(), Some(first));

        let pid = supervisor.pid().unwrap();
        let status = supervisor.shutdown(Duration::from_secs(5)).await.unwrap();
        // The reference server exits cleanly on SIGTERM.
        assert!(status.success(), "{status:?}");
        assert!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_err(),
            "the app is gone"
        );
    })
    .await;
}
