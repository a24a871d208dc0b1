"""superstore-dbt: audit the candidate loads and publish the star schema (write-audit-publish)."""

from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from superstore_common import record
from superstore_common.loads import Ledger
from superstore_common.objects import parse_load_ids
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result
from superstore_common.warehouse import connect, quote_ident

from superstore_dbt import lineage
from superstore_dbt.build import build_and_publish
from superstore_dbt.publish import Publisher
from superstore_dbt.runner import DbtProject, dbt_environment, generate_docs, invoke_dbt

app = new_app(__doc__)


class Mode(str, Enum):
    initial = "initial"
    incremental = "incremental"


@app.command()
def build(
    mode: Annotated[Mode, typer.Option(help="initial: rebuild every mart from the raw history; incremental: merge")],
    load_ids: Annotated[str, typer.Option(help="JSON list of the candidate load ids (the load step's load_ids).")],
    run_id: Annotated[str, typer.Option(help="The pipeline run: names its audit schema.")],
) -> None:
    """Audit the candidate loads, reject each one that fails a check, publish the rest in one transaction.

    Every model and check runs on the run's audit schema first."""
    settings = WarehouseSettings()
    ids = parse_load_ids(load_ids)
    step = record.current()
    with dbt_environment(settings, settings.audit_schema(run_id)), connect(settings, "superstore-dbt") as connection:
        project = DbtProject()
        publisher = Publisher(connection, settings, settings.audit_schema(run_id), project.marts())
        ledger = Ledger(connection, settings.raw_schema)
        try:
            outcome = build_and_publish(project, ledger, publisher, ids, rebuild=mode is Mode.initial)
        finally:  # a failed build keeps dbt's artifacts too
            manifest = lineage.attach_artifacts(step)
        tables = publisher.row_counts() if publisher.published_tables_exist() else {}
        published = {name.rsplit(".", 1)[-1]: rows for name, rows in tables.items()} if outcome.published else {}
        if manifest:
            lineage.record_lineage(step, manifest, settings, connection, published)
    step.rows = published.get("fct_sales")
    step.attach(record.CHECKS_ARTIFACT, [asdict(check) for check in outcome.checks])
    summary = outcome.summary
    write_result(
        {
            "mode": mode.value,
            "rebuild": outcome.rebuild,
            "published": outcome.published,
            "rejected": [{"load_id": load_id, "reason": reason} for load_id, reason in outcome.rejected.items()],
            "skipped": outcome.skipped,
            "builds": outcome.builds,
            "models": summary.models if summary else 0,
            "tests_passed": summary.tests_passed if summary else 0,
            "tables": tables,
        }
    )


@app.command("unit-tests")
def unit_tests() -> None:
    """The project's dbt unit tests: its transformation logic on fixed inputs.

    dbt reads the column types of a unit test's inputs from the relations
    themselves: the models are first built empty (`dbt run --empty`) in a
    scratch schema that stands in for both the audit and the published
    schema, dropped afterwards. Only the raw layer must exist (create-schemas)."""
    settings = WarehouseSettings()
    scratch = settings.audit_schema("unit-tests")
    try:
        with dbt_environment(settings.model_copy(update={"published_schema": scratch}), scratch):
            passed = (
                invoke_dbt("run", "--empty", "--vars", '{"rebuild": true}').success
                and invoke_dbt("test", "--select", "test_type:unit").success
            )
    finally:
        with connect(settings, "superstore-dbt") as connection:
            connection.execute(f"drop schema if exists {quote_ident(scratch)} cascade")
    if not passed:
        raise StepError("dbt unit tests failed, see the log above")


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
    settings = WarehouseSettings()
    with dbt_environment(settings, settings.audit_schema("compile")):
        if not invoke_dbt(command, *args).success:
            raise StepError(f"dbt {command} failed, see its log above")


@app.command("docs")
def docs(
    output: Annotated[
        Path, typer.Option(help="Directory of the static site (index.html, manifest.json, catalog.json).")
    ] = Path("reports/dbt-docs"),
) -> None:
    """dbt docs of the project as one static page (dbt docs generate --static).

    The catalog is read from the published schema: it works between runs,
    when every audit schema has been dropped."""
    docs = generate_docs(WarehouseSettings(), output)
    typer.echo(f"dbt docs: {docs['path']} ({docs['models']} models and {docs['sources']} sources in the catalog)")


def main() -> None:
    run(app)
