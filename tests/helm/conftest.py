"""Render the superstore-pipeline chart with the real helm binary (scripts/helm.sh)."""

import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "superstore-pipeline"
PROD_VALUES = CHART / "ci" / "prod-values.yaml"
KIND_VALUES = REPO / "helm" / "kind" / "pipeline-values.yaml"
RELEASE_NAMESPACE = "airflow"


@cache
def helm_bin() -> str:
    bin_dir = subprocess.run(
        ["bash", str(REPO / "scripts" / "helm.sh"), "--bin-dir"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return str(Path(bin_dir) / "helm")


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm_bin(), *args], capture_output=True, text=True, cwd=REPO)


@cache
def _render(values: tuple[Path, ...], sets: tuple[str, ...]) -> tuple[dict, ...]:
    args = ["template", "superstore-pipeline", str(CHART), "--namespace", RELEASE_NAMESPACE]
    for path in values:
        args += ["--values", str(path)]
    for assignment in sets:
        args += ["--set", assignment]
    result = helm(*args)
    if result.returncode:
        raise RenderError(result.stderr.strip())
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


class RenderError(Exception):
    pass


def render(*values: Path, sets: tuple[str, ...] = ()) -> list[dict]:
    """The chart's manifests for these values files (later files win) and --set assignments."""
    return list(_render(tuple(values), tuple(sets)))


def only(manifests: list[dict], kind: str, name: str | None = None) -> dict:
    matches = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, got {len(matches)}"
    return matches[0]


@pytest.fixture(scope="session")
def prod_manifests() -> list[dict]:
    return render(PROD_VALUES)


@pytest.fixture(scope="session")
def kind_manifests() -> list[dict]:
    return render(KIND_VALUES)
