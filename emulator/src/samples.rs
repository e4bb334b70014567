//! Built-in sample events, shaped like the ones AWS sends.

/// The names of the built-in sample events.
pub const SAMPLE_EVENTS: &[&str] = &[
    "sqs",
    "sns",
    "apigw-v2",
    "apigw-v1",
    "alb",
    "function-url",
    "eventbridge",
    "s3",
    "kinesis",
    "dynamodb",
];

/// A built-in sample event by name (see [`SAMPLE_EVENTS`]).
pub fn sample_event(name: &str) -> Option<&'static str> {
    Some(match name {
        "sqs" => SQS,
        "sns" => SNS,
        "apigw-v2" | "http-api" => APIGW_V2,
        "apigw-v1" | "rest-api" => APIGW_V1,
        "alb" => ALB,
        "function-url" | "url" => FUNCTION_URL,
        "eventbridge" | "cloudwatch-event" => EVENTBRIDGE,
        "s3" => S3,
        "kinesis" => KINESIS,
        "dynamodb" => DYNAMODB,
        _ => return None,
    })
}

const SQS: &str = r#"{
  "Records": [
    {
      "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
      "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      "body": "{\"orderId\":1001,\"action\":\"ship\"}",
      "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185"
      },
      "messageAttributes": {
        "tenant": { "stringValue": "acme", "stringListValues": [], "binaryListValues": [], "dataType": "String" }
      },
      "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
      "awsRegion": "us-east-1"
    },
    {
      "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
      "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...",
      "body": "{\"orderId\":1002,\"action\":\"ship\"}",
      "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082650636",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082650649"
      },
      "messageAttributes": {},
      "md5OfBody": "7b270e59b47ff90a553787216d55d91d",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
      "awsRegion": "us-east-1"
    },
    {
      "messageId": "c80e8021-a70a-42c7-a470-796e1186f753",
      "receiptHandle": "AQEBJQ+/u6NsnT5t8Q/VbVxgdUl4TMKZ5F...",
      "body": "{\"orderId\":1003,\"action\":\"fail\"}",
      "attributes": {
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "1545082651117",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082651120"
      },
      "messageAttributes": {},
      "md5OfBody": "0f1a6f2c4a4c2b41a3a1e5b5c0d6f4e2",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
      "awsRegion": "us-east-1"
    }
  ]
}"#;

const SNS: &str = r#"{
  "Records": [
    {
      "EventVersion": "1.0",
      "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:notifications:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
      "EventSource": "aws:sns",
      "Sns": {
        "SignatureVersion": "1",
        "Timestamp": "2024-01-02T12:45:07.000Z",
        "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
        "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "Message": "{\"userId\":42,\"event\":\"signed-up\"}",
        "MessageAttributes": {
          "source": { "Type": "String", "Value": "web" }
        },
        "Type": "Notification",
        "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:notifications:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:notifications",
        "Subject": "signup"
      }
    }
  ]
}"#;

const APIGW_V2: &str = r#"{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/echo/hello",
  "rawQueryString": "a=1&a=2",
  "cookies": ["session=abc123"],
  "headers": {
    "accept": "*/*",
    "content-length": "0",
    "host": "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-amzn-trace-id": "Root=1-65a1b2c3-0123456789abcdef01234567",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https"
  },
  "queryStringParameters": { "a": "1,2" },
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "r3pmxmplak",
    "domainName": "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "r3pmxmplak",
    "http": {
      "method": "GET",
      "path": "/echo/hello",
      "protocol": "HTTP/1.1",
      "sourceIp": "203.0.113.7",
      "userAgent": "curl/8.5.0"
    },
    "requestId": "JKJaXmPLvHcESHA=",
    "routeKey": "$default",
    "stage": "$default",
    "time": "02/Jan/2024:12:45:07 +0000",
    "timeEpoch": 1704199507000
  },
  "isBase64Encoded": false
}"#;

const APIGW_V1: &str = r#"{
  "resource": "/{proxy+}",
  "path": "/echo/hello",
  "httpMethod": "POST",
  "headers": {
    "Accept": "*/*",
    "Content-Type": "application/json",
    "Host": "1234567890.execute-api.us-east-1.amazonaws.com",
    "User-Agent": "curl/8.5.0",
    "X-Amzn-Trace-Id": "Root=1-65a1b2c3-0123456789abcdef01234567",
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
    "X-Multi": "b"
  },
  "multiValueHeaders": {
    "Accept": ["*/*"],
    "Content-Type": ["application/json"],
    "Host": ["1234567890.execute-api.us-east-1.amazonaws.com"],
    "User-Agent": ["curl/8.5.0"],
    "X-Amzn-Trace-Id": ["Root=1-65a1b2c3-0123456789abcdef01234567"],
    "X-Forwarded-For": ["203.0.113.7"],
    "X-Forwarded-Port": ["443"],
    "X-Forwarded-Proto": ["https"],
    "X-Multi": ["a", "b"]
  },
  "queryStringParameters": { "a": "2" },
  "multiValueQueryStringParameters": { "a": ["1", "2"] },
  "pathParameters": { "proxy": "echo/hello" },
  "stageVariables": null,
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "1234567890",
    "domainName": "1234567890.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "1234567890",
    "extendedRequestId": "LgRAYFq8IAMFbVQ=",
    "httpMethod": "POST",
    "identity": {
      "accessKey": null,
      "accountId": null,
      "caller": null,
      "sourceIp": "203.0.113.7",
      "user": null,
      "userAgent": "curl/8.5.0",
      "userArn": null
    },
    "path": "/prod/echo/hello",
    "protocol": "HTTP/1.1",
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "requestTime": "02/Jan/2024:12:45:07 +0000",
    "requestTimeEpoch": 1704199507000,
    "resourceId": "123456",
    "resourcePath": "/{proxy+}",
    "stage": "prod"
  },
  "body": "{\"hello\":\"world\"}",
  "isBase64Encoded": false
}"#;

