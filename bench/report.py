"""The benchmark's figures: one table on the terminal, reports/bench.json."""

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

# Wide enough for the table in a log file or CI, where there is no terminal.
console = Console(file=sys.__stdout__, width=max(shutil.get_terminal_size().columns, 150))


@contextmanager
def progress(label: str):
    console.print(f"  [dim]…[/] {label}", highlight=False)
    started = time.perf_counter()
    yield
    console.print(f"  [green]✓[/] {label} [dim]{time.perf_counter() - started:.1f} s[/]", highlight=False)


def seconds(runs) -> str:
    """'5.8 s, 6.1 s': the wall times of measured runs."""
    return ", ".join(f"{run.seconds:.1f} s" for run in runs)


@dataclass(frozen=True)
class Target:
    text: str
    met: Callable[[float], bool]


def at_least(limit: float) -> Target:
    return Target(f">= {limit:g}", lambda value: value >= limit)


def at_most(limit: float) -> Target:
    return Target(f"<= {limit:g}", lambda value: value <= limit)


def below(limit: float) -> Target:
    return Target(f"< {limit:g}", lambda value: value < limit)


def flat(limit_mb: float, small_run_mb: float, growth: float = 1.25) -> Target:
    """Peak memory under `limit_mb` and at most `growth` times the small run's."""
    return Target(
        f"< {limit_mb:g}, <= {growth:g}x small run",
        lambda value: value < limit_mb and value <= growth * small_run_mb,
    )


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str  # "x" for a ratio
    how: str  # what was measured, with the raw numbers behind a ratio
    target: Target | None = None  # None: context, not judged

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def shown(self) -> str:
        digits = 2 if abs(self.value) < 10 else 1 if abs(self.value) < 1000 else 0
        return f"{self.value:,.{digits}f}{'' if self.unit == 'x' else ' '}{self.unit}"


def print_table(sections: list[tuple[str, list[Figure]]], elapsed: float) -> None:
    table = Table(title=f"Superstore pipeline benchmark ({os.cpu_count()} CPUs, {elapsed:.0f} s)", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("")
    table.add_column("measured")
    for title, figures in sections:
        table.add_row(f"[bold]{title}[/]")
        for figure in figures:
            verdict = {True: "[green]PASS[/]", False: "[red]MISS[/]", None: ""}[figure.passed]
            name = figure.name if figure.target else f"[dim]{figure.name}[/]"
            table.add_row(name, figure.shown(), figure.target.text if figure.target else "", verdict, figure.how)
        table.add_section()
    console.print(table)


def write_json(path: Path, sections: list[tuple[str, list[Figure]]], measurements: dict) -> None:
    figures = [figure for _, section in sections for figure in section]
    judged = [figure for figure in figures if figure.target]
    report = {
        **{figure.name: round(figure.value, 4) for figure in figures},
        "targets": {f.name: {"target": f.target.text, "passed": f.passed} for f in judged},
        "all_passed": all(f.passed for f in judged),
        "measurements": measurements,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
