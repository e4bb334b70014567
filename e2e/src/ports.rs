//! Free loopback ports for the processes a test starts.

use std::net::TcpListener;
use std::sync::Mutex;

/// A free port on 127.0.0.1, handed out once per test process.
///
/// Picked below the kernel's ephemeral range (32768-60999 by default), where `bind(0)` and every
/// outgoing connection take their ports: a port picked there could be taken by someone else's
/// connection between this check and the child binding it.
pub fn free_port() -> u16 {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher as _;
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0u32..1000 {
        let port = 20_000 + (RandomState::new().hash_one(attempt) % 12_000) as u16;
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
