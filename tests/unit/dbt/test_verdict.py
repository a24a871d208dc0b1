"""The one line a failed build ends with."""

from types import SimpleNamespace

from superstore_dbt.verdict import BuildSummary


def result(name: str, resource_type: str, status: str) -> SimpleNamespace:
    return SimpleNamespace(node=SimpleNamespace(name=name, resource_type=resource_type), status=status)


def summary(*results: SimpleNamespace) -> BuildSummary:
    return BuildSummary.of(SimpleNamespace(results=list(results)))


def test_counts_models_and_tests():
    built = summary(
        result("stg_orders", "model", "success"),
        result("fct_sales", "model", "skipped"),
        result("not_null_x", "test", "pass"),
        result("stg_orders_quantity_positive", "test", "fail"),
        result("unique_y", "test", "warn"),
    )
    assert (built.models, built.tests_passed, built.tests_failed) == (1, 2, 1)
    assert built.failed == ["stg_orders_quantity_positive"]


def test_failed_checks_are_named():
    failed = summary(result("a_check", "test", "fail"), result("another_check", "test", "error"))
    assert failed.rejection() == "2 checks failed, batch not published: a_check, another_check"


def test_failed_models_are_nodes():
    failed = summary(result("fct_sales", "model", "error"))
    assert failed.rejection() == "1 node failed, batch not published: fct_sales"
