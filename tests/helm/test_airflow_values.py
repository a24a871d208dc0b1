"""helm/airflow-values.yaml (official Apache Airflow chart): KubernetesExecutor,
the Airflow version the DAGs are tested with, settings from this chart, and the
service accounts this chart's RoleBinding names."""

import re
from pathlib import PurePosixPath

import pytest
import yaml
from conftest import KIND_VALUES, PROD_VALUES, RELEASE, REPO, airflow_config, only, pod_template, render

VALUES = yaml.safe_load((REPO / "helm" / "airflow-values.yaml").read_text())
KIND_OVERRIDES = yaml.safe_load((REPO / "helm" / "kind" / "airflow-values.yaml").read_text())


def pinned_airflow_version() -> str:
    requirements = (REPO / "orchestration" / "requirements.txt").read_text()
    return re.search(r"^apache-airflow==(\S+)$", requirements, re.M).group(1)


def test_kubernetes_executor_and_the_tested_airflow_version():
    assert VALUES["executor"] == "KubernetesExecutor"
    assert VALUES["airflowVersion"] == VALUES["defaultAirflowTag"] == pinned_airflow_version()
    # the image installs the pinned set the tests ran (apache-airflow==<that version>)
    dockerfile = (REPO / "orchestration" / "Dockerfile").read_text()
    assert re.search(r"pip install[^\n]*requirements\.txt", dockerfile)
    assert VALUES["images"]["airflow"]["repository"] == "superstore/airflow"


def test_the_pipeline_release_is_installed_under_the_name_these_values_refer_to():
    # the names below are RELEASE's: every install instruction must use that release name
    install = f"helm install {RELEASE} helm/superstore-pipeline"
    assert install in (REPO / "helm" / "airflow-values.yaml").read_text()
    assert install in (REPO / "helm" / "superstore-pipeline" / "README.md").read_text()
    assert f"helm upgrade --install {RELEASE} helm/superstore-pipeline" in (REPO / "scripts" / "kind-up.sh").read_text()


def test_airflow_reads_the_charts_orchestration_config():
    name = airflow_config(render(PROD_VALUES))["metadata"]["name"]
    for values in (VALUES, KIND_OVERRIDES):
        env_from = yaml.safe_load(values["extraEnvFrom"])
        assert {"configMapRef": {"name": name}} in env_from


@pytest.mark.parametrize("pipeline_values", [PROD_VALUES, KIND_VALUES], ids=["prod", "kind"])
def test_every_airflow_container_sees_the_step_pod_template(pipeline_values):
    manifests = render(pipeline_values)
    config_map, file_name, _ = pod_template(manifests)
    path = PurePosixPath(airflow_config(manifests)["data"]["PIPELINE_POD_TEMPLATE_FILE"])
    # global volumes/volumeMounts: the official chart adds them to every Airflow
    # container, the KubernetesExecutor's worker pods included; kind keeps them
    assert "volumes" not in KIND_OVERRIDES and "volumeMounts" not in KIND_OVERRIDES
    (volume,) = [v for v in VALUES["volumes"] if v.get("configMap", {}).get("name") == config_map["metadata"]["name"]]
    (mount,) = [m for m in VALUES["volumeMounts"] if m["name"] == volume["name"]]
    assert PurePosixPath(mount["mountPath"]) / file_name == path
    assert mount.get("readOnly") is True
    assert "items" not in volume["configMap"]  # every key of the ConfigMap is a file


def test_service_accounts_are_the_ones_allowed_to_launch_step_pods():
    binding = only(render(PROD_VALUES), "RoleBinding")
    allowed = {subject["name"] for subject in binding["subjects"]}
    assert {VALUES["workers"]["serviceAccount"]["name"], VALUES["triggerer"]["serviceAccount"]["name"]} == allowed


def test_airflow_gets_its_aws_role_through_irsa_and_no_inline_secrets():
    for component in ("workers", "triggerer"):
        annotations = VALUES[component]["serviceAccount"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert VALUES["postgresql"]["enabled"] is False
    for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        assert VALUES[key]
    assert VALUES["data"]["metadataSecretName"]
    assert not re.search(r"(?i)password|fernetKey:|secretKey:", (REPO / "helm" / "airflow-values.yaml").read_text())
