"""Render the superstore-pipeline chart with the real helm binary
(scripts/helm.sh), and read what it rendered. Test modules import this,
never a conftest (several conftest modules share the name)."""

import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "superstore-pipeline"
PROD_VALUES = CHART / "ci" / "prod-values.yaml"
KIND_VALUES = REPO / "helm" / "kind" / "pipeline-values.yaml"
# Layered on PROD_VALUES: lineage (HTTP backend + API key Secret) and quality thresholds set.
LINEAGE_VALUES = Path(__file__).with_name("lineage-values.yaml")
RELEASE_NAMESPACE = "airflow"
# The release name the install docs, kind-up.sh and helm/airflow-values.yaml use.
RELEASE = "superstore-pipeline"


@cache
def helm_bin() -> str:
    bin_dir = subprocess.run(
        ["bash", str(REPO / "scripts" / "helm.sh"), "--bin-dir"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return str(Path(bin_dir) / "helm")


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm_bin(), *args], capture_output=True, text=True, cwd=REPO)


@cache
def _render(values: tuple[Path, ...], sets: tuple[str, ...], release: str, namespace: str) -> tuple[dict, ...]:
    args = ["template", release, str(CHART), "--namespace", namespace]
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


def render(
    *values: Path, sets: tuple[str, ...] = (), release: str = RELEASE, namespace: str = RELEASE_NAMESPACE
) -> list[dict]:
    """The chart's manifests for these values files (later files win) and --set assignments."""
    return list(_render(tuple(values), tuple(sets), release, namespace))


def only(manifests: list[dict], kind: str, name: str | None = None) -> dict:
    matches = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, got {len(matches)}"
    return matches[0]


def airflow_config(manifests: list[dict]) -> dict:
    """The ConfigMap of PIPELINE_* settings that Airflow loads (extraEnvFrom)."""
    matches = [m for m in manifests if m["kind"] == "ConfigMap" and "PIPELINE_RUNNER" in m.get("data", {})]
    assert len(matches) == 1, f"expected one ConfigMap with PIPELINE_RUNNER, got {len(matches)}"
    return matches[0]


def pod_template(manifests: list[dict]) -> tuple[dict, str, dict]:
    """The pod-template ConfigMap, its file name and the Pod it holds."""
    path = Path(airflow_config(manifests)["data"]["PIPELINE_POD_TEMPLATE_FILE"])
    matches = [m for m in manifests if m["kind"] == "ConfigMap" and path.name in m.get("data", {})]
    assert len(matches) == 1, f"expected one ConfigMap holding {path.name}, got {len(matches)}"
    return matches[0], path.name, yaml.safe_load(matches[0]["data"][path.name])


def step_pods(manifests: list[dict], directory: Path) -> dict:
    """Every step's pod as the kubernetes runner builds it (KubernetesPodOperator,
    rendered offline), with Airflow's environment from the chart's orchestration
    ConfigMap and its pod template mounted (here: written to `directory`) where
    that environment says. Steps -> pods as JSON-ready dicts."""
    from kubernetes.client import ApiClient
    from superstore_orchestration import steps
    from superstore_orchestration.factory import step_task

    airflow_env = airflow_config(manifests)["data"]
    template_config_map, file_name, _ = pod_template(manifests)
    mounted = directory / file_name
    mounted.write_text(template_config_map["data"][file_name])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in airflow_env.items():
            patch.setenv(name, value)
        patch.setenv("PIPELINE_POD_TEMPLATE_FILE", str(mounted))
        return {
            step: ApiClient().sanitize_for_serialization(
                step_task(step).build_pod_request_obj(context=None, dry_run=True)
            )
            for step in steps.ALL_STEPS
        }


def base_container(pod: dict) -> dict:
    """The step's own container (KubernetesPodOperator's `base`), not the XCom sidecar."""
    return next(c for c in pod["spec"]["containers"] if c["name"] == "base")
