"""The report page: plotly charts (graph_objects, no pandas) and tables in one
Jinja template, plotly's JS inlined once so that the file opens without a
server or a network. Every chart's numbers come from ReportData as read
(queries.py); the tables carry the raw values as data-* attributes."""

import json
import os
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape
from plotly.offline import get_plotlyjs

from superstore_report.queries import ReportData

STATE_COLOURS = {
    "success": "#2e9d5b",
    "published": "#2e9d5b",
    "pass": "#2e9d5b",
    "failed": "#d64545",
    "fail": "#d64545",
    "rejected": "#e0892b",
    "warn": "#e6b422",
    "error": "#8e44ad",
    "running": "#3b7dd8",
}
OTHER = "#8a94a6"
CHECK_STATUSES = ("pass", "warn", "fail", "error")
ATTENTION = {"fail": 0, "error": 1, "warn": 2}  # the checks table lists these first
LAYOUT = {
    "template": "plotly_white",
    "height": 360,
    "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
}
CONFIG = {"displaylogo": False, "responsive": True}


def colour(state: str | None) -> str:
    return STATE_COLOURS.get(state or "", OTHER)


def run_type(value: str | None) -> str:
    """Airflow's run type as recorded (DagRunType.MANUAL or manual)."""
    return (value or "").rsplit(".", 1)[-1].lower()


def short_dag(dag_id: str) -> str:
    return dag_id.removeprefix("superstore_").removesuffix("_load")


def run_labels(data: ReportData) -> dict[tuple[str, str], str]:
    """#n kind, in the order the runs started: readable on an axis (run ids are long)."""
    return {(r["dag_id"], r["run_id"]): f"#{i} {short_dag(r['dag_id'])}" for i, r in enumerate(data.runs, 1)}


def load_labels(data: ReportData) -> dict[str, str]:
    labels = {}
    for i, load in enumerate(data.loads, 1):
        name = load["key"].rsplit("/", 1)[-1]
        labels[load["load_id"]] = f"{i}. {name if len(name) <= 22 else name[:10] + '…' + name[-10:]}"
    return labels


def _figure(traces: list, **layout: Any) -> go.Figure:
    figure = go.Figure(traces)
    figure.update_layout(**{**LAYOUT, **layout})
    if not traces:  # an empty chart says so rather than drawing bare axes
        figure.update_layout(
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[{"text": "nothing recorded yet", "showarrow": False, "font": {"size": 16, "color": OTHER}}],
        )
    return figure


def runs_figure(data: ReportData) -> go.Figure:
    labels = run_labels(data)
    traces = []
    for state in sorted({r["state"] for r in data.runs}):
        runs = [r for r in data.runs if r["state"] == state]
        traces.append(
            go.Scatter(
                name=state,
                x=[r["started_at"] or r["recorded_at"] for r in runs],
                y=[r["seconds"] for r in runs],
                mode="markers",
                marker={"color": colour(state), "size": 12, "symbol": [_symbol(r["dag_id"]) for r in runs]},
                text=[labels[r["dag_id"], r["run_id"]] for r in runs],
                customdata=[[r["dag_id"], r["run_id"], r["error"] or ""] for r in runs],
                hovertemplate="%{text}<br>%{customdata[1]}<br>%{y:.1f} s<br>%{customdata[2]}<extra>%{fullData.name}</extra>",
            )
        )
    return _figure(traces, xaxis_title="started (UTC)", yaxis_title="run seconds", yaxis_rangemode="tozero")


def _symbol(dag_id: str) -> str:
    return "diamond" if "initial" in dag_id else "circle"


