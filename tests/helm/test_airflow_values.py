"""helm/airflow-values.yaml (official Apache Airflow chart): KubernetesExecutor,
the Airflow version the DAGs are tested with, settings from this chart, and the
service accounts this chart's RoleBinding names."""

import re

import yaml
from conftest import PROD_VALUES, REPO, only, render

VALUES = yaml.safe_load((REPO / "helm" / "airflow-values.yaml").read_text())
KIND_OVERRIDES = yaml.safe_load((REPO / "helm" / "kind" / "airflow-values.yaml").read_text())


def pinned_airflow_version() -> str:
    requirements = (REPO / "orchestration" / "requirements.txt").read_text()
    return re.search(r"^apache-airflow==(\S+)$", requirements, re.M).group(1)


def test_kubernetes_executor_and_the_tested_airflow_version():
    assert VALUES["executor"] == "KubernetesExecutor"
    assert VALUES["airflowVersion"] == VALUES["defaultAirflowTag"] == pinned_airflow_version()
    dockerfile = (REPO / "orchestration" / "Dockerfile").read_text()
    assert f"apache/airflow:{pinned_airflow_version()}-python3.11" in dockerfile
    assert VALUES["images"]["airflow"]["repository"] == "superstore/airflow"


def test_airflow_reads_the_charts_orchestration_config():
    name = only(render(PROD_VALUES), "ConfigMap", "superstore-orchestration-config")["metadata"]["name"]
    for values in (VALUES, KIND_OVERRIDES):
        env_from = yaml.safe_load(values["extraEnvFrom"])
        assert {"configMapRef": {"name": name}} in env_from


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
