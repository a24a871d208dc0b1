"""`superstore-loader put-source`: the source file into the raw bucket, once
per content; its result names the object version the load step takes."""

import hashlib
import json
import uuid

from conftest import BUCKET, SOURCE, announce, load_id_of, put, run_load, run_loader, unique_key


def test_a_local_file_is_stored_under_its_sha256(s3):
    sha256 = hashlib.sha256(SOURCE.read_bytes()).hexdigest()

    first = run_loader("put-source", "--source", str(SOURCE))
    again = run_loader("put-source", "--source", str(SOURCE))

    key = f"raw/initial/{sha256}.csv"
    stored = announce(s3, key)
    expected = {**stored, "load_id": load_id_of(stored), "sha256": sha256,
                "bytes": SOURCE.stat().st_size, "source": str(SOURCE)}  # fmt: skip
    assert (first.returncode, first.json) == (0, expected), first.stderr
    assert (again.returncode, again.json) == (0, expected), again.stderr
    assert "already stored, skipping the upload" in again.stderr
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha256


def test_an_s3_source_is_copied_under_its_sha256(s3):
    body = b"Row ID,Order ID\n1,CA-1\n"
    source = f"s3://{BUCKET}/{put(s3, unique_key('upload.csv'), body)}"
    sha256 = hashlib.sha256(body).hexdigest()

    run = run_loader("put-source", "--source", source)

    assert run.returncode == 0, run.stderr
    stored = announce(s3, f"raw/initial/{sha256}.csv")
    assert run.json == {
        **stored,
        "load_id": load_id_of(stored),
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


def test_its_result_is_what_the_load_step_takes(schemas, db, s3, tmp_path):
    source = tmp_path / "März orders.csv"
    source.write_text(f"Row ID,Order ID\n1,{uuid.uuid4()}\n", encoding="utf-8")  # new content; missing columns
    stored = run_loader("put-source", "--source", str(source)).json
    obj = {name: stored[name] for name in ("bucket", "key", "etag")}

    run = run_loader("load", "--objects", json.dumps([obj]))

    assert run.returncode == 1
    # Errors name the file the object came from.
    assert run.error_lines[0].startswith(f"error: s3://{BUCKET}/{stored['key']} (from {source}) line 1")
    rerun = run_load(obj)
    assert f"(from {source}) was rejected before" in rerun.error_lines[0]
    assert stored["load_id"] == load_id_of(obj) and db.load(stored["load_id"])["state"] == "rejected"
