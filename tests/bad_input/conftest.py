"""Fixtures of the bad-input suite: a database, schemas and a bucket of its
own on the local stack (PostgreSQL + moto server), and one good publish
(the first lines of the data set, loaded and built by the real entrypoints)
that every case must leave exactly as it was."""

import boto3
import pytest
from bad_input_kit import (
    BUCKET,
    DATABASE,
    Cases,
    build,
    good_file,
    ledger,
    load,
    loader,
    published_checksums,
    put,
)
from stack import drop_database, fresh_database


@pytest.fixture(scope="session")
def bad_input_stack():
    fresh_database(DATABASE)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    created = loader("create-schemas")
    assert created.returncode == 0, created.stderr
    yield
    bucket = boto3.resource("s3").Bucket(BUCKET)
    bucket.objects.all().delete()
    bucket.delete()
    drop_database(DATABASE)


@pytest.fixture(scope="session")
def published(bad_input_stack) -> dict[str, tuple]:
    """The good file published (load + dbt build --mode initial); the
    checksums of every published table, as each case must leave them."""
    good = put("incoming/good/initial.csv", good_file())
    loaded = load(good)
    assert loaded.returncode == 0, loaded.stderr
    (load_id,) = loaded.result["load_ids"]
    built = build("initial", [load_id], "bad-input-initial")
    assert built.returncode == 0, built.stderr
    assert built.result["published"] == [load_id], built.result
    assert ledger(good)["state"] == "published"
    dropped = loader("drop-staging", "--run-id", "bad-input-initial")
    assert dropped.returncode == 0, dropped.stderr
    checksums = published_checksums()
    assert checksums["fct_sales"][0] == loaded.result["loaded_rows"] > 0
    return checksums


@pytest.fixture
def cases(published) -> Cases:
    """Puts a case's object in S3 and loads it; its assertions compare with the good publish."""
    return Cases(published)
