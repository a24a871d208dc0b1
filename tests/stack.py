"""Helpers for tests that use the local stack (PostgreSQL + moto server)."""

import importlib.util
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import psycopg


def conninfo(database: str) -> str:
    """The warehouse settings of scripts/env.sh, for another database."""
    env = os.environ
    return psycopg.conninfo.make_conninfo(
        host=env["WAREHOUSE_HOST"],
        port=env["WAREHOUSE_PORT"],
        user=env["WAREHOUSE_USER"],
        password=env["WAREHOUSE_PASSWORD"],
        dbname=database,
    )


def connect(db: str | None = None) -> psycopg.Connection:
    return psycopg.connect(conninfo(db or os.environ["WAREHOUSE_DB"]), autocommit=True)


def lineage_file(path: Path) -> dict[str, str]:
    """The OpenLineage client's settings that append events to `path`."""
    return {
        "OPENLINEAGE__TRANSPORT__TYPE": "file",
        "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(path),
        "OPENLINEAGE__TRANSPORT__APPEND": "true",
    }


def lineage_events(path: Path) -> list[dict]:
    """The events in `path` so far (whole lines: a step may be writing one)."""
    return [json.loads(line) for line in path.read_text().split("\n")[:-1]] if path.exists() else []


def fresh_database(name: str) -> None:
    with connect() as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")


def drop_database(name: str) -> None:
    with connect() as conn:
        conn.execute(f"drop database if exists {name} with (force)")


@contextmanager
def own_database(name: str) -> Iterator[str]:
    """A fresh database of a test's own (a unique name: two sessions at once
    never share it), WAREHOUSE_DB in os.environ while it is used, dropped after."""
    database = f"{name}_{uuid.uuid4().hex[:8]}"
    fresh_database(database)
    try:
        with environ({"WAREHOUSE_DB": database}):
            yield database
    finally:
        drop_database(database)


def set_env(monkeypatch, settings: dict[str, str]) -> dict[str, str]:
    """A step's settings in os.environ (for in-process use of its package);
    the whole environment, for running its entrypoint."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


def queue_url(name: str) -> str:
    return boto3.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def drain(name: str) -> None:
    """Empty a queue (PurgeQueue is limited to once a minute)."""
    sqs = boto3.client("sqs")
    url = queue_url(name)
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages"):
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages]
        )


def queue_depth(name: str) -> int:
    """Messages on the queue, visible or in flight."""
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


REPO = Path(__file__).resolve().parents[1]
KAGGLE_CSV = REPO.parent / "shared" / "data" / "superstore-kaggle.csv"
PUBLIC_CSV = REPO / "data" / "superstore.csv"


def source_csv() -> Path:
    """The data set under test: the Kaggle copy beside the repo when it is
    there, else the public copy `make demo` fetches. SUPERSTORE_SOURCE
    forces one: `public` (fetched if absent), `kaggle`, or a CSV's path.
    Expected figures are derived from the file, never written down per copy."""
    forced = os.environ.get("SUPERSTORE_SOURCE", "")
    if forced not in ("", "public", "kaggle"):
        return Path(forced).resolve()
    if forced == "kaggle" or (not forced and KAGGLE_CSV.is_file()):
        return KAGGLE_CSV
    if not PUBLIC_CSV.is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-data.sh")], check=True)
    return PUBLIC_CSV


def _aws_resources():
    spec = importlib.util.spec_from_file_location("aws_resources", REPO / "scripts" / "aws_resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def environ(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`env` in os.environ while the block runs; what was there before, after."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _delete_queues(*names: str) -> None:
    sqs = boto3.client("sqs")
    for queue in names:
        sqs.delete_queue(QueueUrl=queue_url(queue))


@contextmanager
def own_lake(name: str) -> Iterator[dict[str, str]]:
    """A bucket, event queue and dead-letter queue of a test module's own
    (the shape `make up` creates), set in os.environ for the module and
    removed afterwards: no other test's objects or messages reach it."""
    suffix = f"{name}-{uuid.uuid4().hex[:8]}"
    env = {"RAW_BUCKET": f"lake-{suffix}", "EVENTS_QUEUE": f"events-{suffix}", "EVENTS_DLQ": f"events-{suffix}-dlq"}
    env["PIPELINE_EVENTS_QUEUE_URL"] = _aws_resources().create(
        env["RAW_BUCKET"], env["EVENTS_QUEUE"], env["EVENTS_DLQ"], os.environ["INCOMING_PREFIX"],
        os.environ.get("EVENTS_MAX_RECEIVE_COUNT", "3"), "300",
    )  # fmt: skip
    try:
        with environ(env):
            yield env
    finally:
        bucket = boto3.resource("s3").Bucket(env["RAW_BUCKET"])
        bucket.objects.all().delete()
        bucket.delete()
        _delete_queues(env["EVENTS_QUEUE"], env["EVENTS_DLQ"])


@contextmanager
def own_queues(name: str) -> Iterator[dict[str, str]]:
    """A new event queue and dead-letter queue for the lake in os.environ (its
    bucket's notification pointed at them), e.g. one pair per test on a
    module's bucket: a message a test leaves (a rejected batch waiting for
    the DLQ) never reaches another test's run, however long it takes. The
    bucket's notification is pointed back and the queues deleted after."""
    suffix = f"{name}-{uuid.uuid4().hex[:8]}"
    env = {"EVENTS_QUEUE": f"events-{suffix}", "EVENTS_DLQ": f"events-{suffix}-dlq"}
    args = (os.environ["INCOMING_PREFIX"], os.environ.get("EVENTS_MAX_RECEIVE_COUNT", "3"), "300")
    bucket, previous = os.environ["RAW_BUCKET"], (os.environ["EVENTS_QUEUE"], os.environ["EVENTS_DLQ"])
    env["PIPELINE_EVENTS_QUEUE_URL"] = _aws_resources().create(bucket, env["EVENTS_QUEUE"], env["EVENTS_DLQ"], *args)
    try:
        with environ(env):
            yield env
    finally:
        _aws_resources().create(bucket, *previous, *args)
        _delete_queues(env["EVENTS_QUEUE"], env["EVENTS_DLQ"])