def loads_figure(data: ReportData) -> go.Figure:
    """Rows per load: the raw rows of each load by the state it is in, and the
    rows the loader refused (rejected_rows). Log scale: the initial load has
    thousands of rows, a batch tens."""
    labels = load_labels(data)
    traces = []
    for state in sorted({load["state"] for load in data.loads if load["raw_rows"] is not None}):
        loads = [load for load in data.loads if load["state"] == state and load["raw_rows"] is not None]
        traces.append(
            go.Bar(
                name=f"loaded · {state}",
                x=[labels[load["load_id"]] for load in loads],
                y=[load["raw_rows"] for load in loads],
                marker_color=colour(state),
                customdata=[[load["load_id"], load["key"], load["reason"] or ""] for load in loads],
                hovertemplate="%{customdata[1]}<br>%{y} rows<br>%{customdata[2]}<extra>%{fullData.name}</extra>",
            )
        )
    rejected = [load for load in data.loads if load["rejected_rows"]]
    if rejected:
        traces.append(
            go.Bar(
                name="rejected rows",
                x=[labels[load["load_id"]] for load in rejected],
                y=[load["rejected_rows"] for load in rejected],
                marker_color=colour("failed"),
                customdata=[[load["load_id"], load["key"]] for load in rejected],
                hovertemplate="%{customdata[1]}<br>%{y} rows rejected<extra></extra>",
            )
        )
    return _figure(
        traces,
        barmode="group",
        yaxis_type="log",
        yaxis_title="rows (log)",
        xaxis={"categoryorder": "array", "categoryarray": list(labels.values())},
    )


def checks_figure(data: ReportData) -> go.Figure:
    """Check results per load (checks of a whole table under 'all rows')."""
    labels = load_labels(data)
    groups = list(
        dict.fromkeys(labels.get(c["load_id"], c["load_id"]) if c["load_id"] else "all rows" for c in data.checks)
    )
    traces = []
    for status in CHECK_STATUSES:
        counts = dict.fromkeys(groups, 0)
        for check in data.checks:
            if check["status"] == status:
                counts[labels.get(check["load_id"], check["load_id"]) if check["load_id"] else "all rows"] += 1
        if any(counts.values()):
            traces.append(go.Bar(name=status, x=list(counts), y=list(counts.values()), marker_color=colour(status)))
    return _figure(traces, barmode="stack", yaxis_title="checks", height=320)


def steps_figure(data: ReportData) -> go.Figure:
    """Seconds of each step, stacked per run; steps that never ran are absent."""
    labels = run_labels(data)
    order = [labels[r["dag_id"], r["run_id"]] for r in data.runs]
    traces = []
    for task_id in sorted({s["task_id"] for s in data.steps}):
        steps = [s for s in data.steps if s["task_id"] == task_id and s["seconds"] is not None]
        steps = [s for s in steps if (s["dag_id"], s["run_id"]) in labels]
        if steps:
            traces.append(
                go.Bar(
                    name=task_id,
                    x=[labels[s["dag_id"], s["run_id"]] for s in steps],
                    y=[s["seconds"] for s in steps],
                    customdata=[[s["state"], s["rows"] if s["rows"] is not None else ""] for s in steps],
                    hovertemplate="%{fullData.name}: %{y:.1f} s (%{customdata[0]})<br>rows %{customdata[1]}<extra></extra>",
                )
            )
    return _figure(
        traces, barmode="stack", yaxis_title="seconds", xaxis={"categoryorder": "array", "categoryarray": order}
    )


def tables_figure(data: ReportData) -> go.Figure:
    names = sorted(data.tables, key=data.tables.get)
    if not names:
        return _figure([], height=220)
    trace = go.Bar(
        x=[data.tables[name] for name in names],
        y=names,
        orientation="h",
        marker_color="#3b7dd8",
        text=[f"{data.tables[name]:,}" for name in names],
        textposition="auto",
        hovertemplate="%{y}: %{x:,} rows<extra></extra>",
    )
    return _figure([trace], xaxis_title="rows", height=60 + 40 * max(len(names), 1), legend=None)


