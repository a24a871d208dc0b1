"""What a dbt build's results say about its candidate loads: a failed data
check is a verdict on the data (reject); an error (a model or a check that
could not run: the warehouse went away, a bug) says nothing about the data
and leaves the loads retryable."""

from dataclasses import dataclass, field

from dbt.artifacts.schemas.run import RunExecutionResult
from superstore_common.record import CheckResult

_STATUS = {"pass": "pass", "warn": "warn", "fail": "fail", "error": "error"}


@dataclass(frozen=True)
class BuildSummary:
    models: int
    tests_passed: int
    failed_checks: list[str]  # data checks that found rows
    errors: list[str]  # nodes that could not run, with dbt's message
    checks: list[CheckResult] = field(default_factory=list)  # every data check, as the run records keep it

    @classmethod
    def of(cls, results: RunExecutionResult) -> "BuildSummary":
        models = [r for r in results.results if r.node.resource_type == "model"]
        tests = [r for r in results.results if r.node.resource_type == "test"]
        return cls(
            models=sum(r.status == "success" for r in models),
            tests_passed=sum(r.status in {"pass", "warn"} for r in tests),
            failed_checks=sorted(r.node.name for r in tests if r.status == "fail"),
            errors=[
                f"{r.node.name}: {' '.join(str(r.message).split())}" for r in results.results if r.status == "error"
            ],
            checks=[
                CheckResult(
                    check=r.node.name,
                    dataset=(getattr(r.node, "attached_node", None) or r.node.name).rsplit(".", 1)[-1],
                    status=_STATUS.get(str(r.status), "error"),
                    failing_rows=r.failures,
                )
                for r in tests
            ],
        )

    @property
    def passed(self) -> bool:
        return not self.failed_checks and not self.errors

    def rejection(self) -> str:
        """Why the candidates were rejected: the failed checks."""
        plural = "s" if len(self.failed_checks) > 1 else ""
        return f"{len(self.failed_checks)} check{plural} failed: {', '.join(self.failed_checks)}"
