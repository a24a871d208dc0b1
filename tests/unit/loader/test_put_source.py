"""`superstore-loader put-source`: the source file into the raw bucket, once per content."""

import hashlib
import os
import uuid

from conftest import KAGGLE, put, run_loader, unique_key

BUCKET = os.environ["RAW_BUCKET"]


def test_a_local_file_is_stored_under_its_sha256(s3):
    sha256 = hashlib.sha256(KAGGLE.read_bytes()).hexdigest()

    first = run_loader("put-source", "--source", str(KAGGLE))
    again = run_loader("put-source", "--source", str(KAGGLE))

    expected = {"bucket": BUCKET, "key": f"raw/initial/{sha256}.csv", "sha256": sha256,
                "bytes": KAGGLE.stat().st_size, "source": str(KAGGLE)}  # fmt: skip
    assert (first.returncode, first.json) == (0, expected), first.stderr
    assert (again.returncode, again.json) == (0, expected), again.stderr
    assert "already stored, skipping the upload" in again.stderr
    stored = s3.get_object(Bucket=BUCKET, Key=expected["key"])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == sha256


def test_an_s3_source_is_copied_under_its_sha256(s3):
    body = b"Row ID,Order ID\n1,CA-1\n"
    source = f"s3://{BUCKET}/{put(s3, unique_key('upload.csv'), body)}"
    sha256 = hashlib.sha256(body).hexdigest()

    run = run_loader("put-source", "--source", source)

    assert run.returncode == 0, run.stderr
    assert run.json == {
        "bucket": BUCKET,
        "key": f"raw/initial/{sha256}.csv",
        "sha256": sha256,
        "bytes": len(body),
        "source": source,
    }
    assert s3.get_object(Bucket=BUCKET, Key=run.json["key"])["Body"].read() == body


def test_a_missing_source_is_a_one_line_error(s3, tmp_path):
    for source, message in [(str(tmp_path / "nope.csv"), f"error: {tmp_path}/nope.csv: no such file"),
                            (f"s3://{BUCKET}/nope.csv", f"error: s3://{BUCKET}/nope.csv: no such object")]:  # fmt: skip
        run = run_loader("put-source", "--source", source)

        assert (run.returncode, run.error_lines, run.json) == (1, [message], None)


def test_errors_name_the_file_the_object_came_from(schemas, s3, tmp_path):
    source = tmp_path / "März orders.csv"
    source.write_text(f"Row ID,Order ID\n1,{uuid.uuid4()}\n", encoding="utf-8")  # new content; missing columns
    key = run_loader("put-source", "--source", str(source)).json["key"]

    run = run_loader("load", "--keys", f'["{key}"]', "--batch-id", "b", "--mode", "initial")

    assert run.returncode == 1
    assert f"s3://{BUCKET}/{key} (from {source})" in run.error_lines[0]
