//! The cross-adapter matrix: every adapter accepts all of its own fixtures and rejects every
//! fixture of every other source, so the order adapters are added in never matters (except for
//! the pass-through adapter, which accepts every event by design and goes last).
//!
//! The fixtures are the real events shipped in the `aws_lambda_events` crate, plus ours (among
//! them the Function URL event cargo-lambda's emulator sends: payload 2.0 with fields of other
//! shapes), plus variants of each with `null` fields: a `null` field is an absent one, so no
//! variant may change which adapter takes the event.

#[allow(dead_code)]
#[path = "../../src/fixtures.rs"]
mod fixtures;

use fixtures::{aws_fixtures, own_fixture};
use serde_json::Value;
use serverless_adapter_adapters::*;
use serverless_adapter_core::{Adapter, EventProbe};

/// One event source: its adapters (the default and configured variants) and the fixture name
/// prefixes that are its events.
struct Source {
    name: &'static str,
    adapters: Vec<Box<dyn Adapter>>,
    prefixes: &'static [&'static str],
}

/// Fixtures that are no source's event, left out on purpose (each must be rejected by every
/// adapter but the pass-through one):
/// - answers, not requests: `example-apigw-response`, `example-alb-lambda-target-response`,
///   `example-sqs-batch-response`, `example-kinesis-firehose-response`,
///   `example-apigw-custom-auth-response*`, `example-vpc-lattice-response`, ...;
/// - authorizer requests: `example-apigw-custom-auth-request*`,
///   `example-apigw-v2-custom-authorizer-*` (REST, HTTP and WebSocket authorizers);
/// - not Lambda events: `example-sqs-api-event-obj` (the SQS `ReceiveMessage` API response),
///   `example-sns-subscription-confirmation` / `-unsubscribe-confirmation` (SNS HTTP endpoint
///   deliveries), `example-dynamodb-event-record-with-optional-fields` (one stream record);
/// - sources without an adapter (they go to the pass-through adapter): Kafka, MQ, Firehose,
///   S3 Object Lambda, SES, Cognito, CloudFormation, CodeCommit, Config, Connect, Lex, IoT,
///   AppSync, Bedrock agents, VPC Lattice, CloudWatch Logs, CloudWatch alarm actions, bare
///   CloudTrail records, DocumentDB, Secrets Manager...
fn sources() -> Vec<Source> {
    vec![
        Source {
            name: "api-gateway-v1",
            adapters: vec![
                Box::new(ApiGatewayV1Adapter),
                Box::new(
                    ApiGatewayV1Adapter::configure()
                        .base_path("/api")
                        .streaming(true),
                ),
            ],
            prefixes: &[
                "example-apigw-request",
                "example-apigw-console-request",
                "example-apigw-console-test-request",
                "example-apigw-restapi-openapi-request",
                "example-apigw-sam-rest-request",
            ],
        },
        Source {
            name: "api-gateway-v2",
            adapters: vec![Box::new(ApiGatewayV2Adapter)],
            prefixes: &[
                "example-apigw-v2-request-",
                "example-apigw-sam-http-request",
            ],
        },
        Source {
            name: "api-gateway-websocket",
            adapters: vec![
                Box::new(ApiGatewayWebSocketAdapter),
                Box::new(ApiGatewayWebSocketAdapter::configure().path_prefix("/socket")),
            ],
            prefixes: &["example-apigw-websocket-"],
        },
        Source {
            name: "alb",
            adapters: vec![Box::new(AlbAdapter)],
            prefixes: &["example-alb-lambda-target-request-"],
        },
        Source {
            name: "sqs",
            adapters: vec![
                Box::new(SqsAdapter),
                Box::new(SqsAdapter::per_record().path("/jobs").concurrency(4)),
                Box::new(SqsAdapter::batch()),
            ],
            prefixes: &["example-sqs-event"],
        },
        Source {
            name: "sns",
            adapters: vec![Box::new(SnsAdapter), Box::new(SnsAdapter::per_record())],
            prefixes: &["example-sns-event", "example-cloudwatch-alarm-sns-payload-"],
        },
        Source {
            name: "eventbridge",
            adapters: vec![
                Box::new(EventBridgeAdapter),
                Box::new(EventBridgeAdapter::configure()),
            ],
            prefixes: &[
                "example-eventbridge-",
                "example-autoscaling-event-",
                "example-codebuild-",
                "example-codedeploy-deployment-event",
                "example-codedeploy-instance-event",
                "example-codepipeline-",
                "example-ecr-image-scan-event",
                "example-cloudwatch-alarm-composite-with-suppressor-alarm",
            ],
        },
        Source {
            name: "s3",
            adapters: vec![Box::new(S3Adapter), Box::new(S3Adapter::per_record())],
            prefixes: &["example-s3-event"],
        },
        Source {
            name: "dynamodb",
            adapters: vec![
                Box::new(DynamoDbAdapter),
                Box::new(DynamoDbAdapter::per_record()),
                Box::new(DynamoDbAdapter::batch()),
            ],
            prefixes: &[
                "example-dynamodb-event.json",
                "example-dynamodb-event-null-items",
            ],
        },
        Source {
            name: "kinesis",
            adapters: vec![
                Box::new(KinesisAdapter),
                Box::new(KinesisAdapter::per_record()),
                Box::new(KinesisAdapter::batch()),
            ],
            prefixes: &["example-kinesis-event"],
        },
    ]
}

