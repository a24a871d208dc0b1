"""The shell scripts pass shellcheck, and what scripts/kind-up.sh applies to a
cluster is valid and agrees with the charts' values (kind cannot run here)."""

import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from helm_kit import KIND_VALUES, REPO, only, render

SCRIPTS = sorted((REPO / "scripts").glob("*.sh"))
KIND_UP = (REPO / "scripts" / "kind-up.sh").read_text()
LOCAL_STACK = REPO / "helm" / "kind" / "local-stack.yaml"
KIND_AIRFLOW_VALUES = REPO / "helm" / "kind" / "airflow-values.yaml"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_shellcheck(script):
    assert shutil.which("shellcheck"), "shellcheck missing: apt-get install shellcheck"
    result = subprocess.run(
        ["shellcheck", "--external-sources", "--severity=warning", str(script.relative_to(REPO))],
        cwd=REPO,  # the scripts source each other as scripts/<name>
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_every_file_kind_up_applies_exists_and_is_tested():
    applied = set(re.findall(r"(?:--values|-f)\s+(helm/\S+\.yaml)", KIND_UP))
    assert applied == {
        "helm/kind/local-stack.yaml",
        "helm/kind/pipeline-values.yaml",
        "helm/airflow-values.yaml",
        "helm/kind/airflow-values.yaml",
    }
    assert all((REPO / path).is_file() for path in applied)


def test_local_stack_manifests_are_valid():
    manifests = [doc for doc in yaml.safe_load_all(LOCAL_STACK.read_text()) if doc]
    assert {(m["kind"], m["metadata"]["name"]) for m in manifests} >= {
        ("Deployment", "warehouse"),
        ("Service", "warehouse"),
        ("Deployment", "moto"),
        ("Service", "moto"),
    }
    for manifest in manifests:
        kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)


def test_local_stack_matches_the_kind_values():
    stack = {(m["kind"], m["metadata"]["name"]): m for m in yaml.safe_load_all(LOCAL_STACK.read_text()) if m}
    config = only(render(KIND_VALUES), "ConfigMap", "superstore-pipeline-config")["data"]
    namespace = stack[("Namespace", "superstore-local")]["metadata"]["name"]
    assert config["WAREHOUSE_HOST"] == f"warehouse.{namespace}.svc.cluster.local"
    assert int(config["WAREHOUSE_PORT"]) == stack[("Service", "warehouse")]["spec"]["ports"][0]["port"]
    assert config["AWS_ENDPOINT_URL"] == f"http://moto.{namespace}.svc.cluster.local:5000"
    # secrets are created by kind-up.sh under the names the charts reference, in the step pods' namespace
    assert 'apply_secret "$TASK_NS" superstore-warehouse' in KIND_UP
    task_namespace = yaml.safe_load(KIND_VALUES.read_text())["taskNamespace"]["name"]
    assert f"\nTASK_NS={task_namespace}\n" in KIND_UP
    assert "secretRef:\n      name: superstore-local-aws" in KIND_AIRFLOW_VALUES.read_text()
    assert 'apply_secret "$AIRFLOW_NS" superstore-local-aws' in KIND_UP


def test_kind_up_never_puts_a_password_on_a_command_line():
    assert "--from-literal" not in KIND_UP
    assert "--from-env-file=/dev/stdin" in KIND_UP
