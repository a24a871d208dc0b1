"""superstore-soda: Soda checks on the published star schema; a failed check
fails the step (exit 1, one line naming the checks), a warning does not."""

import logging
from pathlib import Path

import typer
from superstore_common.objects import parse_load_ids
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_soda.scanner import first_line, run_scan

log = logging.getLogger("superstore.soda")
app = new_app("Run the packaged Soda checks on the published star schema.")
CHECKS_DIR = Path(__file__).with_name("checks")


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
    checks_file = CHECKS_DIR / f"{checks}.yml"
    if not checks_file.is_file():
        known = ", ".join(sorted(path.stem for path in CHECKS_DIR.glob("*.yml")))
        raise StepError(f"no checks named {checks!r} (known: {known})")
    ids = None if load_ids is None else parse_load_ids(load_ids)
    settings = WarehouseSettings()
    report = run_scan(checks_file, settings, ids)
    for check in report.checks:
        log.info("%-4s %s", check.outcome, check.name)
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


def main() -> None:
    run(app)
