//! No message lost: random SQS (standard and FIFO), Kinesis and DynamoDB Streams batches with
//! random per-record outcomes (success, failure status, app error, panic, hang past the
//! deadline, or a record the adapter cannot decode), served by a real function (the core's
//! invocation loop, in this process) under the emulator's Runtime API. Every record must be
//! either processed and acknowledged by the app or reported for retry in `batchItemFailures` —
//! never both, never neither; an undecodable record never reaches the app and fails only
//! itself (the batch is still settled, not failed).
//!
//! For streams (Kinesis, DynamoDB), Lambda checkpoints: the one reported sequence number and
//! every record after it are retried, so "reported" means at or after the checkpoint.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use serverless_adapter_adapters::{DynamoDbAdapter, KinesisAdapter, SqsAdapter};
use serverless_adapter_core::runtime::Endpoint;
use serverless_adapter_core::{
    Adapter, Body, BoxError, Framework, FunctionConfig, ServerlessAdapter,
};
use serverless_adapter_emulator::Emulator;

/// Cases per source: each is one invocation; a hang costs the app's whole time budget.
const CASES: u32 = 48;
/// The function timeout: the app gets it minus the deadline margin.
const FUNCTION_TIMEOUT: Duration = Duration::from_millis(1500);
const DEADLINE_MARGIN: Duration = Duration::from_millis(700);

/// What the app does with one record (`Undecodable`: the record is of the wrong shape, so the
/// adapter cannot decode it and the app never sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Ok,
    Status500,
    Error,
    Panic,
    Hang,
    Undecodable,
}

impl Act {
    fn word(self) -> &'static str {
        match self {
            Act::Ok => "ok",
            Act::Status500 => "status500",
            Act::Error => "error",
            Act::Panic => "panic",
            Act::Hang => "hang",
            Act::Undecodable => "undecodable",
        }
    }
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        12 => Just(Act::Ok),
        3 => Just(Act::Status500),
        2 => Just(Act::Error),
        2 => Just(Act::Panic),
        1 => Just(Act::Hang),
        2 => Just(Act::Undecodable),
    ]
}

/// The app: finds `act=<word> id=<id>` in the request body, records the id as acknowledged
/// when (and only when) it answers 2xx.
#[derive(Clone, Default)]
struct App {
    acked: Arc<Mutex<Vec<String>>>,
}

impl Framework for App {
    async fn serve(&self, request: Request<Body>) -> Result<Response<Body>, BoxError> {
        let body = request.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        let field = |key: &str| {
            text.split(|c: char| c.is_whitespace() || c == '"')
                .find_map(|word| word.strip_prefix(key))
                .map(str::to_owned)
        };
        let (Some(act), Some(id)) = (field("act="), field("id=")) else {
            return Err(format!("no directive in {text:?}").into());
        };
        match act.as_str() {
            "ok" => {
                self.acked.lock().unwrap().push(id);
                Ok(Response::new(Body::from("done")))
            }
            "status500" => Ok(Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::from("failed"))?),
            "error" => Err("the app failed".into()),
            "panic" => panic!("the app panicked on {id}"),
            "hang" => std::future::pending().await,
            other => Err(format!("unknown act {other}").into()),
        }
    }
}

/// A function serving `adapter` in this process against a fresh emulator.
struct Harness {
    emulator: Emulator,
    app: App,
    serving: tokio::task::JoinHandle<()>,
}

impl Harness {
    async fn start(adapter: impl Adapter) -> Self {
        let emulator = Emulator::builder()
            .timeout(FUNCTION_TIMEOUT)
            .quiet(true)
            .start()
            .await
            .unwrap();
        let app = App::default();
        let function = ServerlessAdapter::new(app.clone())
            .adapter(adapter)
            .deadline_margin(DEADLINE_MARGIN)
            .build();
        let endpoint = Endpoint::parse(&emulator.runtime_api()).unwrap();
        let serving = tokio::spawn(async move {
            let _ = function.run_with(endpoint, FunctionConfig::default()).await;
        });
        emulator.wait_ready(Duration::from_secs(20)).await.unwrap();
        Self {
            emulator,
            app,
            serving,
        }
    }

