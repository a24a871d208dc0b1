"""dbt, run in-process (dbtRunner) against the project shipped in this package.

In-process rather than as a subprocess: dbt's results come back as objects
(no run_results.json to parse), and the project is parsed once and its
manifest reused by the build and by the row counts that follow it.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError

PROJECT_DIR = Path(str(files("superstore_dbt") / "project"))


def warehouse_variables(settings: WarehouseSettings) -> dict[str, str]:
    """What the project's env_var() calls read, resolved by the shared
    settings so that every step agrees on the defaults."""
    password = settings.password.get_secret_value()
    return {
        "WAREHOUSE_KIND": settings.kind,
        "WAREHOUSE_HOST": settings.host,
        "WAREHOUSE_PORT": str(settings.port),
        "WAREHOUSE_DB": settings.db,
        "WAREHOUSE_USER": settings.user,
        "WAREHOUSE_PASSWORD": password,
        "WAREHOUSE_STAGING_SCHEMA": settings.staging_schema,
        "WAREHOUSE_PUBLISHED_SCHEMA": settings.published_schema,
        "WAREHOUSE_OPS_SCHEMA": settings.ops_schema,
        # dbt masks the values of DBT_ENV_SECRET_* variables in its logs and errors.
        "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": password,
    }


@contextmanager
def dbt_environment(settings: WarehouseSettings) -> Iterator[None]:
    """The environment dbt runs in, restored afterwards. The installed project
    may be read-only, so target/ and logs/ go to a scratch dir (unless
    DBT_TARGET_PATH / DBT_LOG_PATH are set, e.g. to keep them)."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="superstore-dbt-") as scratch:
        os.environ.update(warehouse_variables(settings))
        os.environ.setdefault("DBT_TARGET_PATH", str(Path(scratch, "target")))
        os.environ.setdefault("DBT_LOG_PATH", str(Path(scratch, "logs")))
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def invoke_dbt(*args: str, manifest: Manifest | None = None) -> dbtRunnerResult:
    """Run one dbt command on the packaged project. Raises StepError when dbt
    itself fails (bad project, no connection), not when nodes fail."""
    outcome = dbtRunner(manifest=manifest).invoke(
        [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--no-use-colors"]
    )
    if outcome.exception is not None:
        raise StepError(f"dbt {args[0]} failed: {one_line(outcome.exception)}")
    return outcome


def one_line(error: BaseException | str) -> str:
    """dbt's errors span lines; the step contract wants one, without the password."""
    text = " ".join(str(error).split())
    password = os.environ.get("WAREHOUSE_PASSWORD")
    return text.replace(password, "*****") if password else text


class DbtProject:
    """The packaged project, parsed once (call inside dbt_environment)."""

    def __init__(self) -> None:
        self.manifest: Manifest = invoke_dbt("parse").result

    def build(self, full_refresh: bool) -> RunExecutionResult:
        return invoke_dbt("build", *(["--full-refresh"] if full_refresh else []), manifest=self.manifest).result

    def mart_tables(self) -> dict[str, str]:
        """schema.table -> quoted relation name, for every mart of the build."""
        return {
            f"{node.schema}.{node.alias}": node.relation_name
            for node in self.manifest.nodes.values()
            if node.resource_type == "model" and node.fqn[1] == "marts"
        }

    def count_rows(self, tables: dict[str, str]) -> dict[str, int]:
        query = " union all ".join(
            f"select '{name}' as table_name, count(*) as row_count from {relation}" for name, relation in tables.items()
        )
        shown = invoke_dbt("show", "--inline", query, "--limit", str(len(tables)), manifest=self.manifest).result
        return {row["table_name"]: int(row["row_count"]) for row in shown.results[0].agate_table.rows}
