//! A function served in this test process against the emulator's Runtime API: adapter
//! selection errors, and reconnection after the Runtime API connection drops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use serverless_adapter::adapters::ApiGatewayV2Adapter;
use serverless_adapter::runtime::Endpoint;
use serverless_adapter::{FunctionConfig, ServerlessAdapter};
use serverless_adapter_emulator::{Emulator, Invocation};
use serverless_adapter_examples::app;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const LIMIT: Duration = Duration::from_secs(30);

/// A TCP relay in front of the Runtime API whose connections can be cut on demand.
struct Relay {
    addr: String,
    accepted: Arc<AtomicUsize>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let (count, live) = (accepted.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let target = target.clone();
                let handle = tokio::spawn(async move {
                    let mut outbound = TcpStream::connect(target).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                live.lock().unwrap().push(handle.abort_handle());
            }
        });
        Self {
            addr,
            accepted,
            connections,
            task,
        }
    }

    fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
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

fn url_event(path: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.0", "rawPath": path, "rawQueryString": "",
        "requestContext": {"domainName": "abc.lambda-url.us-east-1.on.aws", "http": {"method": "GET", "sourceIp": "127.0.0.1"}}
    }))
    .unwrap()
}

async fn invoke(emulator: &Emulator, event: Vec<u8>) -> Invocation {
    tokio::time::timeout(LIMIT, emulator.invoke(event))
        .await
        .expect("in time")
        .expect("completes")
}

#[tokio::test]
async fn no_adapter_is_a_clear_error_and_a_dropped_connection_is_reestablished() {
    let emulator = Emulator::builder().quiet(true).start().await.unwrap();
    let relay = Relay::start(emulator.runtime_api()).await;
    let function = ServerlessAdapter::new(app::router())
        .adapter(ApiGatewayV2Adapter)
        .build();
    let endpoint = Endpoint::parse(&relay.addr).unwrap();
    let serving = tokio::spawn(function.run_with(endpoint, FunctionConfig::default()));

    let sqs = br#"{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"x"}]}"#.to_vec();
    let invocation = invoke(&emulator, sqs).await;
    let error = invocation.error().expect("no adapter takes SQS here");
    assert_eq!(error.error_type, "Adapter.NoMatch");
    assert!(
        error.error_message.contains("api-gateway-v2"),
        "{}",
        error.error_message
    );

    let ok = invoke(&emulator, url_event("/")).await;
    assert_eq!(
        ok.http().unwrap().text(),
        "ok",
        "the function keeps serving"
    );
    assert_eq!(
        relay.accepted.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );

    relay.cut();
    let again = invoke(&emulator, url_event("/")).await;
    assert_eq!(
        again.http().unwrap().text(),
        "ok",
        "served after reconnecting"
    );
    assert!(
        relay.accepted.load(Ordering::SeqCst) >= 2,
        "a new connection was made"
    );

    serving.abort();
    emulator.shutdown().await.unwrap();
}
