"""What the operations tests share: the module's warehouse, its sample of
the data set, the lake, DAG runs in-process, the lineage file."""

import csv
import io
from pathlib import Path

import boto3
from stack import connect, source_csv
from superstore_orchestration.local_run import RunRecord, run_dag

OPS_DB = "superstore_operations"
SAMPLE_ROWS = 400  # enough for every mart and check; fast


def query(sql: str, *params):
    with connect(OPS_DB) as conn:
        return conn.execute(sql, params).fetchall()


def sample_csv(path: Path) -> Path:
    """The first SAMPLE_ROWS lines of the data set under test."""
    with source_csv().open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.reader(f))[: SAMPLE_ROWS + 1]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def read_s3_csv(bucket: str, key: str) -> list[dict]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def run(dag_id: str, **conf) -> RunRecord:
    return run_dag(dag_id, conf)
