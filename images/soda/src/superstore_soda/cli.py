"""superstore-soda: Soda checks on the published star schema; a failed check
fails the step (exit 1, one line naming the checks), a warning does not."""

import logging
import re
from pathlib import Path

import typer
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_soda.scanner import first_line, run_scan

log = logging.getLogger("superstore.soda")
app = new_app("Run the packaged Soda checks on the published star schema.")
CHECKS_DIR = Path(__file__).with_name("checks")
# A batch id goes into the checks' SQL as a literal: only ids made of these
# characters (the pipeline's are, e.g. batch-<hex>), at most the loader's 128.
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")


@app.callback()
def _commands() -> None:
    """Keeps `scan` a subcommand (typer flattens single-command apps)."""


@app.command()
def scan(
    checks: str = typer.Option("published", help="which packaged checks file (checks/<name>.yml)"),
    batch_id: str | None = typer.Option(
        None, help="check only what this batch wrote, plus the cheap table-wide checks (incremental loads)"
    ),
) -> None:
    checks_file = CHECKS_DIR / f"{checks}.yml"
    if not checks_file.is_file():
        known = ", ".join(sorted(path.stem for path in CHECKS_DIR.glob("*.yml")))
        raise StepError(f"no checks named {checks!r} (known: {known})")
    if batch_id is not None and not BATCH_ID.fullmatch(batch_id):
        raise StepError(f"not a batch id: {batch_id!r} (letters, digits and ._:+- only, at most 128)")
    settings = WarehouseSettings()
    report = run_scan(checks_file, settings, batch_id)
    for check in report.checks:
        log.info("%-4s %s", check.outcome, check.name)
    for error in report.errors:
        log.warning("scan error: %s", first_line(error))
    log.info(
        "%s on %s.%s (%s) in %.1f s: %d passed, %d warned, %d failed, %d errors",
        checks_file.name, settings.db, settings.published_schema, f"batch {batch_id}" if batch_id else "every row",
        report.seconds, report.count("pass"), report.count("warn"), report.count("fail"), len(report.errors),
    )  # fmt: skip
    write_result({**report.result(), "batch_id": batch_id})
    if failure := report.failure():
        raise StepError(failure)


def main() -> None:
    run(app)
