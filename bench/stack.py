"""The local stack as the benchmark uses it: its own databases on the
warehouse server, its own prefix in the raw bucket, the event queue.
Settings come from scripts/env.sh (the Makefile sources it)."""

import json
import os
import time
from pathlib import Path

import boto3
import psycopg

# The database scripts/env.sh names: only used to create and drop the bench's own.
ADMIN_DB = os.environ["WAREHOUSE_DB"]
BUCKET = os.environ["RAW_BUCKET"]


def connect(db: str) -> psycopg.Connection:
    env = os.environ
    return psycopg.connect(
        host=env["WAREHOUSE_HOST"],
        port=env["WAREHOUSE_PORT"],
        dbname=db,
        user=env["WAREHOUSE_USER"],
        password=env["WAREHOUSE_PASSWORD"],
        autocommit=True,
    )


def recreate_databases(*names: str) -> None:
    with connect(ADMIN_DB) as conn:
        for name in names:
            _drop_database(conn, name)
            conn.execute(f'create database "{name}"')


def _drop_database(conn: psycopg.Connection, name: str, attempts: int = 30) -> None:
    """FORCE ends our own sessions but refuses to end an autovacuum worker
    (a process of no role we are a member of) busy on the tables the last
    run wrote: wait for it to finish."""
    for attempt in range(attempts):
        try:
            conn.execute(f'drop database if exists "{name}" with (force)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def query_all(db: str, sql: str, *params) -> list[tuple]:
    with connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def query_one(db: str, sql: str, *params) -> tuple:
    with connect(db) as conn:
        return conn.execute(sql, params).fetchone()


def s3():
    return boto3.client("s3")


def s3_uri(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


def delete_prefix(prefix: str) -> None:
    client = s3()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])


def delete(key: str) -> None:
    s3().delete_object(Bucket=BUCKET, Key=key)


def upload(path: Path, key: str) -> str:
    s3().upload_file(str(path), BUCKET, key)
    return key


def objects_json(key: str) -> str:
    """The loader's --objects for the current version of a key."""
    etag = s3().head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    return json.dumps([{"bucket": BUCKET, "key": key, "etag": etag}])


def forget_loads(db: str) -> None:
    """Empty the raw layer and its ledger: the next load of the same object
    copies its rows again (a repeat of the measurement)."""
    with connect(db) as conn:
        conn.execute("truncate raw.order_lines, raw.loads, raw.load_transitions")


def download(key: str, path: Path) -> Path:
    s3().download_file(BUCKET, key, str(path))
    return path


def purge_events() -> None:
    """Empty the S3-event queue so the incremental DAG takes only its own batch.
    Received and deleted, not PurgeQueue: SQS allows one purge a minute, and
    interleaved runs come quicker than that."""
    sqs, url = boto3.client("sqs"), os.environ["PIPELINE_EVENTS_QUEUE_URL"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
