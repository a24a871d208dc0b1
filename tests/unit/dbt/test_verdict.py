"""What a build's results say: a failed check is a verdict on the data, an
error is not (the loads stay retryable)."""

from types import SimpleNamespace

from superstore_dbt.verdict import BuildSummary


def result(name: str, resource_type: str, status: str, message: str = "", failures: int | None = None):
    node = SimpleNamespace(name=name, resource_type=resource_type, attached_node="model.superstore.stg_orders")
    return SimpleNamespace(node=node, status=status, message=message, failures=failures)


def summary(*results: SimpleNamespace) -> BuildSummary:
    return BuildSummary.of(SimpleNamespace(results=list(results)))


def test_counts_models_and_tests():
    built = summary(
        result("stg_orders", "model", "success"),
        result("fct_sales", "model", "skipped"),
        result("not_null_x", "test", "pass"),
        result("stg_orders_quantity_positive", "test", "fail", failures=3),
        result("unique_y", "test", "warn"),
    )
    assert (built.models, built.tests_passed) == (1, 2)
    # every check as the run records keep it (ops.check_results)
    assert [(c.check, c.dataset, c.status, c.failing_rows) for c in built.checks] == [
        ("not_null_x", "stg_orders", "pass", None),
        ("stg_orders_quantity_positive", "stg_orders", "fail", 3),
        ("unique_y", "stg_orders", "warn", None),
    ]
    assert built.failed_checks == ["stg_orders_quantity_positive"] and built.errors == []
    assert not built.passed


def test_failed_checks_are_named():
    failed = summary(result("a_check", "test", "fail"), result("another_check", "test", "fail"))
    assert failed.rejection() == "2 checks failed: a_check, another_check"


def test_errors_are_not_verdicts():
    broken = summary(
        result("fct_sales", "model", "error", "connection to server\n lost"), result("a_check", "test", "error", "x")
    )
    assert broken.failed_checks == []
    assert broken.errors == ["fct_sales: connection to server lost", "a_check: x"]
    assert not broken.passed
