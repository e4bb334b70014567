//! The cross-adapter matrix: every adapter accepts all of its own fixtures and rejects every
//! fixture of every other source, so the order adapters are added in never matters (except for
//! the pass-through adapter, which accepts every event by design and goes last).
//!
//! The fixtures are the real events shipped in the `aws_lambda_events` crate, plus ours.

#[allow(dead_code)]
#[path = "../src/fixtures.rs"]
mod fixtures;

use fixtures::{aws_fixtures, own_fixture};
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
    match source {
        "api-gateway-v2" => vec![(
            "lambda-function-url-request.json".to_owned(),
            own_fixture("lambda-function-url-request.json"),
        )],
        _ => Vec::new(),
    }
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
fn adapter_order_never_matters_and_pass_through_goes_last() {
    let sources = sources();
    let mut forward: Vec<&dyn Adapter> = sources
        .iter()
        .flat_map(|s| s.adapters.iter().map(|a| a.as_ref()))
        .collect();
    let pass_through = PassThroughAdapter;
    let mut fixtures = aws_fixtures(&["example-"]);
    fixtures.extend(own_fixtures("api-gateway-v2"));
    for (name, bytes) in &fixtures {
        let pick = |order: &[&dyn Adapter]| {
            order
                .iter()
                .chain(std::iter::once(&(&pass_through as &dyn Adapter)))
                .find(|a| accepts(**a, bytes))
                .map(|a| a.name().to_owned())
        };
        let first = pick(&forward);
        forward.reverse();
        let reversed = pick(&forward);
        forward.reverse();
        assert_eq!(first, reversed, "{name}: the order changed the adapter");
        assert!(
            first.is_some(),
            "{name}: the pass-through adapter takes the rest"
        );
    }
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
