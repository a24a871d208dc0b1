"""A Soda scan of the published star schema, run in-process, and its outcome:
one CheckResult per check (with Soda's failed-rows samples), Soda's own scan
results, and the step's small result."""

import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from soda.common.config_helper import ConfigHelper
from superstore_common.record import CheckResult
from superstore_common.settings import WarehouseSettings

from superstore_soda.settings import QualitySettings

# Must precede `soda.scan`: importing it sets up usage telemetry from Soda's
# global configuration, which is then read from the package (telemetry off).
ConfigHelper.get_instance(str(Path(__file__).with_name("soda_config.yml")))
from soda.sampler.sample_context import SampleContext  # noqa: E402
from soda.sampler.sample_ref import SampleRef  # noqa: E402
from soda.sampler.sampler import Sampler  # noqa: E402
from soda.scan import Scan  # noqa: E402

DATA_SOURCE = "warehouse"
CONNECT_TIMEOUT_SECONDS = 30
# Soda's own log lines (multi-line, with stack traces) would bury the step's
# one-line error; its findings are reported from the scan results instead.
logging.getLogger("soda").setLevel(logging.CRITICAL)
# Checks whose value is a number of failing rows (Soda's metric identities).
FAILING_ROWS_METRIC = re.compile(r"-(missing_count|invalid_count|duplicate_count|failed rows)(-|$)")
LOAD_SCOPE = {"name": "scope", "value": "load"}  # the checks file's `attributes: {scope: load}`