    /// Invokes `event`; returns the ids the app acknowledged and the ids reported failed.
    async fn run(&self, event: Value) -> Result<(BTreeSet<String>, Vec<String>), TestCaseError> {
        self.app.acked.lock().unwrap().clear();
        let invocation = tokio::time::timeout(
            Duration::from_secs(30),
            self.emulator.invoke(serde_json::to_vec(&event).unwrap()),
        )
        .await
        .map_err(|_| TestCaseError::fail("no answer in 30 s"))?
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            !invocation.is_error(),
            "the batch must be settled, not failed: {:?}",
            invocation.error()
        );
        let answer: Value = invocation
            .json()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let failures = answer["batchItemFailures"]
            .as_array()
            .ok_or_else(|| TestCaseError::fail(format!("no batchItemFailures in {answer}")))?
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
            .collect();
        let acked: Vec<String> = self.app.acked.lock().unwrap().clone();
        let unique: BTreeSet<String> = acked.iter().cloned().collect();
        prop_assert_eq!(unique.len(), acked.len(), "a record was processed twice");
        Ok((unique, failures))
    }

    async fn stop(self) {
        self.serving.abort();
        self.emulator.shutdown().await.unwrap();
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Per-queue records: (act, FIFO group index).
fn sqs_records() -> impl Strategy<Value = (bool, Vec<(Act, u8)>)> {
    (
        any::<bool>(),
        prop::collection::vec((act(), 0u8..3), 1..=10),
    )
}

#[test]
fn sqs_batches_lose_no_message() {
    let rt = tokio();
    let harness = rt.block_on(Harness::start(SqsAdapter));
    runner()
        .run(&sqs_records(), |(fifo, records)| {
            rt.block_on(async {
                let queue = if fifo { "q.fifo" } else { "q" };
                let ids: Vec<String> = (0..records.len()).map(|i| format!("m{i}")).collect();
                let event = json!({"Records": records.iter().zip(&ids).map(|((act, group), id)| {
                    let mut attributes = json!({"ApproximateReceiveCount": "1"});
                    if fifo {
                        attributes["MessageGroupId"] = json!(format!("g{group}"));
                    }
                    let body = match act {
                        Act::Undecodable => json!(5),
                        _ => json!(format!("act={} id={id}", act.word())),
                    };
                    json!({"messageId": id, "body": body,
                        "eventSource": "aws:sqs", "attributes": attributes,
                        "eventSourceARN": format!("arn:aws:sqs:us-east-1:1:{queue}")})
                }).collect::<Vec<_>>()});
                let (acked, failures) = harness.run(event).await?;
                let reported: BTreeSet<String> = failures.iter().cloned().collect();
                prop_assert_eq!(reported.len(), failures.len(), "a record reported twice");
                for (id, (act, _)) in ids.iter().zip(&records) {
                    let (a, r) = (acked.contains(id), reported.contains(id));
                    prop_assert!(a != r, "{id} ({act:?}): acked {a}, reported {r}");
                    if !fifo {
                        prop_assert_eq!(a, *act == Act::Ok, "{} ({:?})", id, act);
                    }
                }
                prop_assert!(
                    reported.iter().all(|id| ids.contains(id)),
                    "unknown id reported"
                );
                if fifo {
                    // Within a group, nothing after a failure was processed.
                    for group in 0..3u8 {
                        let mut failed = false;
                        for (id, (act, g)) in ids.iter().zip(&records) {
                            if *g != group {
                                continue;
                            }
                            if failed {
                                prop_assert!(
                                    !acked.contains(id),
                                    "{id} ran after its group failed"
                                );
                            }
                            failed |= *act != Act::Ok;
                        }
                    }
                }
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(harness.stop());
}

/// Checks checkpoint semantics: records before the reported one were all acknowledged, the
/// reported one is the first that was not, and nothing from it on was acknowledged.
fn check_stream(
    ids: &[String],
    acts: &[Act],
    acked: &BTreeSet<String>,
    failures: &[String],
) -> Result<(), TestCaseError> {
    prop_assert!(failures.len() <= 1, "at most one checkpoint: {failures:?}");
    let first_failed = acts.iter().position(|act| *act != Act::Ok);
    let checkpoint = failures
        .first()
        .map(|f| ids.iter().position(|id| id == f).expect("a known id"));
    prop_assert_eq!(checkpoint, first_failed);
    let cut = checkpoint.unwrap_or(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let (a, r) = (acked.contains(id), index >= cut);
        prop_assert!(a != r, "{id}: acked {a}, retried {r}");
    }
    Ok(())
}

#[test]
fn kinesis_batches_lose_no_record() {
    let rt = tokio();
    let harness = rt.block_on(Harness::start(KinesisAdapter));
    runner()
        .run(&prop::collection::vec(act(), 1..=10), |acts| {
            rt.block_on(async {
                let ids: Vec<String> = (0..acts.len())
                    .map(|i| format!("4959{:020}", i * 7 + 1))
                    .collect();
                let event = json!({"Records": acts.iter().zip(&ids).map(|(act, id)| {
                    let data = match act {
                        Act::Undecodable => "%%% not base64".to_owned(),
                        _ => base64::engine::general_purpose::STANDARD
                            .encode(format!("act={} id={id}", act.word())),
                    };
                    json!({"eventSource": "aws:kinesis", "eventID": format!("shardId-0:{id}"),
                        "eventSourceARN": "arn:aws:kinesis:us-east-1:1:stream/s",
                        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "k",
                            "sequenceNumber": id, "data": data}})
                }).collect::<Vec<_>>()});
                let (acked, failures) = harness.run(event).await?;
                check_stream(&ids, &acts, &acked, &failures)
            })
        })
        .unwrap();
    rt.block_on(harness.stop());
}

#[test]
fn dynamodb_batches_lose_no_record() {
    let rt = tokio();
    let harness = rt.block_on(Harness::start(DynamoDbAdapter));
    runner()
        .run(&prop::collection::vec(act(), 1..=10), |acts| {
            rt.block_on(async {
                let ids: Vec<String> = (0..acts.len()).map(|i| format!("{}00", 111 + i)).collect();
                let event = json!({"Records": acts.iter().zip(&ids).map(|(act, id)| {
                    let name = match act {
                        Act::Undecodable => json!(5),
                        _ => json!("INSERT"),
                    };
                    json!({"eventID": format!("e{id}"), "eventName": name, "eventVersion": "1.1",
                        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                        "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026",
                        "dynamodb": {"Keys": {"Id": {"S": id}},
                            "NewImage": {"Note": {"S": format!("act={} id={id}", act.word())}},
                            "SequenceNumber": id, "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"}})
                }).collect::<Vec<_>>()});
                let (acked, failures) = harness.run(event).await?;
                check_stream(&ids, &acts, &acked, &failures)
            })
        })
        .unwrap();
    rt.block_on(harness.stop());
}
