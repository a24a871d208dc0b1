"""superstore-dbt: build the published star schema from the staged batch."""

from enum import Enum
from typing import Annotated

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
def build(
    mode: Annotated[Mode, typer.Option(help="initial: rebuild the marts from the staged history; incremental: merge")],
) -> None:
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


@app.command("parse", context_settings=PASS_THROUGH)
def parse_project(ctx: typer.Context) -> None:
    """dbt parse on the packaged project (extra arguments go to dbt)."""
    pass_through("parse", ctx.args)


@app.command("compile", context_settings=PASS_THROUGH)
def compile_project(ctx: typer.Context) -> None:
    """dbt compile on the packaged project (extra arguments go to dbt)."""
    pass_through("compile", ctx.args)


def pass_through(command: str, args: list[str]) -> None:
    with dbt_environment(WarehouseSettings()):
        if not invoke_dbt(command, *args).success:
            raise StepError(f"dbt {command} failed, see its log above")


def main() -> None:
    run(app)
