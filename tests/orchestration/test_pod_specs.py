"""What the kubernetes runner would send: every step's pod, rendered offline
by KubernetesPodOperator itself from the pod template the chart ships (real
`helm template`), and validated against the Kubernetes API schema (no API
server exists here)."""

import json
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes.client import ApiClient
from superstore_orchestration import steps
from superstore_orchestration.factory import step_task

K8S_VERSION = kubernetes_validate.latest_version()
REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "superstore-pipeline"


@pytest.fixture(scope="module")
def pod_template_file(tmp_path_factory) -> Path:
    """The chart's pod template (production values), as Airflow's workers see it mounted."""
    rendered = subprocess.run(
        ["bash", "scripts/helm.sh", "template", "superstore-pipeline", str(CHART), "--namespace", "airflow"]
        + ["--values", str(CHART / "ci" / "prod-values.yaml"), "--show-only", "templates/pod-template.yaml"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (name, template), *_ = yaml.safe_load(rendered)["data"].items()
    path = tmp_path_factory.mktemp("pod-templates") / name
    path.write_text(template)
    return path


@pytest.fixture
def kubernetes_runner(monkeypatch, pod_template_file):
    monkeypatch.setenv("PIPELINE_RUNNER", "kubernetes")
    monkeypatch.setenv("PIPELINE_IMAGE_REPOSITORY", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/superstore")
    monkeypatch.setenv("PIPELINE_IMAGE_TAG", "1.0.0")
    monkeypatch.setenv("PIPELINE_POD_TEMPLATE_FILE", str(pod_template_file))
    monkeypatch.delenv("PIPELINE_STEP_RESOURCES", raising=False)
    yield


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
    assert base["imagePullPolicy"] == "IfNotPresent"
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
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["serviceAccountName"] == "superstore-pipeline"
    assert {"mountPath": "/tmp", "name": "tmp"} in base["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in spec["volumes"]
    # XCom: the sidecar reads /airflow/xcom/return.json from a shared emptyDir
    sidecar = next(c for c in spec["containers"] if c["name"] == "airflow-xcom-sidecar")
    assert any(m["mountPath"] == "/airflow/xcom" for m in base["volumeMounts"])
    assert any(m["mountPath"] == "/airflow/xcom" for m in sidecar["volumeMounts"])
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    assert sidecar["securityContext"]["allowPrivilegeEscalation"] is False
    assert sidecar["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["metadata"]["namespace"] == "superstore-tasks"
    assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == "superstore-pipeline"
    # the per-task settings every runner passes (record + lineage), rendered by Airflow
    assert {e["name"]: e["value"] for e in base["env"]} == steps.TASK_ENV


def test_step_resources_are_a_setting(kubernetes_runner, monkeypatch):
    sizes = {"small": {"cpu": "100m", "memory": "128Mi"}, "large": {"cpu": "3", "memory": "6Gi"}}
    monkeypatch.setenv("PIPELINE_STEP_RESOURCES", json.dumps(sizes))
    for step in steps.ALL_STEPS:
        size = sizes["large" if step.resources == steps.LARGE else "small"]
        resources = next(c for c in rendered_pod(step)["spec"]["containers"] if c["name"] == "base")["resources"]
        assert resources == {"requests": size, "limits": {"memory": size["memory"]}}
    # a step with resources of its own keeps them
    own = steps.Step("own_size", "loader", ("create-schemas",), resources=steps.Resources(cpu="3", memory="5Gi"))
    resources = next(c for c in rendered_pod(own)["spec"]["containers"] if c["name"] == "base")["resources"]
    assert resources == {"requests": {"cpu": "3", "memory": "5Gi"}, "limits": {"memory": "5Gi"}}


def test_the_runner_refuses_to_build_pods_without_the_charts_template(kubernetes_runner, monkeypatch):
    monkeypatch.delenv("PIPELINE_POD_TEMPLATE_FILE")
    with pytest.raises(ValueError, match="PIPELINE_POD_TEMPLATE_FILE"):
        step_task(steps.ALL_STEPS[0])


def test_no_secret_value_reaches_the_pod_spec(kubernetes_runner, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "s3cret-value-never-in-pods")
    for step in steps.ALL_STEPS:
        assert "s3cret-value-never-in-pods" not in repr(rendered_pod(step))
