"""The fault suite's fixtures: its own PostgreSQL cluster and moto server
(started here, stopped at the end; the faults kill and restart them), and a
published history every case starts from: one database made by the real
initial flow, copied (CREATE DATABASE ... TEMPLATE) for the clean run and
for the faulty run of each case."""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import faults_data
import pytest
from faults_checks import Warehouse
from faults_stack import Moto, Postgres, Stack

HISTORY_DB = "history"
HISTORY_KEY = "raw/initial/history.csv"


@pytest.fixture(scope="session")
def stack():
    root = Path(tempfile.mkdtemp(prefix="superstore-faults-"))
    root.chmod(0o755)  # the postgres OS user writes its cluster below
    (root / "home").mkdir()
    pg, moto = Postgres(root), Moto(root)
    stack = Stack(root, pg, moto)
    try:
        pg.start()
        moto.start()
        yield stack
    finally:
        stack.kill_leftovers()
        moto.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class History:
    load_id: str
    published: dict


@pytest.fixture(scope="session")
def history(stack: Stack) -> History:
    """The initial flow on a small history: create-schemas, load, build --mode initial, drop-staging."""
    stack.pg.create_database(HISTORY_DB)
    stack.loader("create-schemas", db=HISTORY_DB).ok()
    obj = stack.moto.put(HISTORY_KEY, faults_data.history().body)
    built = stack.publish([obj], "history", HISTORY_DB, mode="initial")
    (load_id,) = built["published"]
    warehouse = Warehouse(stack.pg, HISTORY_DB)
    warehouse.assert_published_once(load_id, faults_data.history())
    return History(load_id, warehouse.published())


@pytest.fixture
def databases(stack: Stack, history: History, request):
    """make(name): a copy of the history, named after the test, as a Warehouse."""

    def make(suffix: str) -> Warehouse:
        name = f"{request.node.name.removeprefix('test_')[:40]}_{suffix}".lower()
        name = "".join(c if c.isalnum() else "_" for c in name)
        stack.pg.create_database(name, template=HISTORY_DB)
        return Warehouse(stack.pg, name)

    return make


@dataclass(frozen=True)
class Batch:
    """One object version of new orders, and what a clean run made of it."""

    obj: dict
    source: faults_data.SourceFile
    load_id: str
    published: dict  # the clean run's published tables (checksums without loaded_at)
    states: dict[str, str]  # the clean run's ledger: load id -> state
    raw_loads: dict[str, int]  # the clean run's raw layer: load id -> rows

    def assert_as_clean(self, warehouse: Warehouse, refused: str | None = None) -> None:
        """The faulty run, retried, ends where the clean run did (`refused`:
        a load the clean run did not have, which may be known, never published)."""
        assert warehouse.published() == self.published
        states = {load_id: load.state for load_id, load in warehouse.loads().items()}
        assert states.pop(refused, None) in {None, "received", "failed", "rejected"}
        assert states == self.states
        assert warehouse.raw_loads() == self.raw_loads
        warehouse.assert_ledger_consistent()
        warehouse.assert_published_once(self.load_id, self.source)


BATCH_KEY = "incoming/2021/01/01/batch-x.csv"


@pytest.fixture(scope="session")
def batch(stack: Stack, history: History) -> Batch:
    """A batch of new orders published by a clean incremental run on the history."""
    source = faults_data.batch(1)
    obj = stack.moto.put(BATCH_KEY, source.body)
    stack.pg.create_database("clean_batch", template=HISTORY_DB)
    clean = Warehouse(stack.pg, "clean_batch")
    built = stack.publish([obj], "clean-batch", clean.db)
    (load_id,) = built["published"]
    clean.assert_published_once(load_id, source)
    clean.assert_ledger_consistent()
    states = {load_id: load.state for load_id, load in clean.loads().items()}
    assert states == {history.load_id: "published", load_id: "published"}
    return Batch(obj, source, load_id, clean.published(), states, clean.raw_loads())


@dataclass(frozen=True)
class Million:
    obj: dict
    source: faults_data.SourceFile
    load_id: str
    raw_checksum: str  # its rows as a clean run put them in the raw layer


MILLION_KEY = "incoming/2021/01/02/million.csv"


@pytest.fixture(scope="session")
def million(stack: Stack, history: History) -> Million:
    """An object of 1,000,000 lines, loaded into the raw layer by a clean run."""
    source = faults_data.million()
    obj = stack.moto.put(MILLION_KEY, source.body)
    stack.pg.create_database("clean_million", template=HISTORY_DB)
    clean = Warehouse(stack.pg, "clean_million")
    (load_id,) = stack.load([obj], clean.db).ok()["load_ids"]
    assert clean.raw(load_id) == (source.rows, source.sales, source.profit)
    return Million(obj, source, load_id, clean.raw_checksum(load_id))
