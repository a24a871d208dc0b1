"""superstore-dbt: build the published star schema from the staged batch."""

from enum import Enum

import typer
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_dbt.runner import DbtProject, dbt_environment, invoke_dbt
from superstore_dbt.verdict import BuildSummary

app = new_app(__doc__)


class Mode(str, Enum):
    initial = "initial"
    incremental = "incremental"


@app.command()
def build(mode: Mode = typer.Option(..., help="initial: rebuild the marts from the staged history; incremental: merge the staged batch")) -> None:
    """dbt build: check the staged batch, publish it, record the verdict in the ledger.

    initial runs `dbt build --full-refresh` (re-running it gives identical
    tables), incremental runs `dbt build`.
    """
    with dbt_environment(WarehouseSettings()):
        project = DbtProject()
        summary = BuildSummary.of(project.build(full_refresh=mode is Mode.initial))
        if summary.failed:
            raise StepError(summary.rejection())
        tables = project.count_rows(project.mart_tables())
    write_result(
        {
            "mode": mode.value,
            "models": summary.models,
            "tests_passed": summary.tests_passed,
            "tests_failed": summary.tests_failed,
            "failed": summary.failed,
            "tables": tables,
        }
    )


PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command(context_settings=PASS_THROUGH)
def parse(ctx: typer.Context) -> None:
    """dbt parse on the packaged project (extra arguments go to dbt)."""
    _pass_through("parse", ctx.args)


@app.command(context_settings=PASS_THROUGH)
def compile(ctx: typer.Context) -> None:
    """dbt compile on the packaged project (extra arguments go to dbt)."""
    _pass_through("compile", ctx.args)


def _pass_through(command: str, args: list[str]) -> None:
    with dbt_environment(WarehouseSettings()):
        if not invoke_dbt(command, *args).success:
            raise StepError(f"dbt {command} failed, see its log above")


def main() -> None:
    run(app)
