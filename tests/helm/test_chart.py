"""The superstore-pipeline chart, rendered by helm and checked offline: valid
Kubernetes objects, IRSA, least-privilege RBAC, no secret values, a closed
network policy, and settings that match what the steps and Airflow read."""

import kubernetes_validate
import pytest
from conftest import CHART, KIND_VALUES, PROD_VALUES, RELEASE_NAMESPACE, RenderError, helm, only, render
from superstore_orchestration import steps
from superstore_orchestration.config import PipelineConfig

TASK_NAMESPACE = "superstore-tasks"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema known.
K8S_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


@pytest.mark.parametrize("values", [PROD_VALUES, KIND_VALUES], ids=["prod", "kind"])
def test_lint_passes(values):
    result = helm("lint", "--strict", str(CHART), "--values", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
@pytest.mark.parametrize("values", [PROD_VALUES, KIND_VALUES], ids=["prod", "kind"])
def test_every_manifest_is_a_valid_kubernetes_object(values, k8s_version):
    manifests = render(values)
    assert manifests
    for manifest in manifests:
        kubernetes_validate.validate(manifest, k8s_version, strict=True)


def test_required_settings_fail_loudly_instead_of_defaulting():
    # Bare defaults name no warehouse and no queue: rendering must refuse.
    with pytest.raises(RenderError, match="is required"):
        render()


def test_step_pods_get_an_irsa_role(prod_manifests, kind_manifests):
    account = only(prod_manifests, "ServiceAccount")
    assert account["metadata"]["name"] == "superstore-pipeline"
    assert account["metadata"]["namespace"] == TASK_NAMESPACE
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/superstore-pipeline-steps"
    }
    # the steps never call the Kubernetes API
    assert account["automountServiceAccountToken"] is False
    assert "annotations" not in only(kind_manifests, "ServiceAccount")["metadata"]


def test_airflow_may_manage_step_pods_in_the_task_namespace_only(prod_manifests):
    assert not [m for m in prod_manifests if m["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    role = only(prod_manifests, "Role")
    assert role["metadata"]["namespace"] == TASK_NAMESPACE
    verbs = {resource: set(rule["verbs"]) for rule in role["rules"] for resource in rule["resources"]}
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])
    assert verbs == {
        "pods": {"create", "get", "list", "watch", "delete", "patch"},
        "pods/log": {"get", "list", "watch"},
        "pods/exec": {"create", "get"},
        "events": {"get", "list", "watch"},
    }
    binding = only(prod_manifests, "RoleBinding")
    assert binding["metadata"]["namespace"] == TASK_NAMESPACE
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": name, "namespace": RELEASE_NAMESPACE}
        for name in ("airflow-worker", "airflow-triggerer")
    ]


def test_the_chart_never_contains_the_warehouse_password(prod_manifests):
    assert not [m for m in prod_manifests if m["kind"] == "Secret"]
    for config_map in (m for m in prod_manifests if m["kind"] == "ConfigMap"):
        assert not {"WAREHOUSE_PASSWORD", "AWS_SECRET_ACCESS_KEY"} & set(config_map["data"])
    # a password given without the dev switch goes nowhere
    leaked = render(PROD_VALUES, sets=("warehouse.devPassword=never-rendered-value",))
    assert "never-rendered-value" not in repr(leaked)


def test_dev_secret_only_on_request():
    manifests = render(KIND_VALUES, sets=("warehouse.createDevSecret=true", "warehouse.devPassword=dev-only"))
    secret = only(manifests, "Secret")
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == ("superstore-warehouse", TASK_NAMESPACE)
    assert secret["stringData"] == {"WAREHOUSE_PASSWORD": "dev-only"}
    assert "dev-only" not in repr([m for m in manifests if m["kind"] != "Secret"])


def test_step_pods_accept_nothing_and_reach_only_dns_aws_and_the_warehouse(prod_manifests):
    policy = only(prod_manifests, "NetworkPolicy")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "superstore-pipeline"}}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []
    allowed = {(port["protocol"], port["port"]) for rule in policy["egress"] for port in rule["ports"]}
    assert allowed == {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 5439)}
    aws, warehouse = policy["egress"][1:]
    assert aws["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    assert warehouse["to"] == [{"ipBlock": {"cidr": "10.20.64.0/20"}}]


def test_task_namespace_enforces_the_restricted_pod_security_standard(prod_manifests):
    labels = only(prod_manifests, "Namespace", TASK_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_step_config_holds_exactly_the_settings_steps_read(prod_manifests, kind_manifests):
    redshift = only(prod_manifests, "ConfigMap", "superstore-pipeline-config")
    assert redshift["metadata"]["namespace"] == TASK_NAMESPACE
    assert set(redshift["data"]) == set(steps.CONFIG_ENV)
    assert redshift["data"]["WAREHOUSE_KIND"] == "redshift"
    # kind: PostgreSQL (no Redshift IAM role) and moto's endpoint
    local = only(kind_manifests, "ConfigMap", "superstore-pipeline-config")["data"]
    assert set(local) == set(steps.CONFIG_ENV) - {"WAREHOUSE_REDSHIFT_IAM_ROLE"} | {"AWS_ENDPOINT_URL"}


def test_airflow_config_is_understood_by_the_dags(prod_manifests):
    config_map = only(prod_manifests, "ConfigMap", "superstore-orchestration-config")
    assert config_map["metadata"]["namespace"] == RELEASE_NAMESPACE
    data = config_map["data"]
    fields = {f"PIPELINE_{name.upper()}" for name in PipelineConfig.model_fields}
    assert {key for key in data if key.startswith("PIPELINE_")} <= fields
    assert data["PIPELINE_RUNNER"] == "kubernetes"
    assert data["PIPELINE_IMAGE_TAG"] == "1.4.0"
    assert data["PIPELINE_NAMESPACE"] == TASK_NAMESPACE


def test_image_tag_defaults_to_the_chart_app_version():
    manifests = render(PROD_VALUES, sets=("image.tag=",))
    data = only(manifests, "ConfigMap", "superstore-orchestration-config")["data"]
    chart = (CHART / "Chart.yaml").read_text()
    assert f'appVersion: "{data["PIPELINE_IMAGE_TAG"]}"' in chart
