"""superstore-report: the operations report (runs, loads, checks, steps,
published tables, freshness) as one static HTML page."""

import time
from pathlib import Path
from typing import Annotated

import typer
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError
from superstore_common.warehouse import connect

from superstore_report.queries import collect
from superstore_report.render import render

app = typer.Typer(help=__doc__, add_completion=False, pretty_exceptions_enable=False)


@app.command()
def report(
    output: Annotated[Path, typer.Option(help="The page to write.")] = Path("reports/index.html"),
    docs: Annotated[
        Path, typer.Option(help="dbt's static docs page (superstore-dbt docs), linked when it exists.")
    ] = Path("reports/dbt-docs/index.html"),
    max_age_hours: Annotated[
        float, typer.Option(help="Freshness: the fact is stale when its latest loaded_at is older than this.")
    ] = 24.0,
) -> None:
    """Render the report from the warehouse named by the WAREHOUSE_* settings."""
    started = time.monotonic()
    try:
        settings = WarehouseSettings()
        with connect(settings, "superstore-report") as connection:
            data = collect(connection, settings)
    except StepError as error:
        typer.echo(f"error: {' '.join(str(error).split())}", err=True)
        raise typer.Exit(1) from None
    result = render(data, output, docs, max_age_hours)
    typer.echo(
        f"report: {result['path']} ({result['bytes'] / 1e6:.1f} MB, {len(data.runs)} runs, {len(data.loads)} loads,"
        f" {len(data.checks)} checks) in {time.monotonic() - started:.1f} s"
        + ("" if result["docs"] else "; dbt docs not found (make docs)")
    )


def main() -> None:
    app()
