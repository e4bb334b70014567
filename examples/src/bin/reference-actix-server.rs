//! Run with: `PORT=8080 cargo run -p serverless-adapter-examples --bin reference-actix-server`
//!
//! Serves the actix reference app ([`serverless_adapter_examples::actix_app`]) with
//! actix-web's own `HttpServer` on `$HOST:$PORT` (defaults `127.0.0.1` and `8080`); actix
//! shuts it down gracefully on SIGTERM or SIGINT. `$WORKERS` sets the number of actix worker
//! threads (default: actix's, one per physical core). Once listening, prints
//! `reference-actix-server listening on http://ADDR:PORT` to stderr (the actual bound port, so
//! `PORT=0` picks a free one). The app to put behind `lambda-adapter`, as `reference-server`
//! is for the axum app.
//!
//! Accepted connections get `TCP_NODELAY` (`HttpServer::tcp_nodelay(true)`; actix-web keeps
//! the OS default, Nagle on, unless told), so small streamed events leave at once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::HttpServer;
use serverless_adapter_examples::actix_app;

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let workers: Option<usize> = match std::env::var("WORKERS") {
        Ok(workers) if !workers.is_empty() => Some(
            workers
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("invalid WORKERS {workers:?}"))?,
        ),
        _ => None,
    };

    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(actix_app::app).tcp_nodelay(true);
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let server = server.bind(SocketAddr::new(host, port))?;
        for addr in server.addrs() {
            eprintln!("reference-actix-server listening on http://{addr}");
        }
        server.run().await
    })?;
    Ok(())
}
