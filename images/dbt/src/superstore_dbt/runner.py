"""dbt, run in-process (dbtRunner) against the project shipped in this package.

In-process rather than as a subprocess: dbt's results come back as objects
(no run_results.json to parse), and the project is parsed once and its
manifest reused by every build of the run.
"""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError

PROJECT_DIR = Path(str(files("superstore_dbt") / "project"))


def warehouse_variables(settings: WarehouseSettings, audit_schema: str) -> dict[str, str]:
    """What the project's env_var() calls read, resolved by the shared
    settings so that every step agrees on the defaults."""
    password = settings.password.get_secret_value()
    return {
        "WAREHOUSE_RAW_SCHEMA": settings.raw_schema,
        "WAREHOUSE_AUDIT_SCHEMA": audit_schema,
        "WAREHOUSE_KIND": settings.kind,
        "WAREHOUSE_HOST": settings.host,
        "WAREHOUSE_PORT": str(settings.port),
        "WAREHOUSE_DB": settings.db,
        "WAREHOUSE_USER": settings.user,
        "WAREHOUSE_PASSWORD": password,
        "WAREHOUSE_PUBLISHED_SCHEMA": settings.published_schema,
        "WAREHOUSE_OPS_SCHEMA": settings.ops_schema,
        # dbt masks the values of DBT_ENV_SECRET_* variables in its logs and errors.
        "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": password,
    }


@contextmanager
def dbt_environment(settings: WarehouseSettings, audit_schema: str) -> Iterator[None]:
    """The environment dbt runs in, restored afterwards. The installed project
    may be read-only, so target/ and logs/ go to a scratch dir (unless
    DBT_TARGET_PATH / DBT_LOG_PATH are set, e.g. to keep them)."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="superstore-dbt-") as scratch:
        os.environ.update(warehouse_variables(settings, audit_schema))
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


@dataclass(frozen=True)
class Mart:
    name: str
    unique_key: str


class DbtProject:
    """The packaged project, parsed once (call inside dbt_environment)."""

    def __init__(self) -> None:
        self.manifest: Manifest = invoke_dbt("parse").result

    def build(self, load_ids: list[str], rebuild: bool, published_at: datetime) -> RunExecutionResult:
        """Every model into the audit schema and every data check on it.
        Unit tests check the project's logic, not the data: they run in its
        own test suite (`superstore-dbt unit-tests`), not on every load."""
        variables = json.dumps({"load_ids": load_ids, "rebuild": rebuild, "published_at": published_at.isoformat(" ")})
        args = ("build", "--vars", variables, "--exclude-resource-type", "unit_test")
        return invoke_dbt(*args, manifest=self.manifest).result

    def marts(self) -> list[Mart]:
        return sorted(
            (
                Mart(node.alias, node.config.get("unique_key"))
                for node in self.manifest.nodes.values()
                if node.resource_type == "model" and node.fqn[1] == "marts"
            ),
            key=lambda mart: mart.name,
        )


DOCS_FILES = ("manifest.json", "catalog.json")


def generate_docs(settings: WarehouseSettings, output: Path) -> dict[str, object]:
    """dbt's docs as one static page (`dbt docs generate --static`) in `output`
    (index.html, with manifest.json and catalog.json beside it).

    The models' relations live in per-run audit schemas that are dropped after
    each run, so the docs are generated with the audit schema pointed at the
    published one: the marts' catalog (columns, types, row counts) is read
    from the tables people query; the staging and intermediate models, which
    exist only during a run, are documented from the project (no catalog)."""
    with dbt_environment(settings, settings.published_schema):
        outcome = invoke_dbt("docs", "generate", "--static")
        if not outcome.success:
            raise StepError("dbt docs generate failed, see its log above")
        target = Path(os.environ["DBT_TARGET_PATH"])
        output.mkdir(parents=True, exist_ok=True)
        (output / "index.html").write_bytes((target / "static_index.html").read_bytes())
        for name in DOCS_FILES:
            (output / name).write_bytes((target / name).read_bytes())
    catalog = outcome.result
    return {"path": str(output / "index.html"), "models": len(catalog.nodes), "sources": len(catalog.sources)}
