"""Create the raw bucket, the event queue with its dead-letter queue, and the
bucket -> queue ObjectCreated notification. Idempotent; the same shape the
helm chart's README asks for on AWS. `make up` runs it for the local stack;
tests call `create` for a lake of their own."""

import json
import os

import boto3


def create(bucket: str, queue: str, dlq: str, prefix: str, max_receive_count: str, visibility_timeout: str) -> str:
    """The bucket, its queues and notification; returns the queue's URL."""
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    dlq_url = sqs.create_queue(QueueName=dlq)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}),
            "VisibilityTimeout": visibility_timeout,
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
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue_url


if __name__ == "__main__":
    env = os.environ
    create(
        env["RAW_BUCKET"], env["EVENTS_QUEUE"], env["EVENTS_DLQ"], env["INCOMING_PREFIX"],
        env.get("EVENTS_MAX_RECEIVE_COUNT", "3"), env.get("EVENTS_VISIBILITY_TIMEOUT", "300"),
    )  # fmt: skip
