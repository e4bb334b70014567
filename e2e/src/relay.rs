//! A TCP relay whose connections can be cut on demand: put in front of a Runtime API, it shows
//! what a function does when the connection resets under it (during `/next`, during a streamed
//! answer), and how often it reconnects.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// A loopback TCP relay to one target address, counting the connections it accepted.
///
/// Runs on the test's Tokio runtime; stopped (and every connection cut) when dropped.
#[derive(Debug)]
pub struct Relay {
    addr: String,
    accepted: Arc<AtomicUsize>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Starts relaying a free loopback port to `target` (`host:port`).
    pub async fn start(target: impl Into<String>) -> Self {
        let target = target.into();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback listener");
        let addr = listener
            .local_addr()
            .expect("the listener's address")
            .to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let (count, live) = (accepted.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let target = target.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                live.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(handle.abort_handle());
            }
        });
        Self {
            addr,
            accepted,
            connections,
            task,
        }
    }

    /// The relay's own address (`127.0.0.1:port`): what the function is pointed at.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// How many connections the relay accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Cuts every connection open now (both sides see a reset or an early end); new
    /// connections are relayed as before.
    pub fn cut(&self) {
        for connection in self
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            connection.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}
