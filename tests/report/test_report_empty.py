"""The report before anything ran: a warehouse without the ops tables, the
ledger or published tables renders a page that says so (no error)."""

from stack import connect, fresh_database
from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import connect as warehouse
from superstore_report.queries import collect
from superstore_report.render import render

EMPTY_DB = "superstore_report_empty"


def test_a_warehouse_where_nothing_ran_renders(tmp_path):
    fresh_database(EMPTY_DB)
    try:
        settings = WarehouseSettings(db=EMPTY_DB)
        with warehouse(settings, "report-tests") as connection:
            data = collect(connection, settings)
        result = render(data, tmp_path / "index.html", docs=tmp_path / "no-docs" / "index.html")
    finally:
        with connect() as conn:
            conn.execute(f"drop database if exists {EMPTY_DB} with (force)")
    assert (data.runs, data.loads, data.checks, data.tables) == ([], [], [], {})
    assert set(data.missing) == {"ops.runs", "ops.step_results", "ops.check_results", "raw.loads",
                                 "raw.load_transitions", "analytics.fct_sales"}  # fmt: skip
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "No run recorded yet." in page and "Nothing published yet." in page
    assert 'id="dbt-docs-missing"' in page and result["docs"] is None
    assert page.count("nothing recorded yet") == 6  # every chart says it is empty
