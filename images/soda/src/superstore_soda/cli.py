"""superstore-soda: Soda checks on the published star schema; a failed check
fails the step (exit 1, one line naming the checks), a warning does not.
Every check's outcome, with failing-row samples, and Soda's scan results go
to the step's record (superstore_common.record), failed or not."""

import logging
from dataclasses import asdict
from pathlib import Path

import typer
from superstore_common import record
from superstore_common.objects import parse_load_ids
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_soda.scanner import ScanReport, first_line, run_scan
from superstore_soda.settings import read_quality_settings

log = logging.getLogger("superstore.soda")
app = new_app("Run the packaged Soda checks on the published star schema.")
CHECKS_DIR = Path(__file__).with_name("checks")
SCAN_RESULTS_ARTIFACT = "scan_results.json"  # Soda's own scan results
# The published tables the checks read (the step's input datasets).
MARTS = ("fct_sales", "dim_orders", "dim_customers", "dim_products", "dim_locations", "dim_dates")


@app.callback()
def _commands() -> None:
    """Keeps `scan` a subcommand (typer flattens single-command apps)."""


@app.command()
def scan(
    checks: str = typer.Option("published", help="which packaged checks file (checks/<name>.yml)"),
    load_ids: str | None = typer.Option(
        None, help="JSON list of load ids: check only what they wrote, plus the cheap table-wide checks"
    ),
) -> None:
    """Soda checks on the published star schema; a failed check fails the step, a warning does not."""
    checks_file = CHECKS_DIR / f"{checks}.yml"
    if not checks_file.is_file():
        known = ", ".join(sorted(path.stem for path in CHECKS_DIR.glob("*.yml")))
        raise StepError(f"no checks named {checks!r} (known: {known})")
    ids = None if load_ids is None else parse_load_ids(load_ids)
    try:
        quality = read_quality_settings()
    except ValueError as error:
        raise StepError(f"quality settings: {error}") from None
    settings = WarehouseSettings()
    step = record.current()
    step.inputs += [record.warehouse_dataset(settings, settings.published_schema, table) for table in MARTS]
    report = run_scan(checks_file, settings, ids, quality)
    keep(step, report)
    for check in report.checks:
        log.info("%-5s %s", check.status, check.check)
    for error in report.errors:
        log.warning("scan error: %s", first_line(error))
    log.info(
        "%s on %s.%s (%s) in %.1f s: %d passed, %d warned, %d failed, %d errors",
        checks_file.name, settings.db, settings.published_schema, f"loads {', '.join(ids) or 'none'}" if ids is not None else "every row",
        report.seconds, report.count("pass"), report.count("warn"), report.count("fail"), len(report.errors),
    )  # fmt: skip
    write_result({**report.result(), "load_ids": ids})
    if failure := report.failure():
        raise StepError(failure)


def keep(step: record.StepRecord, report: ScanReport) -> None:
    """The scan's record: before the step can fail, so a failed scan keeps it too."""
    step.attach(record.CHECKS_ARTIFACT, [asdict(check) for check in report.checks])
    step.attach(SCAN_RESULTS_ARTIFACT, report.scan_results)
    step.rows = len(report.evaluated)


def main() -> None:
    run(app)
