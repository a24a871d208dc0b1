"""The generate command as the pipeline runs it: a process, S3 on the moto
server, the step contract (result JSON, one-line errors), the object's
identity (bucket, key, ETag) and load id."""

import csv
import io
import re
from decimal import Decimal

from conftest import BUCKET
from superstore_common.objects import LOAD_ID, load_id
from superstore_common.source_format import HEADER

AS_OF = "2024-03-05"
RESULT_KEYS = {"bucket", "key", "etag", "load_id", "rows", "sales_sum", "profit_sum", "seed"}


def test_writes_a_batch_in_the_source_format(generate, reference_uri, read_object, step_env, s3):
    # large enough to go up in several parts
    run = generate("--rows", "40000", "--seed", "11", "--as-of", AS_OF, "--reference", reference_uri)

    assert run.returncode == 0, run.stderr
    result = run.result
    assert set(result) == RESULT_KEYS
    assert re.fullmatch(r"incoming/2024/03/05/[0-9a-f]{20}\.csv", result["key"])
    assert (result["rows"], result["seed"]) == (40000, 11)
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr + str(result)
    # the load id is the object's: from its bucket, key and ETag in S3
    stored = s3.head_object(Bucket=result["bucket"], Key=result["key"])
    assert stored["ETag"] == f'"{result["etag"]}"' and stored["ETag"].endswith('-2"')  # two parts
    assert result["load_id"] == load_id(result["bucket"], result["key"], stored["ETag"])
    assert LOAD_ID.fullmatch(result["load_id"])

    text = read_object(result["key"]).decode("utf-8")
    assert text.splitlines()[0] == ",".join(HEADER)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["Row ID"] for row in rows] == [str(n) for n in range(1, 40001)]
    for row in rows:
        assert re.fullmatch(r"[1-9]\d?/[1-9]\d?/\d{4}", row["Order Date"]), row
        assert re.fullmatch(r"-?\d+\.\d{2,4}", row["Sales"]), row
        assert re.fullmatch(r"-?\d+(\.\d{1,4})?", row["Profit"]), row
        assert re.fullmatch(r"0(\.\d{1,2})?", row["Discount"]), row
    # the sums are exact
    assert Decimal(result["sales_sum"]) == sum(Decimal(row["Sales"]) for row in rows)
    assert Decimal(result["profit_sum"]) == sum(Decimal(row["Profit"]) for row in rows)


def test_same_inputs_give_the_same_bytes_and_key_another_seed_another(generate, reference_uri, read_object):
    args = ("--rows", "2000", "--as-of", AS_OF, "--reference", reference_uri)
    first = generate(*args, "--seed", "42", "--prefix", "determinism-a/")
    second = generate(*args, "--seed", "42", "--prefix", "determinism-b/")
    other = generate(*args, "--seed", "43", "--prefix", "determinism-a/")

    assert first.returncode == second.returncode == other.returncode == 0, first.stderr + second.stderr
    name = lambda run: run.result["key"].rsplit("/", 1)[1]  # noqa: E731
    assert name(first) == name(second) != name(other)
    assert first.result["etag"] == second.result["etag"] != other.result["etag"]
    # another key, another object, another load
    assert {**first.result, "key": "", "load_id": ""} == {**second.result, "key": "", "load_id": ""}
    assert first.result["load_id"] != second.result["load_id"]
    assert read_object(first.result["key"]) == read_object(second.result["key"])
    assert read_object(other.result["key"]) != read_object(first.result["key"])


def test_every_share_shapes_the_key(generate, reference_uri):
    args = ("--rows", "200", "--seed", "42", "--as-of", AS_OF, "--reference", reference_uri, "--prefix", "shares/")
    keys = {
        generate(*args, *options).result["key"]
        for options in [
            (),
            ("--new-customer-share", "0.06"),
            ("--new-product-share", "0.03"),
            ("--new-place-share", "0.2"),
            ("--changed-customer-share", "0.05"),
        ]
    }

    assert len(keys) == 5


def test_a_rerun_keeps_the_batch_already_written(generate, reference_uri, s3, read_object):
    args = ("--rows", "300", "--seed", "5", "--as-of", AS_OF, "--reference", reference_uri, "--prefix", "rerun/")
    first = generate(*args)
    bucket, key = first.result["bucket"], first.result["key"]
    # a marker in place of the content, with the batch's metadata
    metadata = s3.head_object(Bucket=bucket, Key=key)["Metadata"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"marker", Metadata=metadata)

    marker_etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]

    again = generate(*args)

    assert again.returncode == 0, again.stderr
    # not rewritten: the object there is the batch, whatever it holds
    assert read_object(key) == b"marker"
    assert again.result == {
        **first.result,
        "etag": marker_etag.strip('"'),
        "load_id": load_id(bucket, key, marker_etag),
    }


def test_a_rerun_reannounces_a_multipart_batch_with_its_etag(generate, reference_uri, s3, read_object):
    """A copy onto itself in one piece would give a multipart object another
    ETag (the MD5 of its bytes): another identity, another load id. Copied
    part by part, it keeps both."""
    args = ("--rows", "40000", "--seed", "6", "--as-of", AS_OF, "--reference", reference_uri, "--prefix", "rerun/")
    first = generate(*args)
    bucket, key = first.result["bucket"], first.result["key"]
    before = s3.head_object(Bucket=bucket, Key=key)
    body = read_object(key)

    again = generate(*args)

    assert again.returncode == 0, again.stderr
    assert "re-announced" in again.stderr
    after = s3.head_object(Bucket=bucket, Key=key)
    assert after["ETag"] == before["ETag"] and before["ETag"].endswith('-2"')
    assert (after["Metadata"], after["ContentType"]) == (before["Metadata"], before["ContentType"])
    assert again.result == first.result
    assert read_object(key) == body


def test_without_published_tables_nor_reference_it_fails_in_one_line(generate):
    run = generate("--rows", "10", "--seed", "1", "--as-of", AS_OF)

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("error: no reference data")
    assert run.result is None


def test_a_missing_reference_file_fails_in_one_line(generate):
    missing = f"s3://{BUCKET}/nope.csv"  # our bucket, no such object
    run = generate("--rows", "10", "--seed", "1", "--as-of", AS_OF, "--reference", missing)

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == f"error: reference {missing} does not exist"
