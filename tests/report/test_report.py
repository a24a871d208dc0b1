"""Issue 10 (5): the operations report and dbt's docs, on what real runs
recorded. The page is rendered by the `superstore-report` entrypoint and
opened from file:// in headless Chromium; every figure it shows is
compared with the ops tables, the load ledger and the published tables."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from report_kit import REPORT_DB, query
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from stack import REPO

FIGURES = ("runs", "loads", "checks", "steps", "tables", "published")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
VENV_BIN = REPO / ".venv"


def entrypoint_env() -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_DB": REPORT_DB}


@pytest.fixture(scope="module")
def dbt_docs(pipeline_runs, tmp_path_factory) -> Path:
    """`superstore-dbt docs` after the runs: their audit schemas are dropped."""
    out = tmp_path_factory.mktemp("dbt-docs")
    assert query("select count(*) from information_schema.schemata where schema_name like 'staging%%'")[0][0] == 0
    done = subprocess.run(
        [VENV_BIN / "dbt" / "bin" / "superstore-dbt", "docs", "--output", out],
        env=entrypoint_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def report(pipeline_runs, dbt_docs, tmp_path_factory) -> dict:
    page = tmp_path_factory.mktemp("report") / "index.html"
    started = time.monotonic()
    done = subprocess.run(
        [VENV_BIN / "orchestration" / "bin" / "superstore-report", "--output", page, "--docs", dbt_docs / "index.html"],
        env=entrypoint_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    print(f"\nreport rendered in {seconds:.1f} s, {page.stat().st_size / 1e6:.2f} MB: {done.stdout.strip()}")
    return {"path": page, "seconds": seconds, "stdout": done.stdout}


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def opened(browser, report, screenshots):
    browser.get(report["path"].as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-figure] .js-plotly-plot .main-svg")) >= len(FIGURES)
    )
    browser.save_screenshot(str(screenshots / "report.png"))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(height + 100, 12000))
    browser.save_screenshot(str(screenshots / "report-full.png"))
    browser.set_window_size(1400, 1000)
    return browser


def rows(browser, selector: str) -> list[dict[str, str]]:
    """The data-* attributes of every element matching selector."""
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => Object.assign({}, e.dataset))", selector
    )


def traces(browser, figure: str) -> list[dict]:
    """The data plotly drew in a chart, as the page holds it."""
    return browser.execute_script(
        "return document.getElementById(arguments[0]).data.map(t => ({name: t.name || '', x: Array.from(t.x || []),"
        " y: Array.from(t.y || []), n: (t.x || []).length}))",
        f"chart-{figure}",
    )


def number(text: str) -> float | None:
    return None if text == "" else float(text)


# --- the pipeline recorded what the report is about


def test_the_runs_recorded_themselves(pipeline_runs):
    assert [r.state for r in pipeline_runs] == ["success", "success", "failed", "failed"], [
        r.errors for r in pipeline_runs
    ]
    recorded = dict(query("select run_id, state from ops.runs"))
    assert {r.run_id: r.state for r in pipeline_runs} == recorded
    assert query("select count(*) from raw.loads where state = 'rejected' and rejected_rows > 0")[0][0] == 1


# --- the page


def test_report_is_one_static_page(opened, report):
    external = opened.execute_script(
        "return [...document.querySelectorAll('script[src], link[href], iframe, img[src]')].map(e => e.outerHTML)"
    )
    assert external == []  # plotly inlined: no server, no network
    assert opened.execute_script("return typeof window.Plotly") == "object"
    assert report["seconds"] < 60


def test_every_chart_renders(opened):
    for figure in FIGURES:
        container = opened.find_element(By.CSS_SELECTOR, f"[data-figure={figure}] .js-plotly-plot")
        size = container.size
        assert size["width"] > 300 and size["height"] > 150, (figure, size)
        drawn = container.find_elements(By.CSS_SELECTOR, "path.point, path.js-line, .bars path")
        assert drawn, f"chart {figure} drew nothing"
        assert all(t["n"] > 0 for t in traces(opened, figure)), figure
    assert not [e for e in opened.get_log("browser") if e["level"] == "SEVERE"]


def test_runs_equal_ops_runs(opened):
    recorded = query("select dag_id, run_id, state, seconds from ops.runs")
    shown = rows(opened, "#runs-table tbody tr[data-run-id]")
    assert sorted((r["dagId"], r["runId"], r["state"], number(r["seconds"])) for r in shown) == sorted(
        (d, r, s, sec) for d, r, s, sec in recorded
    )
    plotted = {t["name"]: t["n"] for t in traces(opened, "runs")}
    states = {}
    for _, _, state, _ in recorded:
        states[state] = states.get(state, 0) + 1
    assert plotted == states
    kpi = {r["kpi"]: r["value"] for r in rows(opened, "[data-kpi]")}
    assert (int(kpi["runs"]), int(kpi["runs_failed"]), int(kpi["runs_success"])) == (
        len(recorded), states.get("failed", 0), states.get("success", 0)
    )  # fmt: skip


def test_loads_equal_the_ledger(opened):
    ledger = query("select load_id, state, source_rows, raw_rows, rejected_rows from raw.loads")
    shown = rows(opened, "#loads-table tbody tr[data-load-id]")
    assert sorted(
        (r["loadId"], r["state"], number(r["sourceRows"]), number(r["rawRows"]), number(r["rejectedRows"]))
        for r in shown
    ) == sorted(ledger)
    published = dict(query("select load_id, count(*) from analytics.fct_sales group by load_id"))
    assert {r["loadId"]: int(r["publishedLines"]) for r in shown if int(r["publishedLines"])} == published
    plotted = traces(opened, "loads")
    loaded = sum(sum(t["y"]) for t in plotted if t["name"].startswith("loaded"))
    (rejected,) = [sum(t["y"]) for t in plotted if t["name"] == "rejected rows"]
    assert loaded == sum(raw or 0 for *_, raw, _ in ledger)
    assert rejected == sum(rej or 0 for *_, rej in ledger) > 0
    kpi = {r["kpi"]: r["value"] for r in rows(opened, "[data-kpi]")}
    assert int(kpi["rows_rejected"]) == rejected and int(kpi["rows_loaded"]) == loaded
    # what a person reads: the rejected load's row shows its count and reason
    row = opened.find_element(By.CSS_SELECTOR, "#loads-table tr[data-state=rejected][data-rejected-rows='1']")
    assert "bad-quantity.csv" in row.text and "2.5" in row.text


def test_checks_equal_ops_check_results(opened):
    recorded = query("select run_id, check_name, dataset, status, failing_rows, load_id, sample from ops.check_results")
    shown = rows(opened, "#checks-table tbody tr[data-check]")

    def order(row: tuple) -> tuple:  # checks of no load (None) sort among the others
        return tuple("" if value is None else str(value) for value in row)

    assert sorted(
        ((r["runId"], r["check"], r["dataset"], r["status"], number(r["failingRows"]), r["loadId"] or None,
          int(r["sampleRows"])) for r in shown),
        key=order,
    ) == sorted(
        ((run, check, ds, status, failing, load, len(json.loads(sample)) if sample else 0)
         for run, check, ds, status, failing, load, sample in recorded),
        key=order,
    )  # fmt: skip
    plotted = {t["name"]: sum(t["y"]) for t in traces(opened, "checks")}
    counts = {}
    for _, _, _, status, *_ in recorded:
        counts[status] = counts.get(status, 0) + 1
    assert plotted == counts
    failing = [r for r in recorded if r[3] == "fail"]
    assert failing, "no failing check recorded"
    # every failing check's sample is on the page, open (dbt's audit checks record counts, no rows)
    sample_tables = opened.find_elements(By.CSS_SELECTOR, "#checks-table tr[data-status=fail] details[open] table")
    assert len(sample_tables) == sum(1 for r in failing if r[6])
    assert all(table.is_displayed() for table in sample_tables)


def test_steps_equal_ops_step_results(opened):
    recorded = query("select dag_id, run_id, task_id, state, seconds, rows, rejected_rows from ops.step_results")
    shown = rows(opened, ".steps-table tbody tr[data-task-id]")
    assert sorted(
        (r["dagId"], r["runId"], r["taskId"], r["state"], number(r["seconds"]), number(r["rows"]),
         number(r["rejectedRows"]))
        for r in shown
    ) == sorted(recorded)  # fmt: skip
    plotted = {t["name"]: round(sum(t["y"]), 6) for t in traces(opened, "steps")}
    seconds = {}
    for _, _, task, _, sec, *_ in recorded:
        if sec is not None:
            seconds[task] = round(seconds.get(task, 0) + sec, 6)
    assert plotted == seconds
    assert any(s is None for _, _, _, _, s, *_ in recorded)  # steps that never ran: no duration shown, "not run"
    assert "not run" in opened.find_element(By.ID, "steps").get_attribute("textContent")


def test_published_tables_and_freshness_equal_the_warehouse(opened):
    tables = [
        name for (name,) in query("select table_name from information_schema.tables where table_schema = 'analytics'")
    ]
    counts = {name: query(f"select count(*) from analytics.{name}")[0][0] for name in tables}
    shown = {r["table"]: int(r["rows"]) for r in rows(opened, "#tables-table tr[data-table]")}
    assert shown == counts and "fct_sales" in shown
    (plotted,) = traces(opened, "tables")
    assert dict(zip(plotted["y"], plotted["x"], strict=True)) == counts
    lines, loaded_at, last_order = query(
        "select count(*), max(loaded_at), (select date from analytics.dim_dates where date_key = max(f.order_date_key))"
        " from analytics.fct_sales f"
    )[0]
    fields = {r["field"]: r["value"] for r in rows(opened, "#freshness-table tr[data-field]")}
    assert fields["latest_loaded_at"] == loaded_at.strftime("%Y-%m-%d %H:%M:%S")
    assert fields["latest_order_date"] == last_order.isoformat()
    assert int(fields["lines"]) == lines
    (published,) = traces(opened, "published")
    assert published["y"][-1] == lines  # the cumulative line ends at the fact's size


def test_the_report_links_the_dbt_docs(opened, report, dbt_docs):
    link = opened.find_element(By.ID, "dbt-docs-link")
    written = opened.execute_script("return arguments[0].getAttribute('href')", link)
    assert not written.startswith(("/", "file:")), written  # relative: the two move together
    assert (report["path"].parent / written).resolve() == (dbt_docs / "index.html").resolve()
    opened.get(link.get_attribute("href") + "#!/model/model.superstore.fct_sales")
    try:
        WebDriverWait(opened, 60).until(lambda d: "order_line_key" in d.find_element(By.TAG_NAME, "body").text)
        page = opened.find_element(By.TAG_NAME, "body").text
        assert f"{REPORT_DB}.analytics.fct_sales" in page  # the relation people query, documented with its columns
    finally:
        opened.get(report["path"].as_uri())
        opened.get_log("browser")  # dbt's page logs errors of its own: not the report's
    catalog = json.loads((dbt_docs / "catalog.json").read_text())
    # the marts' catalog is read from the published tables, though every audit schema is gone
    assert {node.split(".")[-1] for node in catalog["nodes"]} >= {"fct_sales", "dim_customers", "dim_products"}
    assert catalog["nodes"]["model.superstore.fct_sales"]["metadata"]["schema"] == "analytics"
