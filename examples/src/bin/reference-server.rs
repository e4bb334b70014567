//! Run with: `PORT=8080 cargo run -p serverless-adapter-examples --bin reference-server`
//!
//! Serves the reference app ([`serverless_adapter_examples::app::router`]) as a
//! plain HTTP server on `$HOST:$PORT` (defaults `127.0.0.1` and `8080`), and
//! shuts down gracefully on SIGTERM or SIGINT. Once listening, prints
//! `reference-server listening on http://ADDR:PORT` to stderr (the actual
//! bound port, so `PORT=0` picks a free one).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::serve::ListenerExt as _;
use serverless_adapter_examples::app::router;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let host: IpAddr = match std::env::var("HOST") {
        Ok(host) if !host.is_empty() => host
            .parse()
            .map_err(|e| format!("invalid HOST {host:?}: {e}"))?,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let port: u16 = match std::env::var("PORT") {
        Ok(port) if !port.is_empty() => port
            .parse()
            .map_err(|e| format!("invalid PORT {port:?}: {e}"))?,
        _ => 8080,
    };

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(host, port)).await?;
    eprintln!(
        "reference-server listening on http://{}",
        listener.local_addr()?
    );
    // Small streamed events leave at once instead of waiting for a delayed ACK (Nagle).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            eprintln!("reference-server: TCP_NODELAY not set: {error}");
        }
    });
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