const ALB: &str = r#"{
  "requestContext": {
    "elb": {
      "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-tg/6d0ecf831eec9f09"
    }
  },
  "httpMethod": "GET",
  "path": "/echo/hello",
  "queryStringParameters": { "a": "2" },
  "headers": {
    "accept": "*/*",
    "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-amzn-trace-id": "Root=1-65a1b2c3-0123456789abcdef01234567",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "80",
    "x-forwarded-proto": "http"
  },
  "body": "",
  "isBase64Encoded": false
}"#;

const FUNCTION_URL: &str = r#"{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/",
  "rawQueryString": "",
  "headers": {
    "accept": "*/*",
    "host": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.lambda-url.us-east-1.on.aws",
    "user-agent": "curl/8.5.0",
    "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
    "x-amzn-tls-version": "TLSv1.3",
    "x-amzn-trace-id": "Root=1-65a1b2c3-0123456789abcdef01234567",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https"
  },
  "requestContext": {
    "accountId": "anonymous",
    "apiId": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "domainName": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.lambda-url.us-east-1.on.aws",
    "domainPrefix": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "http": {
      "method": "GET",
      "path": "/",
      "protocol": "HTTP/1.1",
      "sourceIp": "203.0.113.7",
      "userAgent": "curl/8.5.0"
    },
    "requestId": "7f8e5c0a-2b2d-4c4e-9f0a-6f1c2d3e4f50",
    "routeKey": "$default",
    "stage": "$default",
    "time": "02/Jan/2024:12:45:07 +0000",
    "timeEpoch": 1704199507000
  },
  "isBase64Encoded": false
}"#;

const EVENTBRIDGE: &str = r#"{
  "version": "0",
  "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  "source": "aws.events",
  "account": "123456789012",
  "time": "2024-01-02T12:45:00Z",
  "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly-report"],
  "detail": {}
}"#;

const S3: &str = r#"{
  "Records": [
    {
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "us-east-1",
      "eventTime": "2024-01-02T12:45:07.000Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": { "principalId": "AWS:AIDAINPONIXQXHT3IKHL2" },
      "requestParameters": { "sourceIPAddress": "203.0.113.7" },
      "responseElements": {
        "x-amz-request-id": "D82B88E5F771F645",
        "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="
      },
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "uploads-created",
        "bucket": {
          "name": "example-uploads",
          "ownerIdentity": { "principalId": "A3I5XTEXAMAI3E" },
          "arn": "arn:aws:s3:::example-uploads"
        },
        "object": {
          "key": "images/cat.jpg",
          "size": 1305107,
          "eTag": "b21b84d653bb07b05b1e6b33684dc11b",
          "sequencer": "0C0F6F405D6ED209E1"
        }
      }
    }
  ]
}"#;

const KINESIS: &str = r#"{
  "Records": [
    {
      "kinesis": {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "device-1",
        "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
        "data": "eyJ0ZW1wZXJhdHVyZSI6MjEuNX0=",
        "approximateArrivalTimestamp": 1704199507.123
      },
      "eventSource": "aws:kinesis",
      "eventVersion": "1.0",
      "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
      "eventName": "aws:kinesis:record",
      "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-kinesis-role",
      "awsRegion": "us-east-1",
      "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"
    },
    {
      "kinesis": {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "device-2",
        "sequenceNumber": "49590338271490256608559692540925702759324208523137515618",
        "data": "eyJ0ZW1wZXJhdHVyZSI6MTkuMH0=",
        "approximateArrivalTimestamp": 1704199508.456
      },
      "eventSource": "aws:kinesis",
      "eventVersion": "1.0",
      "eventID": "shardId-000000000006:49590338271490256608559692540925702759324208523137515618",
      "eventName": "aws:kinesis:record",
      "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-kinesis-role",
      "awsRegion": "us-east-1",
      "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/telemetry"
    }
  ]
}"#;

const DYNAMODB: &str = r#"{
  "Records": [
    {
      "eventID": "c4ca4238a0b923820dcc509a6f75849b",
      "eventName": "INSERT",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "us-east-1",
      "dynamodb": {
        "ApproximateCreationDateTime": 1704199507,
        "Keys": { "Id": { "N": "101" } },
        "NewImage": {
          "Message": { "S": "New item!" },
          "Id": { "N": "101" }
        },
        "SequenceNumber": "4421584500000000017450439091",
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2024-01-02T00:00:00.000"
    },
    {
      "eventID": "c81e728d9d4c2f636f067f89cc14862c",
      "eventName": "MODIFY",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "us-east-1",
      "dynamodb": {
        "ApproximateCreationDateTime": 1704199508,
        "Keys": { "Id": { "N": "101" } },
        "NewImage": {
          "Message": { "S": "This item has changed" },
          "Id": { "N": "101" }
        },
        "OldImage": {
          "Message": { "S": "New item!" },
          "Id": { "N": "101" }
        },
        "SequenceNumber": "4421584500000000017450439092",
        "SizeBytes": 59,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2024-01-02T00:00:00.000"
    }
  ]
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_json() {
        for name in SAMPLE_EVENTS {
            let text = sample_event(name).unwrap();
            let _: serde_json::Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("sample {name} is not JSON: {e}"));
        }
        assert!(sample_event("nope").is_none());
    }
}
