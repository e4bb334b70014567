//! `DynamoDbAdapter`: `can_handle` and `decode` on arbitrary bytes and on JSON mutations of real
//! events, then the answer (see `serverless_adapter_fuzz::check_adapter`).
#![no_main]

serverless_adapter_fuzz::adapter_target!(
    serverless_adapter_adapters::DynamoDbAdapter,
    serverless_adapter_adapters::DynamoDbAdapter::batch()
);
