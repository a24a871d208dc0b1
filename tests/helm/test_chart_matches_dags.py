"""Airflow configured by the chart launches step pods the chart admits: the
pods that KubernetesPodOperator would create (rendered offline) land in the
chart's namespace, as its service account, reading its ConfigMap and Secret,
selected by its NetworkPolicy, and pass the namespace's restricted Pod
Security Standard."""

import json

import pytest
from helm_kit import PROD_VALUES, airflow_config, only, render, step_pods
from superstore_orchestration import steps


@pytest.fixture(scope="module")
def chart():
    return render(PROD_VALUES)


@pytest.fixture(scope="module")
def pods(chart, tmp_path_factory):
    """Every step's pod, built with Airflow's environment from the chart's ConfigMap
    and its pod template, mounted (here: written) where that environment says."""
    return step_pods(chart, tmp_path_factory.mktemp("pod-templates"))


def test_pods_use_the_charts_namespace_account_config_and_secret(chart, pods):
    account = only(chart, "ServiceAccount")["metadata"]
    step_config = only(chart, "ConfigMap", "superstore-pipeline-config")["metadata"]
    for step, pod in pods.items():
        base = next(c for c in pod["spec"]["containers"] if c["name"] == "base")
        assert pod["metadata"]["namespace"] == account["namespace"] == step_config["namespace"]
        assert pod["spec"]["serviceAccountName"] == account["name"]
        assert {"configMapRef": {"name": step_config["name"]}} in base["envFrom"]
        assert {"secretRef": {"name": "superstore-warehouse"}} in base["envFrom"]
        assert base["image"].startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/superstore/")
        assert base["image"].endswith(f"/{step.image}:1.4.0")


def test_pods_get_the_charts_step_resources(chart, pods):
    sizes = json.loads(airflow_config(chart)["data"]["PIPELINE_STEP_RESOURCES"])
    assert sizes["large"] != sizes["small"]
    for step, pod in pods.items():
        size = sizes["large" if step.resources == steps.LARGE else "small"]
        base = next(c for c in pod["spec"]["containers"] if c["name"] == "base")
        assert base["resources"] == {"requests": size, "limits": {"memory": size["memory"]}}


def test_the_network_policy_selects_every_step_pod(chart, pods):
    selector = only(chart, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
    for pod in pods.values():
        assert selector.items() <= pod["metadata"]["labels"].items()


def test_pods_meet_the_restricted_pod_security_standard(chart, pods):
    # The rules of https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    # that a pod spec can break (volume types: emptyDir only here).
    assert only(chart, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for pod in pods.values():
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert all(set(volume) <= {"name", "emptyDir"} for volume in spec.get("volumes", []))
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
        for container in spec["containers"] + spec.get("initContainers", []):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert not security.get("privileged")
            assert security.get("runAsUser", spec["securityContext"].get("runAsUser")) != 0
