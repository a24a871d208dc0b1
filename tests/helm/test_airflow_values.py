"""helm/airflow-values.yaml (official Apache Airflow chart): KubernetesExecutor,
the Airflow version the DAGs are tested with, settings from this chart, and the
service accounts this chart's RoleBinding names."""

import os
import re
from pathlib import PurePosixPath
from unittest import mock

import pytest
import yaml
from helm_kit import (
    CHART,
    KIND_VALUES,
    LINEAGE_VALUES,
    PROD_VALUES,
    RELEASE,
    REPO,
    airflow_config,
    only,
    pod_template,
    render,
)

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


def airflow_lineage_key_ref(values: dict) -> dict:
    """The secretKeyRef of OPENLINEAGE_API_KEY that these values give every Airflow container."""
    (entry,) = [e for e in yaml.safe_load(values["extraEnv"]) if e["name"] == "OPENLINEAGE_API_KEY"]
    assert set(entry) == {"name", "valueFrom"}  # never a value
    return entry["valueFrom"]["secretKeyRef"]


def test_airflow_reads_the_lineage_api_key_from_the_secret_the_steps_read():
    ref = airflow_lineage_key_ref(VALUES)
    # optional: a release without a lineage key still starts
    assert ref.pop("optional") is True
    # the same Secret name and key as the step pods' (tests/helm/lineage-values.yaml names it)
    (base,) = pod_template(render(PROD_VALUES, LINEAGE_VALUES))[2]["spec"]["containers"]
    (step_entry,) = [e for e in base["env"] if e["name"] == "OPENLINEAGE_API_KEY"]
    assert step_entry["valueFrom"]["secretKeyRef"] == ref
    chart_defaults = yaml.safe_load((CHART / "values.yaml").read_text())["lineage"]["apiKeySecret"]
    assert chart_defaults["key"] == ref["key"]
    assert f"name: {ref['name']}" in (CHART / "README.md").read_text()
    # kind keeps it
    assert "extraEnv" not in KIND_OVERRIDES or airflow_lineage_key_ref(KIND_OVERRIDES) == ref | {"optional": True}


def airflow_openlineage(manifests: list[dict], api_key: str | None = None) -> dict:
    """What Airflow's OpenLineage provider makes of the environment the chart gives
    Airflow (the orchestration ConfigMap, plus the key the Secret would add)."""
    from airflow.providers.openlineage import conf
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

    with mock.patch.dict(os.environ):
        for name in [n for n in os.environ if n.startswith(("OPENLINEAGE", "AIRFLOW__OPENLINEAGE__"))]:
            del os.environ[name]
        os.environ.update(airflow_config(manifests)["data"])
        if api_key:
            os.environ["OPENLINEAGE_API_KEY"] = api_key
        if conf.is_disabled():
            return {"disabled": True}
        transport = OpenLineageAdapter().get_or_create_openlineage_client().transport
        return {
            "disabled": False,
            "namespace": conf.namespace(),
            "transport": (transport.kind, transport.url, transport.endpoint, transport.config.auth.get_bearer()),
        }


def test_airflows_openlineage_provider_emits_to_the_steps_transport_when_one_is_set():
    # the Airflow values configure no transport of their own: it would override the steps'
    assert "openlineage" not in VALUES.get("config", {}) and "openlineage" not in KIND_OVERRIDES.get("config", {})
    assert airflow_openlineage(render(PROD_VALUES)) == {"disabled": True}
    manifests = render(PROD_VALUES, LINEAGE_VALUES)
    steps_config = only(manifests, "ConfigMap", "superstore-pipeline-config")["data"]
    assert airflow_openlineage(manifests, api_key="from-the-secret") == {
        "disabled": False,
        "namespace": steps_config["OPENLINEAGE_NAMESPACE"],
        "transport": (
            "http",
            steps_config["OPENLINEAGE_URL"],
            steps_config["OPENLINEAGE_ENDPOINT"],
            "Bearer from-the-secret",
        ),
    }
