"""The superstore-pipeline chart, rendered by helm and checked offline: valid
Kubernetes objects, IRSA, least-privilege RBAC, no secret values, a closed
network policy, and settings that match what the steps and Airflow read."""

import json
import re

import kubernetes_validate
import pytest
import yaml
from helm_kit import (
    CHART,
    KIND_VALUES,
    PROD_VALUES,
    RELEASE,
    RELEASE_NAMESPACE,
    REPO,
    RenderError,
    airflow_config,
    helm,
    only,
    pod_template,
    render,
)
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
    assert policy["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/part-of": "superstore-pipeline", "app.kubernetes.io/instance": RELEASE}
    }
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


def lineage_and_quality(data: dict) -> set[str]:
    """The settings of the OpenLineage client and the Soda step (steps.LINEAGE_ENV, CONFIG_ENV_PREFIXES)."""
    return {name for name in data if name in steps.LINEAGE_ENV or name.startswith(steps.CONFIG_ENV_PREFIXES)}


def test_step_config_holds_exactly_the_settings_steps_read(prod_manifests, kind_manifests):
    redshift = only(prod_manifests, "ConfigMap", "superstore-pipeline-config")
    assert redshift["metadata"]["namespace"] == TASK_NAMESPACE
    assert set(redshift["data"]) - lineage_and_quality(redshift["data"]) == set(steps.CONFIG_ENV)
    assert redshift["data"]["WAREHOUSE_KIND"] == "redshift"
    # kind: PostgreSQL (no Redshift IAM role) and moto's endpoint
    local = only(kind_manifests, "ConfigMap", "superstore-pipeline-config")["data"]
    assert set(local) - lineage_and_quality(local) == set(steps.CONFIG_ENV) - {"WAREHOUSE_REDSHIFT_IAM_ROLE"} | {
        "AWS_ENDPOINT_URL"
    }
    # no transport set: the namespace only (tests/helm/test_lineage_quality.py sets one)
    assert {name for name in redshift["data"] if name.startswith("OPENLINEAGE")} == {"OPENLINEAGE_NAMESPACE"}


def test_airflow_config_is_understood_by_the_dags(prod_manifests, monkeypatch):
    config_map = airflow_config(prod_manifests)
    assert config_map["metadata"]["namespace"] == RELEASE_NAMESPACE
    data = config_map["data"]
    fields = {f"PIPELINE_{name.upper()}" for name in PipelineConfig.model_fields}
    assert {key for key in data if key.startswith("PIPELINE_")} <= fields
    assert data["PIPELINE_RUNNER"] == "kubernetes"
    assert data["PIPELINE_IMAGE_TAG"] == "1.4.0"
    # where the step pods run is the pod template's (PIPELINE_NAMESPACE before)
    assert pod_template(prod_manifests)[2]["metadata"]["namespace"] == TASK_NAMESPACE
    # PipelineConfig parses every value the chart renders
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    parsed = PipelineConfig()
    assert parsed.runner == "kubernetes" and parsed.deferrable is True and parsed.retries == 3
    assert parsed.alerts_topic_arn == "arn:aws:sns:eu-west-1:123456789012:superstore-alerts"
    assert parsed.step_resources.large.model_dump() == {"cpu": "2", "memory": "2Gi"}


def test_image_tag_defaults_to_the_chart_app_version():
    manifests = render(PROD_VALUES, sets=("image.tag=",))
    data = airflow_config(manifests)["data"]
    chart = (CHART / "Chart.yaml").read_text()
    assert f'appVersion: "{data["PIPELINE_IMAGE_TAG"]}"' in chart


