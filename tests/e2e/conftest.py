"""End to end on the real local stack: PostgreSQL, moto server over HTTP and
Airflow running the DAGs in-process (dag.test) with the local runner.

Each test module builds what it needs: a database, bucket and event queues
of its own (module-scoped fixtures) and its own initial load, so modules run
alone, in any order, or in parallel sessions. Shared helpers: e2e_kit.py
(test modules import that, never a conftest: several conftest modules share
the name)."""

from dataclasses import dataclass

import pytest
from e2e_kit import SHARED_CSV, query, run
from stack import own_database, own_lake
from superstore_orchestration.local_run import RunRecord


@pytest.fixture(scope="module")
def e2e_warehouse(request):
    """A fresh warehouse database, and a bucket and event queues of this
    module's own: no other test's objects, messages or rows reach its runs."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with own_database(f"e2e_{name}") as database, own_lake(f"e2e-{name.replace('_', '-')}"):
        yield database


@dataclass(frozen=True)
class InitialLoad:
    """The module's initial load, and what it left right after it ran."""

    record: RunRecord
    audit_schemas_left: int

    def result(self, task_id: str):
        return self.record.result(task_id)


@pytest.fixture(scope="module")
def initial_load(e2e_warehouse) -> InitialLoad:
    record = run("superstore_initial_load", source=str(SHARED_CSV))
    assert record.state == "success", record.errors
    (audit_schemas,) = query("select count(*) from information_schema.schemata where schema_name like 'staging%%'")[0]
    return InitialLoad(record, audit_schemas)
