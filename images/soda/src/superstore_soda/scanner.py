"""A Soda scan of the published star schema, run in-process, and its outcome
summed up for the step's result."""

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from soda.common.config_helper import ConfigHelper
from superstore_common.settings import WarehouseSettings

# Must precede `soda.scan`: importing it sets up usage telemetry from Soda's
# global configuration, which is then read from the package (telemetry off).
ConfigHelper.get_instance(str(Path(__file__).with_name("soda_config.yml")))
from soda.scan import Scan  # noqa: E402

DATA_SOURCE = "warehouse"
CONNECT_TIMEOUT_SECONDS = 30
# Soda's own log lines (multi-line, with stack traces) would bury the step's
# one-line error; its findings are reported from the scan results instead.
logging.getLogger("soda").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class CheckResult:
    name: str
    table: str
    outcome: str  # pass | warn | fail


@dataclass(frozen=True)
class ScanReport:
    checks: list[CheckResult]
    errors: list[str]  # the scan's error messages
    seconds: float

    def count(self, outcome: str) -> int:
        return Counter(check.outcome for check in self.checks)[outcome]

    def result(self) -> dict:
        """The step's result (XCom)."""
        return {
            "passed": self.count("pass"),
            "warned": self.count("warn"),
            "failed": self.count("fail"),
            "errors": len(self.errors),
            "checks": [vars(check) for check in self.checks],
        }

    def failure(self) -> str | None:
        """One line naming what failed (in name order: Soda's order follows
        its queries), None when the scan passed (warnings do not fail it)."""
        problems = []
        if failed := sorted(check.name for check in self.checks if check.outcome == "fail"):
            problems.append(f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed: {'; '.join(failed)}")
        if self.errors:
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            problems.append(f"scan error: {first_line(self.errors[0])}{more}")
        return ", ".join(problems) or None


def first_line(message: str) -> str:
    """Soda's messages go on with the SQL and hints: keep the gist."""
    return message.strip().splitlines()[0].strip() if message.strip() else message


def data_source_configuration(settings: WarehouseSettings) -> str:
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
    }
    return json.dumps({f"data_source {DATA_SOURCE}": source})


def scan_variables(settings: WarehouseSettings, load_ids: list[str] | None) -> dict[str, str]:
    """What the checks files read: ${schema}, the published schema, and
    ${load_ids}, the loads whose rows the per-row checks read, as SQL literals
    ('null' for none; '' without a list: every row). The ids are checked
    load ids (superstore_common.objects.LOAD_ID): safe as literals."""
    if load_ids is None:
        literals = ""
    else:
        literals = ", ".join(f"'{load_id}'" for load_id in load_ids) or "null"
    return {"schema": settings.published_schema, "load_ids": literals}


def run_scan(checks_file: Path, settings: WarehouseSettings, load_ids: list[str] | None = None) -> ScanReport:
    started = time.monotonic()
    scan = Scan()
    scan.disable_telemetry()
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_configuration_yaml_str(data_source_configuration(settings))
    scan.add_variables(scan_variables(settings, load_ids))
    scan.add_sodacl_yaml_file(str(checks_file))
    scan.execute()
    results = scan.get_scan_results()
    # Only evaluated checks are listed: a scan error leaves some unevaluated.
    checks = [CheckResult(check["name"], check["table"], check["outcome"]) for check in results["checks"]]
    errors = [entry.message for entry in scan.get_error_logs()]
    return ScanReport(checks, errors, seconds=time.monotonic() - started)
