"""What the kubernetes runner would send: every step's pod, rendered offline
by KubernetesPodOperator itself and validated against the Kubernetes API
schema (no API server exists here)."""

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient
from superstore_orchestration import config, steps
from superstore_orchestration.factory import step_task

K8S_VERSION = kubernetes_validate.latest_version()


@pytest.fixture
def kubernetes_runner(monkeypatch):
    monkeypatch.setenv("PIPELINE_RUNNER", "kubernetes")
    monkeypatch.setenv("PIPELINE_IMAGE_REPOSITORY", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/superstore")
    monkeypatch.setenv("PIPELINE_IMAGE_TAG", "1.0.0")
    config.pipeline.cache_clear()
    yield
    config.pipeline.cache_clear()


def rendered_pod(step: steps.Step) -> dict:
    task = step_task(step)
    pod = task.build_pod_request_obj(context=None, dry_run=True)
    return ApiClient().sanitize_for_serialization(pod)


@pytest.mark.parametrize("step", steps.ALL_STEPS, ids=lambda s: f"{s.image}-{s.arguments[0]}")
def test_pod_is_valid_and_locked_down(kubernetes_runner, step):
    pod = rendered_pod(step)
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)

    spec = pod["spec"]
    base = next(c for c in spec["containers"] if c["name"] == "base")
    assert base["image"] == f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/superstore/{step.image}:1.0.0"
    assert base["args"] == list(step.arguments)
    assert not base.get("command")  # empty: the image's ENTRYPOINT runs
    # settings from the ConfigMap and the Secret, never inline values
    assert {e.get("configMapRef", {}).get("name") for e in base["envFrom"]} >= {"superstore-pipeline-config"}
    assert {e.get("secretRef", {}).get("name") for e in base["envFrom"]} >= {"superstore-warehouse"}
    assert "env" not in base or all("value" not in e or "PASSWORD" not in e["name"] for e in base["env"])
    # resources and security
    assert base["resources"]["requests"] == {"cpu": step.resources.cpu, "memory": step.resources.memory}
    assert base["resources"]["limits"]["memory"] == step.resources.memory
    security = base["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert spec["serviceAccountName"] == "superstore-pipeline"
    assert {"mountPath": "/tmp", "name": "tmp"} in base["volumeMounts"]
    # XCom: the sidecar reads /airflow/xcom/return.json from a shared emptyDir
    sidecar = next(c for c in spec["containers"] if c["name"] == "airflow-xcom-sidecar")
    assert any(m["mountPath"] == "/airflow/xcom" for m in base["volumeMounts"])
    assert any(m["mountPath"] == "/airflow/xcom" for m in sidecar["volumeMounts"])
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["metadata"]["namespace"] == "superstore-tasks"
    assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == "superstore-pipeline"


def test_no_secret_value_reaches_the_pod_spec(kubernetes_runner, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "s3cret-value-never-in-pods")
    for step in steps.ALL_STEPS:
        assert "s3cret-value-never-in-pods" not in repr(rendered_pod(step))
