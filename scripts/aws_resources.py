"""Create the raw bucket, the event queue with its dead-letter queue, and the
bucket -> queue ObjectCreated notification. Idempotent; the same shape the
helm chart's README asks for on AWS."""

import json
import os

import boto3

bucket = os.environ["RAW_BUCKET"]
s3 = boto3.client("s3")
sqs = boto3.client("sqs")

if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
    s3.create_bucket(Bucket=bucket)

dlq_url = sqs.create_queue(QueueName=os.environ["EVENTS_DLQ"])["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
queue_url = sqs.create_queue(QueueName=os.environ["EVENTS_QUEUE"])["QueueUrl"]
sqs.set_queue_attributes(
    QueueUrl=queue_url,
    Attributes={
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": os.environ.get("EVENTS_MAX_RECEIVE_COUNT", "3")}
        ),
        "VisibilityTimeout": os.environ.get("EVENTS_VISIBILITY_TIMEOUT", "300"),
    },
)
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
s3.put_bucket_notification_configuration(
    Bucket=bucket,
    NotificationConfiguration={
        "QueueConfigurations": [
            {
                "Id": "incoming-batches",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": os.environ["INCOMING_PREFIX"]}]}},
            }
        ]
    },
)
