//! Every adapter of this crate, registered by name in the plugin registry
//! ([`serverless_adapter_core::registry`]), each behind its own cargo feature, so a function can
//! pick them with `SERVERLESS_ADAPTER_ADAPTERS=api-gateway-v2,sqs` (asked in that order).
//!
//! | name | adapter | settings read |
//! |---|---|---|
//! | `api-gateway-v1` | [`ApiGatewayV1Adapter`](crate::ApiGatewayV1Adapter): API Gateway REST API (payload 1.0) | — |
//! | `api-gateway-v2` | [`ApiGatewayV2Adapter`](crate::ApiGatewayV2Adapter): HTTP API (payload 2.0) and Function URLs | — |
//! | `alb` | [`AlbAdapter`](crate::AlbAdapter): Application Load Balancer | — |
//! | `api-gateway-websocket` | [`ApiGatewayWebSocketAdapter`](crate::ApiGatewayWebSocketAdapter): `POST <prefix>/<route>` | `SERVERLESS_ADAPTER_WEBSOCKET_PATH` (the prefix, default `/ws`) |
//! | `sqs` | [`SqsAdapter`](crate::SqsAdapter): `POST /sqs` per message, `batchItemFailures` | — |
//! | `sqs-batch` | [`SqsAdapter::batch`](crate::SqsAdapter::batch): the whole batch in one request | — |
//! | `sns` | [`SnsAdapter`](crate::SnsAdapter): `POST /sns` per message | — |
//! | `eventbridge` | [`EventBridgeAdapter`](crate::EventBridgeAdapter): `POST /eventbridge` | — |
//! | `s3` | [`S3Adapter`](crate::S3Adapter): `POST /s3` per record | — |
//! | `dynamodb` | [`DynamoDbAdapter`](crate::DynamoDbAdapter): `POST /dynamodb` per record, in order | — |
//! | `dynamodb-batch` | [`DynamoDbAdapter::batch`](crate::DynamoDbAdapter::batch): the whole batch | — |
//! | `kinesis` | [`KinesisAdapter`](crate::KinesisAdapter): `POST /kinesis` per record, in order | — |
//! | `kinesis-batch` | [`KinesisAdapter::batch`](crate::KinesisAdapter::batch): the whole batch | — |
//! | `pass-through` | [`PassThroughAdapter`](crate::PassThroughAdapter): any JSON object; name it last | `AWS_LWA_PASS_THROUGH_PATH` (default `/events`) |
//!
//! The `-batch` variants share their source's [`Adapter::name`](serverless_adapter_core::Adapter::name)
//! (`sqs`), as they accept the same events: select one of the two.

#[cfg(any(
    feature = "api-gateway-v1",
    feature = "api-gateway-v2",
    feature = "alb",
    feature = "api-gateway-websocket",
    feature = "sqs",
    feature = "sns",
    feature = "eventbridge",
    feature = "s3",
    feature = "dynamodb",
    feature = "kinesis",
    feature = "pass-through",
))]
use serverless_adapter_core::register_adapter;

/// The setting that moves WebSocket routes under another path prefix (default `/ws`).
#[cfg(feature = "api-gateway-websocket")]
pub const WEBSOCKET_PATH_VAR: &str = "SERVERLESS_ADAPTER_WEBSOCKET_PATH";

#[cfg(feature = "api-gateway-v1")]
register_adapter! {
    name: "api-gateway-v1",
    summary: "API Gateway REST API (payload 1.0) requests",
    build: |_| Ok(Box::new(crate::ApiGatewayV1Adapter)),
}

#[cfg(feature = "api-gateway-v2")]
register_adapter! {
    name: "api-gateway-v2",
    summary: "API Gateway HTTP API (payload 2.0) and Function URL requests; can stream",
    build: |_| Ok(Box::new(crate::ApiGatewayV2Adapter)),
}

#[cfg(feature = "alb")]
register_adapter! {
    name: "alb",
    summary: "Application Load Balancer requests",
    build: |_| Ok(Box::new(crate::AlbAdapter)),
}

#[cfg(feature = "api-gateway-websocket")]
register_adapter! {
    name: "api-gateway-websocket",
    summary: "API Gateway WebSocket API messages as POST /ws/{route} (prefix: SERVERLESS_ADAPTER_WEBSOCKET_PATH)",
    build: |settings| {
        let mut adapter = crate::ApiGatewayWebSocketAdapter::configure();
        if let Some(prefix) = settings.get(WEBSOCKET_PATH_VAR) {
            if !prefix.starts_with('/') {
                return Err(serverless_adapter_core::Error::config(format!(
                    "{WEBSOCKET_PATH_VAR} must start with `/`, got {prefix:?}"
                )));
            }
            adapter = adapter.path_prefix(prefix.trim_end_matches('/').to_owned());
        }
        Ok(Box::new(adapter))
    },
}