def published_figure(data: ReportData) -> go.Figure:
    """Lines of the fact over time: each published load's lines at its published_at."""
    loads = sorted(
        (load for load in data.loads if load["published_at"] and load["load_id"] in data.published_lines),
        key=lambda load: load["published_at"],
    )
    if not loads:
        return _figure([], height=220)
    total, xs, ys, text = 0, [], [], []
    for load in loads:
        total += data.published_lines[load["load_id"]]
        xs.append(load["published_at"])
        ys.append(total)
        text.append(f"{load['key']}: +{data.published_lines[load['load_id']]:,}")
    trace = go.Scatter(
        x=xs, y=ys, mode="lines+markers", line_shape="hv", text=text, marker_color="#3b7dd8",
        hovertemplate="%{x}<br>%{y:,} lines<br>%{text}<extra></extra>",
    )  # fmt: skip
    return _figure([trace], xaxis_title="published at (UTC)", yaxis_title="fct_sales lines", height=320)


FIGURES = {
    "runs": runs_figure,
    "loads": loads_figure,
    "checks": checks_figure,
    "steps": steps_figure,
    "tables": tables_figure,
    "published": published_figure,
}


def checks_first_failing(data: ReportData) -> list[dict[str, Any]]:
    """Failing checks (and their samples) first, then the latest run's."""
    order = {(r["dag_id"], r["run_id"]): i for i, r in enumerate(data.runs)}
    return sorted(
        data.checks,
        key=lambda c: (ATTENTION.get(c["status"], 3), -order.get((c["dag_id"], c["run_id"]), -1), c["dataset"]),
    )


def chart_html(name: str, figure: go.Figure) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", config=CONFIG)


def summary(data: ReportData, max_age_hours: float) -> dict[str, Any]:
    states = [r["state"] for r in data.runs]
    loads = data.loads
    age = data.freshness.age_hours(data.generated_at)
    return {
        "runs": len(data.runs),
        "runs_success": states.count("success"),
        "runs_failed": states.count("failed"),
        "last_run": data.runs[-1] if data.runs else None,
        "loads": len(loads),
        "loads_published": sum(load["state"] == "published" for load in loads),
        "loads_rejected": sum(load["state"] == "rejected" for load in loads),
        "rows_loaded": sum(load["raw_rows"] or 0 for load in loads),
        "rows_rejected": sum(load["rejected_rows"] or 0 for load in loads),
        "checks_failed": sum(c["status"] in ("fail", "error") for c in data.checks),
        "checks": len(data.checks),
        "age_hours": age,
        "order_age_days": data.freshness.order_age_days(data.generated_at),
        "max_age_hours": max_age_hours,
        "stale": age is None or age > max_age_hours,
    }


def _format_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else ("" if value is None else str(value))


def _format_number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _environment() -> Environment:
    templates = Path(str(files("superstore_report") / "templates"))
    environment = Environment(loader=FileSystemLoader(templates), autoescape=select_autoescape(("html", "j2")))
    environment.filters.update(
        time=_format_time,
        number=_format_number,
        colour=colour,
        short_dag=short_dag,
        run_type=run_type,
        tojson_compact=lambda value: json.dumps(value, default=str, ensure_ascii=False),
    )
    return environment


def render(data: ReportData, output: Path, docs: Path | None = None, max_age_hours: float = 24.0) -> dict[str, Any]:
    """Write the page to `output`; `docs`: dbt's static docs page, linked when it exists."""
    charts = {name: chart_html(name, build(data)) for name, build in FIGURES.items()}
    docs_link = os.path.relpath(docs, output.parent) if docs is not None and docs.is_file() else None
    page = (
        _environment()
        .get_template("index.html.j2")
        .render(
            data=data,
            charts=charts,
            summary=summary(data, max_age_hours),
            runs=run_labels(data),
            checks=checks_first_failing(data),
            loads=load_labels(data),
            docs_link=docs_link,
            docs_path=str(docs) if docs is not None else None,
            plotly_js=get_plotlyjs(),
        )
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(output)
    return {"path": str(output), "bytes": output.stat().st_size, "charts": list(charts), "docs": docs_link}
