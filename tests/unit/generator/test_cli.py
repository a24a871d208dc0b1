"""The generate command as the pipeline runs it: a process, S3 on the moto
server, the step contract (result JSON, one-line errors)."""

import csv
import io
import re
from decimal import Decimal

from superstore_generator.source_format import HEADER

AS_OF = "2024-03-05"


def test_writes_a_batch_in_the_source_format(generate, reference_uri, read_object, step_env):
    # large enough to go up in several parts
    run = generate("--rows", "40000", "--seed", "11", "--as-of", AS_OF, "--reference", reference_uri)

    assert run.returncode == 0, run.stderr
    result = run.result
    assert set(result) == {"bucket", "key", "rows", "batch_id", "sales_sum", "profit_sum", "seed"}
    assert result["key"] == f"incoming/2024/03/05/{result['batch_id']}.csv"
    assert (result["rows"], result["seed"]) == (40000, 11)
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr + str(result)

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
    assert first.result["batch_id"] == second.result["batch_id"]
    assert {**first.result, "key": ""} == {**second.result, "key": ""}
    assert read_object(first.result["key"]) == read_object(second.result["key"])
    assert other.result["batch_id"] != first.result["batch_id"]
    assert read_object(other.result["key"]) != read_object(first.result["key"])


def test_a_rerun_keeps_the_batch_already_written(generate, reference_uri, s3, read_object):
    args = ("--rows", "300", "--seed", "5", "--as-of", AS_OF, "--reference", reference_uri, "--prefix", "rerun/")
    first = generate(*args)
    bucket, key = first.result["bucket"], first.result["key"]
    # a marker in place of the content, with the batch's metadata
    metadata = s3.head_object(Bucket=bucket, Key=key)["Metadata"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"marker", Metadata=metadata)

    again = generate(*args)

    assert again.returncode == 0, again.stderr
    assert again.result == first.result
    # not rewritten: no second upload, no second "object created" event
    assert read_object(key) == b"marker"


def test_without_published_tables_nor_reference_it_fails_in_one_line(generate):
    run = generate("--rows", "10", "--seed", "1", "--as-of", AS_OF)

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("error: no reference data")
    assert run.result is None


def test_a_missing_reference_file_fails_in_one_line(generate):
    run = generate("--rows", "10", "--seed", "1", "--as-of", AS_OF, "--reference", "s3://generator-test/nope.csv")

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == "error: reference s3://generator-test/nope.csv does not exist"
