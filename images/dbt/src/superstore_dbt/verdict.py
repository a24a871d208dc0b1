"""What a dbt build's results say about the batch."""

from dataclasses import dataclass

from dbt.artifacts.schemas.run import RunExecutionResult

FAILED_STATUSES = {"error", "fail"}


@dataclass(frozen=True)
class BuildSummary:
    models: int
    tests_passed: int
    tests_failed: int
    failed: list[str]
    failed_tests_only: bool

    @classmethod
    def of(cls, results: RunExecutionResult) -> "BuildSummary":
        models = [r for r in results.results if r.node.resource_type == "model"]
        tests = [r for r in results.results if r.node.resource_type == "test"]
        failed = [r for r in results.results if r.status in FAILED_STATUSES]
        return cls(
            models=sum(r.status == "success" for r in models),
            tests_passed=sum(r.status in {"pass", "warn"} for r in tests),
            tests_failed=sum(r.status in FAILED_STATUSES for r in tests),
            failed=[r.node.name for r in failed],
            failed_tests_only=all(r.node.resource_type == "test" for r in failed),
        )

    def rejection(self) -> str:
        """The one line a failed build ends with."""
        what = "check" if self.failed_tests_only else "node"
        plural = "s" if len(self.failed) > 1 else ""
        return f"{len(self.failed)} {what}{plural} failed, batch not published: {', '.join(self.failed)}"