def test_chart_defaults_are_the_dags_defaults():
    """The step sizes and retry settings a bare install gets are the Python defaults."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    defaults = PipelineConfig.model_fields
    assert values["steps"]["resources"] == defaults["step_resources"].default.model_dump()
    # the user the step images run as (USER of their Dockerfiles)
    image_users = {
        int(uid)
        for path in (REPO / "images").rglob("Dockerfile*")
        for uid in re.findall(r"^USER (\d+)", path.read_text(), re.M)
    }
    assert image_users == {values["steps"]["runAsUser"]}
    assert values["airflow"]["retries"] == defaults["retries"].default
    assert values["airflow"]["retryDelaySeconds"] == defaults["retry_delay_seconds"].default
    assert values["airflow"]["sensorTimeout"] == defaults["sensor_timeout"].default
    assert values["airflow"]["eventsVisibilityTimeout"] == defaults["events_visibility_timeout"].default


@pytest.mark.parametrize(
    "assignment",
    ["warehouse.db=superstore", "pipeline.rawbucket=x", "airflow.retries=many", "steps.resources.large.cpu=1"],
)
def test_lint_rejects_unknown_or_mistyped_values(assignment):
    # warehouse.db is what the README used to say; the chart reads warehouse.database
    # (--set makes cpu=1 a number; a quantity is a string)
    result = helm("lint", "--strict", str(CHART), "--values", str(PROD_VALUES), "--set", assignment)
    assert result.returncode != 0, f"{assignment} passed lint"
    assert "values don't meet the specifications of the schema" in result.stdout + result.stderr or (
        "additional properties" in result.stdout + result.stderr
    )


def test_the_namespace_is_the_release_namespace_unless_asked_otherwise():
    manifests = render(KIND_VALUES, sets=("taskNamespace.name=", "taskNamespace.create=false"), namespace="pipelines")
    assert not [m for m in manifests if m["kind"] == "Namespace"]
    assert {m["metadata"]["namespace"] for m in manifests} == {"pipelines"}
    assert pod_template(manifests)[2]["metadata"]["namespace"] == "pipelines"
    # creating one is opt-in: a bare install creates none
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["taskNamespace"] == {"name": "", "create": False, "podSecurity": "restricted"}


def test_every_name_is_scoped_to_the_release(prod_manifests):
    other = render(PROD_VALUES, release="second")
    # the warehouse Secret is created out of band and the namespace is shared
    shared = {("Secret", "superstore-warehouse"), ("Namespace", TASK_NAMESPACE)}

    def names(manifests):
        return {(m["kind"], m["metadata"]["name"]) for m in manifests} - shared

    assert names(prod_manifests).isdisjoint(names(other))
    for kind, name in names(other):
        assert name.startswith("second-"), (kind, name)
    assert only(other, "Role")["metadata"]["name"] == only(other, "RoleBinding")["roleRef"]["name"]


@pytest.mark.parametrize("values", [PROD_VALUES, KIND_VALUES], ids=["prod", "kind"])
def test_every_object_carries_the_common_labels(values):
    manifests = render(values, sets=("labels.cost-center=analytics",))
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    expected = {
        "app.kubernetes.io/name": chart["name"],
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/version": chart["appVersion"],
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "superstore-pipeline",
        "cost-center": "analytics",
    }
    for manifest in manifests:
        assert expected.items() <= manifest["metadata"]["labels"].items(), manifest["metadata"]["name"]
    step_pod_labels = pod_template(manifests)[2]["metadata"]["labels"]
    assert {k: v for k, v in expected.items() if k != "app.kubernetes.io/managed-by"}.items() <= step_pod_labels.items()


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_the_pod_template_is_a_valid_locked_down_pod(prod_manifests, k8s_version):
    config_map, _, pod = pod_template(prod_manifests)
    assert config_map["metadata"]["namespace"] == RELEASE_NAMESPACE  # mounted into Airflow's pods
    kubernetes_validate.validate(pod, k8s_version, strict=True)
    (base,) = pod["spec"]["containers"]
    assert base["name"] == "base"  # KubernetesPodOperator merges its container into the one named base
    assert {e["configMapRef"]["name"] for e in base["envFrom"] if "configMapRef" in e} == {
        only(prod_manifests, "ConfigMap", "superstore-pipeline-config")["metadata"]["name"]
    }
    assert pod["spec"]["serviceAccountName"] == only(prod_manifests, "ServiceAccount")["metadata"]["name"]


def flatten(values: dict, prefix: str = "") -> dict:
    """values.yaml as helm-docs keys: nested maps joined by dots; lists and empty maps are leaves."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and value and key not in ("podLabels",):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def readme_table() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `?([\w.-]+)`? \| (\w+) \| `(.*?)` \|", (CHART / "README.md").read_text(), re.M)
    return {key: (kind, default) for key, kind, default in rows}


def test_every_value_is_documented_with_its_type_and_default():
    values = flatten(yaml.safe_load((CHART / "values.yaml").read_text()))
    table = readme_table()
    assert set(table) == set(values)
    types = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}
    for key, value in values.items():
        assert table[key] == (types[type(value)], json.dumps(value)), key


def test_the_readme_names_only_values_the_chart_reads():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    keys = set(flatten(values))
    prefixes = {key.rsplit(".", n)[0] for key in keys for n in range(key.count(".") + 1)}
    readme = (CHART / "README.md").read_text()
    mentioned = {m for m in re.findall(r"`([a-zA-Z]+(?:\.[a-zA-Z]+)+)`", readme) if m.split(".")[0] in values}
    assert mentioned, "the README names no values"
    assert mentioned <= keys | prefixes, mentioned - keys - prefixes


def test_no_instructions_put_the_password_on_a_command_line():
    # --from-literal leaves the password in shell history and the process list
    assert "--from-literal=" not in (CHART / "README.md").read_text()
    # rendered offline: a client-side dry run never talks to a cluster
    install = helm(
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        RELEASE_NAMESPACE,
        "--values",
        str(PROD_VALUES),
        "--dry-run=client",
    )
    assert install.returncode == 0, install.stderr
    notes = install.stdout.partition("NOTES:")[2]
    assert "create secret generic superstore-warehouse --from-env-file=" in notes
    assert "--from-literal" not in notes


def test_every_script_the_helm_files_name_exists():
    helm_dir = REPO / "helm"
    for path in [*helm_dir.rglob("*.yaml"), *helm_dir.rglob("*.md"), *helm_dir.rglob("*.txt")]:
        for script in re.findall(r"\bscripts/[\w-]+(?:\.\w+)?", path.read_text()):
            assert (REPO / script).is_file(), f"{path.relative_to(REPO)} names {script}"