class FailedRowsSamples(Sampler):
    """Soda's sampler interface: keeps the first rows of each check's failed-rows
    sample, as JSON values, for the step's record (instead of Soda Cloud)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.samples: dict[str, list[dict[str, Any]]] = {}

    def store_sample(self, sample_context: SampleContext) -> SampleRef:
        sample = sample_context.sample
        schema = sample.get_schema()
        columns = [column.name for column in schema.columns]
        rows = [dict(zip(columns, map(json_value, row), strict=False)) for row in sample.get_rows()[: self.limit]]
        if sample_context.check_name is not None:
            self.samples[sample_context.check_name] = rows
        return SampleRef(
            name=sample_context.sample_name,
            schema=schema,
            total_row_count=sample.get_rows_count(),
            stored_row_count=len(rows),
            type=SampleRef.TYPE_NOT_PERSISTED,
            message="kept in the step's record (checks.json)",
        )


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ScanReport:
    checks: list[CheckResult]  # every check of the file; status "error" when the scan could not evaluate it
    errors: list[str]  # the scan's error messages
    seconds: float
    scan_results: dict = field(default_factory=dict, repr=False)  # Soda's own (scan_results.json)

    def count(self, status: str) -> int:
        return Counter(check.status for check in self.checks)[status]

    @property
    def evaluated(self) -> list[CheckResult]:
        return [check for check in self.checks if check.status != "error"]

    def result(self) -> dict:
        """The step's result (XCom): counts and each evaluated check's outcome,
        never rows (the samples go to the step's record)."""
        return {
            "passed": self.count("pass"),
            "warned": self.count("warn"),
            "failed": self.count("fail"),
            "errors": len(self.errors),
            "checks": [{"name": c.check, "table": c.dataset, "outcome": c.status} for c in self.evaluated],
        }

    def failure(self) -> str | None:
        """One line naming what failed (in name order: Soda's order follows
        its queries), None when the scan passed (warnings do not fail it)."""
        problems = []
        if failed := sorted(check.check for check in self.checks if check.status == "fail"):
            problems.append(f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed: {'; '.join(failed)}")
        if self.errors:
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            problems.append(f"scan error: {first_line(self.errors[0])}{more}")
        return ", ".join(problems) or None


def first_line(message: str) -> str:
    """Soda's messages go on with the SQL and hints: keep the gist."""
    return message.strip().splitlines()[0].strip() if message.strip() else message


def data_source_configuration(settings: WarehouseSettings, samples_limit: int = 5) -> str:
    """Soda's data source configuration, built in memory from the settings so
    the password is never written anywhere. (JSON is valid YAML.)"""
    timeout_key = "connection_timeout_sec" if settings.kind == "redshift" else "connection_timeout"
    source = {
        "type": settings.kind,
        "host": settings.host,
        "port": settings.port,
        "username": settings.user,
        "password": settings.password.get_secret_value(),
        "database": settings.db,
        "schema": settings.published_schema,
        timeout_key: CONNECT_TIMEOUT_SECONDS,
        # the failed-rows queries Soda builds itself (missing, invalid) fetch no more
        "sampler": {"samples_limit": max(samples_limit, 1)},
    }
    return json.dumps({f"data_source {DATA_SOURCE}": source})


def scan_variables(
    settings: WarehouseSettings, load_ids: list[str] | None, quality: QualitySettings | None = None
) -> dict[str, str]:
    """What the checks files read: ${schema}, the published schema;
    ${load_ids}, the loads whose rows the per-row checks read, as SQL literals
    ('null' for none; '' without a list: every row); the thresholds
    (QualitySettings.variables). The ids are checked load ids
    (superstore_common.objects.LOAD_ID): safe as literals."""
    if load_ids is None:
        literals = ""
    else:
        literals = ", ".join(f"'{load_id}'" for load_id in load_ids) or "null"
    quality = quality or QualitySettings()
    return {"schema": settings.published_schema, "load_ids": literals, **quality.variables()}


def check_results(
    results: dict, samples: dict[str, list[dict]], load_ids: list[str] | None, unevaluated: list[tuple[str, str]]
) -> list[CheckResult]:
    """One CheckResult per check: Soda's outcome, the number of failing rows
    (checks that count rows: missing, invalid, duplicate, failed rows), the
    load the check was scoped to (a scan of exactly one load), the sample."""
    one_load = load_ids[0] if load_ids is not None and len(load_ids) == 1 else None
    checks = []
    for check in results.get("checks", []):
        counts_rows = any(FAILING_ROWS_METRIC.search(metric) for metric in check.get("metrics") or [])
        value = (check.get("diagnostics") or {}).get("value")
        scoped = LOAD_SCOPE in (check.get("resourceAttributes") or [])
        checks.append(
            CheckResult(
                check=check["name"],
                dataset=check["table"],
                status=check["outcome"],
                failing_rows=int(value) if counts_rows and isinstance(value, int | float) else None,
                load_id=one_load if scoped else None,
                sample=samples.get(check["name"], []) if check["outcome"] != "pass" else [],
            )
        )
    evaluated = {check.check for check in checks}
    checks += [CheckResult(name, table, "error") for name, table in unevaluated if name not in evaluated]
    return checks


def declared_checks(checks_file: Path) -> list[tuple[str, str]]:
    """(name, table) of every check the file declares (`checks for TABLE
    [filter]:` sections; a check without a name is named by its line)."""
    document = YAML(typ="safe").load(checks_file.read_text()) or {}
    declared = []
    for header, items in document.items():
        if not header.startswith("checks for "):
            continue
        table = header.removeprefix("checks for ").split()[0]
        for item in items or []:
            line, configuration = next(iter(item.items())) if isinstance(item, dict) else (item, None)
            name = configuration.get("name") if isinstance(configuration, dict) else None
            declared.append((name or line, table))
    return declared


def run_scan(
    checks_file: Path,
    settings: WarehouseSettings,
    load_ids: list[str] | None = None,
    quality: QualitySettings | None = None,
) -> ScanReport:
    started = time.monotonic()
    quality = quality or QualitySettings()
    scan = Scan()
    scan.disable_telemetry()
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_configuration_yaml_str(data_source_configuration(settings, quality.samples_limit))
    scan.add_variables(scan_variables(settings, load_ids, quality))
    scan.add_sodacl_yaml_file(str(checks_file))
    sampler = FailedRowsSamples(quality.samples_limit)
    scan.sampler = sampler
    try:
        scan.execute()
    finally:
        # soda-core closes only the connections it names, not a data source's
        # own: left open, idle in a transaction that holds the tables it read.
        if data_source := scan._data_source_manager.data_sources.get(DATA_SOURCE):
            data_source.disconnect()
    results = scan.get_scan_results()
    # Soda's results list evaluated checks only; a scan error (a missing
    # table, no connection) leaves others unevaluated: recorded as errors.
    checks = check_results(results, sampler.samples, load_ids, declared_checks(checks_file))
    errors = [entry.message for entry in scan.get_error_logs()]
    return ScanReport(checks, errors, seconds=time.monotonic() - started, scan_results=results)