/// Our own fixtures, by source.
fn own_fixtures(source: &str) -> Vec<(String, Vec<u8>)> {
    let named = |name: &str| (name.to_owned(), own_fixture(name));
    match source {
        "api-gateway-v2" => vec![
            named("lambda-function-url-request.json"),
            named("cargo-lambda-function-url-request.json"),
        ],
        _ => Vec::new(),
    }
}

/// Fields that tell one shape from another (or that some emulator sends as `null`), at the top
/// level, in `requestContext` and in `Records[0]`.
const TOP_FIELDS: &[&str] = &[
    "version",
    "httpMethod",
    "methodArn",
    "resource",
    "type",
    "routeArn",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "path",
    "headers",
    "cookies",
    "body",
    "isBase64Encoded",
    "stageVariables",
    "pathParameters",
    "requestContext",
    "Records",
    "detail-type",
    "source",
];
const CONTEXT_FIELDS: &[&str] = &[
    "elb",
    "connectionId",
    "eventType",
    "routeKey",
    "http",
    "identity",
    "stage",
];
const RECORD_FIELDS: &[&str] = &["eventSource", "EventSource"];

/// `value` with `null` for each of `fields` it lacks (when it is an object).
fn add_nulls(value: &mut Value, fields: &[&str]) {
    if let Value::Object(object) = value {
        for field in fields {
            object.entry(*field).or_insert(Value::Null);
        }
    }
}

/// `value` without its `null` fields (when it is an object).
fn drop_nulls(value: &mut Value) {
    if let Value::Object(object) = value {
        object.retain(|_, value| !value.is_null());
    }
}

/// Variants of an event whose `null` fields are all absent ones: `null` for every field of
/// another shape it lacks, and every `null` field left out.
fn null_variants(bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let event: Value = serde_json::from_slice(bytes).expect("fixtures are JSON");
    if !event.is_object() {
        return Vec::new();
    }
    let mut with_nulls = event.clone();
    add_nulls(&mut with_nulls["requestContext"], CONTEXT_FIELDS);
    if let Some(first) = with_nulls
        .get_mut("Records")
        .and_then(Value::as_array_mut)
        .and_then(|records| records.first_mut())
    {
        add_nulls(first, RECORD_FIELDS);
    }
    add_nulls(&mut with_nulls, TOP_FIELDS);
    let mut without_nulls = event;
    if let Some(context) = without_nulls.get_mut("requestContext") {
        drop_nulls(context);
    }
    drop_nulls(&mut without_nulls);
    vec![
        ("with null fields", serde_json::to_vec(&with_nulls).unwrap()),
        (
            "without null fields",
            serde_json::to_vec(&without_nulls).unwrap(),
        ),
    ]
}