#[cfg(feature = "sqs")]
register_adapter! {
    name: "sqs",
    summary: "SQS messages (standard and FIFO) as POST /sqs each, failures in batchItemFailures",
    build: |_| Ok(Box::new(crate::SqsAdapter)),
}

#[cfg(feature = "sqs")]
register_adapter! {
    name: "sqs-batch",
    summary: "an SQS batch as one POST /sqs; the app answers for the batch",
    build: |_| Ok(Box::new(crate::SqsAdapter::batch())),
}

#[cfg(feature = "sns")]
register_adapter! {
    name: "sns",
    summary: "SNS messages as POST /sns each",
    build: |_| Ok(Box::new(crate::SnsAdapter)),
}

#[cfg(feature = "eventbridge")]
register_adapter! {
    name: "eventbridge",
    summary: "EventBridge and CloudWatch Events events as POST /eventbridge",
    build: |_| Ok(Box::new(crate::EventBridgeAdapter)),
}

#[cfg(feature = "s3")]
register_adapter! {
    name: "s3",
    summary: "S3 event notifications as POST /s3 per record",
    build: |_| Ok(Box::new(crate::S3Adapter)),
}

#[cfg(feature = "dynamodb")]
register_adapter! {
    name: "dynamodb",
    summary: "DynamoDB Streams records as POST /dynamodb each, in order",
    build: |_| Ok(Box::new(crate::DynamoDbAdapter)),
}

#[cfg(feature = "dynamodb")]
register_adapter! {
    name: "dynamodb-batch",
    summary: "a DynamoDB Streams batch as one POST /dynamodb",
    build: |_| Ok(Box::new(crate::DynamoDbAdapter::batch())),
}

#[cfg(feature = "kinesis")]
register_adapter! {
    name: "kinesis",
    summary: "Kinesis records as POST /kinesis each, in order",
    build: |_| Ok(Box::new(crate::KinesisAdapter)),
}

#[cfg(feature = "kinesis")]
register_adapter! {
    name: "kinesis-batch",
    summary: "a Kinesis batch as one POST /kinesis",
    build: |_| Ok(Box::new(crate::KinesisAdapter::batch())),
}

#[cfg(feature = "pass-through")]
register_adapter! {
    name: "pass-through",
    summary: "any other JSON event as POST to AWS_LWA_PASS_THROUGH_PATH (/events); name it last",
    build: |settings| Ok(Box::new(crate::PassThroughConfigured::from_lookup(|key| settings.get(key)))),
}

#[cfg(test)]
mod tests {
    use serverless_adapter_core::registry::{Registry, Settings};

    #[test]
    fn every_adapter_is_registered_once() {
        let registry = Registry::global().expect("no duplicate registrations");
        let names: Vec<&str> = registry.adapters().iter().map(|p| p.name).collect();
        let mut expected = Vec::new();
        if cfg!(feature = "alb") {
            expected.push("alb");
        }
        if cfg!(feature = "api-gateway-v1") {
            expected.push("api-gateway-v1");
        }
        if cfg!(feature = "api-gateway-v2") {
            expected.push("api-gateway-v2");
        }
        if cfg!(feature = "api-gateway-websocket") {
            expected.push("api-gateway-websocket");
        }
        if cfg!(feature = "dynamodb") {
            expected.extend(["dynamodb", "dynamodb-batch"]);
        }
        if cfg!(feature = "eventbridge") {
            expected.push("eventbridge");
        }
        if cfg!(feature = "kinesis") {
            expected.extend(["kinesis", "kinesis-batch"]);
        }
        if cfg!(feature = "pass-through") {
            expected.push("pass-through");
        }
        if cfg!(feature = "s3") {
            expected.push("s3");
        }
        if cfg!(feature = "sns") {
            expected.push("sns");
        }
        if cfg!(feature = "sqs") {
            expected.extend(["sqs", "sqs-batch"]);
        }
        assert_eq!(names, expected);
    }

    #[test]
    fn each_registration_builds_an_adapter_of_its_source() {
        let registry = Registry::global().unwrap();
        let settings = Settings::from_map::<&str, &str>([]);
        for plugin in registry.adapters() {
            let adapter = (plugin.build)(&settings).unwrap();
            let source = plugin.name.strip_suffix("-batch").unwrap_or(plugin.name);
            assert_eq!(adapter.name(), source, "{}", plugin.origin);
        }
    }

    #[cfg(feature = "pass-through")]
    #[test]
    fn pass_through_reads_its_path_from_the_settings() {
        use crate::test_support::decode_batch;

        let registry = Registry::global().unwrap();
        let settings = Settings::from_map([
            ("SERVERLESS_ADAPTER_ADAPTERS", "pass-through"),
            ("AWS_LWA_PASS_THROUGH_PATH", "/invoke"),
        ]);
        let adapters = registry.adapters_from(&settings).unwrap().unwrap();
        let batch = decode_batch(&adapters[0], b"{\"a\":1}");
        assert_eq!(batch.items[0].request.uri().path(), "/invoke");
    }
}
