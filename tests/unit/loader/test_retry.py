"""Infrastructure failures during a load (S3, the warehouse): the load stays
retryable, nothing of it is left in the raw layer, and the next run loads
it once; and another run finishing a load meanwhile. In process, to break
S3 or the warehouse (or step in) in the middle of a load."""

import psycopg
import pytest
from botocore.exceptions import ResponseStreamingError
from conftest import LOADER_ACTOR, connect, load_id_of, move, put_object, run_load, small_file, source_rows, to_csv
from superstore_common.loads import LoadState
from superstore_common.objects import S3Object
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_loader import fast_path
from superstore_loader import load as loading
from superstore_loader.warehouse import open_warehouse


class BreakingS3:
    """The real client, but an object's body breaks off after some reads;
    `on_break` runs first (to break something else at that moment)."""

    def __init__(self, s3, reads: int, on_break=None):
        self._s3, self._reads, self._on_break = s3, reads, on_break

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def get_object(self, **kwargs):
        response = self._s3.get_object(**kwargs)
        return {**response, "Body": BreakingBody(response["Body"], self._reads, self._on_break)}


class BreakingBody:
    def __init__(self, body, reads: int, on_break):
        self._body, self._reads, self._on_break = body, reads, on_break

    def read(self, *args):
        self._reads -= 1
        if self._reads < 0:
            if self._on_break:
                self._on_break()
            raise ResponseStreamingError(error="connection reset by peer")
        return self._body.read(*args)

    def __getattr__(self, name):
        return getattr(self._body, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._body.close()


@pytest.fixture
def big_object(s3, monkeypatch):
    """The data set in many blocks: a break comes after rows went to the warehouse."""
    monkeypatch.setattr(fast_path, "BLOCK_BYTES", 16 * 1024)
    header, rows = source_rows()
    return put_object(s3, "breaks.csv", to_csv(header, rows).encode()), len(rows)


def load_in_process(obj: dict, s3) -> dict:
    with open_warehouse(WarehouseSettings(), s3, LakeSettings()) as warehouse:
        return loading.load([S3Object(**obj)], "auto", s3=s3, warehouse=warehouse, lake=LakeSettings())


def test_an_s3_failure_leaves_the_load_failed_and_the_retry_loads_it_once(schemas, db, s3, big_object):
    obj, count = big_object
    load_id = load_id_of(obj)

    with pytest.raises(ResponseStreamingError):
        load_in_process(obj, BreakingS3(s3, reads=20))

    load = db.load(load_id)
    assert (load["state"], load["raw_rows"]) == ("failed", None)
    assert load["reason"].startswith("ResponseStreamingError: ")
    assert db.raw_rows(load_id) == 0  # the rows sent before the break are rolled back

    retry = run_load(obj)

    assert retry.returncode == 0, retry.stderr
    assert retry.json["load_ids"] == [load_id]
    assert db.raw_rows(load_id) == count
    assert [t[:2] for t in db.transitions(load_id)] == [
        (None, "received"),
        ("received", "failed"),
        ("failed", "staged"),
    ]


def test_with_the_warehouse_gone_the_load_stays_as_it_was_and_the_retry_loads_it(schemas, db, s3, big_object, caplog):
    obj, count = big_object
    load_id = load_id_of(obj)

    with open_warehouse(WarehouseSettings(), s3, LakeSettings()) as warehouse:
        pid = warehouse.connection.raw.info.backend_pid

        def kill_the_loaders_connection():  # this test's loader only: other suites share the stack
            with connect() as admin:
                admin.execute("select pg_terminate_backend(%s)", (pid,))

        with pytest.raises(psycopg.OperationalError, match="terminating connection"):
            loading.load(
                [S3Object(**obj)], "auto", s3=BreakingS3(s3, 20, kill_the_loaders_connection),
                warehouse=warehouse, lake=LakeSettings(),
            )  # fmt: skip
    # The failure could not be recorded (best effort): the load is as the run found it.
    assert "could not record the failure in the ledger" in caplog.text
    assert db.load(load_id)["state"] == "received"
    assert db.raw_rows(load_id) == 0

    retry = run_load(obj)

    assert retry.returncode == 0, retry.stderr
    assert db.raw_rows(load_id) == count
    assert db.transitions(load_id) == [
        (None, "received", LOADER_ACTOR, None),
        ("received", "staged", LOADER_ACTOR, None),
    ]


def test_a_transient_failure_is_one_line_and_exit_1(schemas, s3, monkeypatch):
    """The step as a process, the warehouse unreachable: exit 1, one line, no password."""
    header, rows = small_file(3)
    obj = put_object(s3, "unreachable.csv", to_csv(header, rows).encode())
    monkeypatch.setenv("WAREHOUSE_PORT", "1")

    run = run_load(obj)

    assert (run.returncode, run.json) == (1, None)
    assert len(run.error_lines) == 1 and run.error_lines[0].startswith("error: warehouse unreachable: "), run.stderr
    assert WarehouseSettings().password.get_secret_value() not in run.stderr


# --- another run at the same time


@pytest.mark.parametrize(
    "meanwhile, status",
    [((LoadState.AUDITED, LoadState.PUBLISHED), "published"), ((LoadState.REJECTED,), "rejected")],
    ids=["published", "rejected"],
)
def test_a_load_another_run_finished_meanwhile_is_left_as_it_is(schemas, db, s3, meanwhile, status):
    """Between the loader's look at the ledger and its staging transaction,
    another run's build published (or rejected) the load: nothing to do."""
    header, rows = small_file(4)
    obj = put_object(s3, "meanwhile.csv", to_csv(header, rows).encode())
    other = put_object(s3, "other.csv", to_csv(header, rows[:2]).encode())
    load_id = load_id_of(obj)
    assert run_load(obj).returncode == 0  # staged

    with open_warehouse(WarehouseSettings(), s3, LakeSettings()) as warehouse:
        transactions = warehouse.transaction
        calls = []

        def transaction():
            calls.append(1)
            if len(calls) == 2:  # the staging transaction: the other run's build was quicker
                move(load_id, *meanwhile, reason="the other run's verdict")
            return transactions()

        warehouse.transaction = transaction
        result = loading.load(
            [S3Object(**obj), S3Object(**other)], "auto", s3=s3, warehouse=warehouse, lake=LakeSettings()
        )

    outcome, _ = result["objects"]
    assert outcome["status"] == status and result["load_ids"] == [load_id_of(other)]
    if status == "rejected":  # refused, as any rejected load
        assert result["errors"] == [f"s3://{obj['bucket']}/{obj['key']} was rejected before, not loading it again"
                                    f" (admit it again with --readmit={load_id_of(obj)}):"
                                    " the other run's verdict"]  # fmt: skip
    assert db.load(load_id)["state"] == status
    assert db.transitions(load_id)[-1][1] == status  # nothing recorded after the other run's verdict
    assert db.raw_rows(load_id) == len(rows)