/// The cargo-lambda Function URL event with each field it may send as `null` (or leave out)
/// that way.
fn cargo_lambda_variants() -> Vec<(String, Vec<u8>)> {
    let fixture: Value =
        serde_json::from_slice(&own_fixture("cargo-lambda-function-url-request.json")).unwrap();
    type Edit = fn(&mut Value);
    let edits: &[(&str, Edit)] = &[
        ("a query", |e| e["rawQueryString"] = "a=1".into()),
        ("null cookies", |e| e["cookies"] = Value::Null),
        ("null body", |e| e["body"] = Value::Null),
        ("null base64 flag", |e| e["isBase64Encoded"] = Value::Null),
        ("null headers", |e| e["headers"] = Value::Null),
        ("a null header", |e| e["headers"]["x-null"] = Value::Null),
        ("null maps", |e| {
            e["stageVariables"] = Value::Null;
            e["pathParameters"] = Value::Null;
        }),
        ("httpMethod POST", |e| e["httpMethod"] = "POST".into()),
        ("no httpMethod", |e| {
            e.as_object_mut().unwrap().remove("httpMethod");
        }),
        ("null context fields", |e| {
            for field in [
                "accountId",
                "apiId",
                "domainName",
                "stage",
                "routeKey",
                "time",
            ] {
                e["requestContext"][field] = Value::Null;
            }
        }),
    ];
    edits
        .iter()
        .map(|(what, edit)| {
            let mut event = fixture.clone();
            edit(&mut event);
            (
                format!("cargo-lambda event with {what}"),
                serde_json::to_vec(&event).unwrap(),
            )
        })
        .collect()
}

/// Every event of the matrix with the source that must take it (`None`: no source, the
/// pass-through adapter takes it): the fixtures, ours, and the `null` variants of each.
fn all_events(sources: &[Source]) -> Vec<(String, Vec<u8>, Option<&'static str>)> {
    let owner = |name: &str| {
        sources
            .iter()
            .find(|s| s.prefixes.iter().any(|p| name.starts_with(p)))
            .map(|s| s.name)
    };
    let mut events: Vec<(String, Vec<u8>, Option<&'static str>)> = aws_fixtures(&["example-"])
        .into_iter()
        .map(|(name, bytes)| {
            let source = owner(&name);
            (name, bytes, source)
        })
        .collect();
    for source in sources {
        for (name, bytes) in own_fixtures(source.name) {
            events.push((name, bytes, Some(source.name)));
        }
    }
    for (name, bytes) in cargo_lambda_variants() {
        events.push((name, bytes, Some("api-gateway-v2")));
    }
    let variants: Vec<_> = events
        .iter()
        .flat_map(|(name, bytes, source)| {
            null_variants(bytes)
                .into_iter()
                .map(move |(what, bytes)| (format!("{name} ({what})"), bytes, *source))
        })
        .collect();
    events.extend(variants);
    events
}

fn accepts(adapter: &dyn Adapter, event: &[u8]) -> bool {
    adapter.can_handle(&EventProbe::new(event).expect("fixtures are JSON objects"))
}

#[test]
fn each_adapter_takes_exactly_its_own_fixtures() {
    let sources = sources();
    let all = aws_fixtures(&["example-"]);
    assert!(
        all.len() > 150,
        "the fixture folder was found: {}",
        all.len()
    );
    let mut claimed = 0;
    for (name, bytes) in &all {
        let owners: Vec<&str> = sources
            .iter()
            .filter(|s| s.prefixes.iter().any(|p| name.starts_with(p)))
            .map(|s| s.name)
            .collect();
        assert!(owners.len() <= 1, "{name} is listed for {owners:?}");
        claimed += owners.len();
        for source in &sources {
            let own = owners.contains(&source.name);
            for (variant, adapter) in source.adapters.iter().enumerate() {
                assert_eq!(
                    accepts(adapter.as_ref(), bytes),
                    own,
                    "{} (variant {variant}) must {} {name}",
                    source.name,
                    if own { "accept" } else { "reject" }
                );
            }
        }
    }
    for source in &sources {
        let own = all
            .iter()
            .filter(|(name, _)| source.prefixes.iter().any(|p| name.starts_with(p)))
            .count();
        assert!(own > 0, "{} has fixtures", source.name);
        for (name, bytes) in own_fixtures(source.name) {
            for other in &sources {
                for adapter in &other.adapters {
                    assert_eq!(
                        accepts(adapter.as_ref(), &bytes),
                        other.name == source.name,
                        "{} on our {name}",
                        other.name
                    );
                }
            }
        }
    }
    assert!(claimed >= 45, "fixtures claimed: {claimed}");
}

#[test]
fn null_fields_are_absent_fields_for_every_adapter() {
    let sources = sources();
    let events = all_events(&sources);
    assert!(events.len() > 300, "variants made: {}", events.len());
    for (name, bytes, owner) in &events {
        let Ok(probe) = EventProbe::new(bytes) else {
            continue; // not an object: no adapter is asked
        };
        for source in &sources {
            for (variant, adapter) in source.adapters.iter().enumerate() {
                assert_eq!(
                    adapter.can_handle(&probe),
                    *owner == Some(source.name),
                    "{} (variant {variant}) on {name}",
                    source.name
                );
            }
        }
    }
}

/// Exactly one source's adapters take each event (checked for every event and variant), which
/// makes the pick the same in every order; the orders are also tried: every rotation of the
/// adapters, forward and reversed (so each adapter is asked first once), then the pass-through
/// adapter.
#[test]
fn adapter_order_never_matters_and_pass_through_goes_last() {
    let sources = sources();
    let forward: Vec<&dyn Adapter> = sources
        .iter()
        .flat_map(|s| s.adapters.iter().map(|a| a.as_ref()))
        .collect();
    let mut orders: Vec<Vec<&dyn Adapter>> = Vec::new();
    for reversed in [false, true] {
        let mut order = forward.clone();
        if reversed {
            order.reverse();
        }
        for _ in 0..order.len() {
            orders.push(order.clone());
            order.rotate_left(1);
        }
    }
    let pass_through = PassThroughAdapter;
    for (name, bytes, owner) in all_events(&sources) {
        let Ok(probe) = EventProbe::new(&bytes) else {
            continue;
        };
        let takers: std::collections::BTreeSet<&str> = forward
            .iter()
            .filter(|a| a.can_handle(&probe))
            .map(|a| a.name())
            .collect();
        assert!(takers.len() <= 1, "{name}: taken by {takers:?}");
        for order in &orders {
            let pick = order
                .iter()
                .chain(std::iter::once(&(&pass_through as &dyn Adapter)))
                .find(|a| a.can_handle(&probe))
                .map(|a| a.name());
            assert_eq!(
                pick,
                Some(owner.unwrap_or("pass-through")),
                "{name}: the order changed the adapter"
            );
        }
    }
    // the fault cargo-lambda's events used to hit: REST before payload 2.0
    let event = own_fixture("cargo-lambda-function-url-request.json");
    let probe = EventProbe::new(&event).unwrap();
    let rest_first: [&dyn Adapter; 2] = [&ApiGatewayV1Adapter, &ApiGatewayV2Adapter];
    let pick = rest_first.iter().find(|a| a.can_handle(&probe)).unwrap();
    assert_eq!(pick.name(), "api-gateway-v2");
    // every adapter agrees with its name: no two adapters of one source disagree
    for source in &sources {
        for adapter in &source.adapters {
            assert_eq!(adapter.name(), source.name);
        }
    }
}

#[test]
fn the_pass_through_adapter_accepts_everything() {
    for (name, bytes) in aws_fixtures(&["example-"]) {
        assert!(accepts(&PassThroughAdapter, &bytes), "{name}");
        assert!(
            accepts(&PassThroughAdapter::configure().path("/x"), &bytes),
            "{name}"
        );
    }
}

#[test]
fn event_adapters_cover_every_source_once() {
    let names: Vec<String> = event_adapters()
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    let mut expected: Vec<String> = sources().iter().map(|s| s.name.to_owned()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(!names.iter().any(|n| n == "pass-through"));
}
