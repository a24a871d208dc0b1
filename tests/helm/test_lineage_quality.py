"""OpenLineage and the Soda step's thresholds as chart values (lineage.*,
quality.*): rendered into the step ConfigMap (and the lineage transport into
Airflow's), the API key only ever a secretKeyRef, typos refused by the schema,
and the step pods the kubernetes runner builds from the rendered chart carry
them. What the chart renders is read by the real consumers: the OpenLineage
client and the Soda image's QualitySettings (in its own virtualenv)."""

import json
import os
import re
import subprocess
from unittest import mock

import kubernetes_validate
import pytest
import yaml
from helm_kit import (
    CHART,
    LINEAGE_VALUES,
    PROD_VALUES,
    REPO,
    RenderError,
    airflow_config,
    base_container,
    helm,
    only,
    pod_template,
    render,
    step_pods,
)
from superstore_orchestration import steps

STEP_CONFIG = "superstore-pipeline-config"
OVERLAY = yaml.safe_load(LINEAGE_VALUES.read_text())
K8S_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
SODA_PYTHON = REPO / ".venv" / "soda" / "bin" / "python"


def step_config(manifests: list[dict]) -> dict:
    return only(manifests, "ConfigMap", STEP_CONFIG)["data"]


def lineage_env(data: dict) -> dict:
    return {name: value for name, value in data.items() if name.startswith("OPENLINEAGE")}


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def soda_reads(env: dict[str, str]) -> dict:
    """What superstore-soda's QualitySettings make of `env` (no other QUALITY_*),
    in the soda image's own virtualenv: its fields' defaults and the values read."""
    code = (
        "import json\n"
        "from superstore_soda.settings import QualitySettings, read_quality_settings\n"
        "fields = {name: field.default for name, field in QualitySettings.model_fields.items()}\n"
        "print(json.dumps({'defaults': fields, 'read': read_quality_settings().model_dump()}))\n"
    )
    clean = {name: value for name, value in os.environ.items() if not name.startswith("QUALITY_")}
    result = subprocess.run(
        [str(SODA_PYTHON), "-c", code], env=clean | env, capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def openlineage_transport(env: dict[str, str]):
    """The transport the OpenLineage client (the version the steps pin) builds from
    `env` alone: every other OPENLINEAGE* variable removed; the client's own
    additions to os.environ are undone afterwards."""
    from openlineage.client import OpenLineageClient

    with mock.patch.dict(os.environ):
        for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
            del os.environ[name]
        os.environ.update(env)
        return OpenLineageClient().transport


@pytest.fixture(scope="module")
def lineage_manifests() -> list[dict]:
    return render(PROD_VALUES, LINEAGE_VALUES)


# -- quality.* -----------------------------------------------------------------


def test_quality_values_are_the_soda_settings_with_their_defaults(prod_manifests):
    soda = soda_reads({})
    fields = soda["defaults"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())["quality"]
    # the same names (camel case) and the same defaults ("" for an unset age)
    assert set(values) == {camel(field) for field in fields}
    for field, default in fields.items():
        assert values[camel(field)] == ("" if default is None else default), field
    # rendered as the very variables the settings class reads, every one of them
    rendered = {name: value for name, value in step_config(prod_manifests).items() if name.startswith("QUALITY_")}
    assert set(rendered) == {f"QUALITY_{field.upper()}" for field in fields}
    # and a bare install's thresholds are what the step does without the chart
    assert soda_reads(rendered)["read"] == soda["read"]
    assert soda["read"]["freshness_loaded_at_fail_after"] is None


def test_the_soda_step_reads_the_thresholds_the_chart_renders(lineage_manifests):
    rendered = {name: value for name, value in step_config(lineage_manifests).items() if name.startswith("QUALITY_")}
    read = soda_reads(rendered)["read"]
    assert {camel(field): value for field, value in read.items()} == OVERLAY["quality"]
    # Airflow does not read them: they stay in the step ConfigMap
    assert not [name for name in airflow_config(lineage_manifests)["data"] if name.startswith("QUALITY_")]


# -- lineage.* -----------------------------------------------------------------


def test_step_and_airflow_config_carry_the_same_lineage_transport(lineage_manifests):
    data = step_config(lineage_manifests)
    lineage = OVERLAY["lineage"]
    assert lineage_env(data) == {
        "OPENLINEAGE_URL": lineage["url"],
        "OPENLINEAGE_ENDPOINT": lineage["endpoint"],
        "OPENLINEAGE_NAMESPACE": lineage["namespace"],
    }
    # Airflow's OpenLineage provider reads the same variables (extraEnvFrom of the orchestration ConfigMap)
    assert lineage_env(airflow_config(lineage_manifests)["data"]) == lineage_env(data)
    # every one is a setting the steps take (steps.LINEAGE_ENV)
    assert set(lineage_env(data)) <= set(steps.LINEAGE_ENV)


def test_the_api_key_comes_from_a_secret_key_ref_never_a_value(lineage_manifests, prod_manifests):
    (base,) = pod_template(lineage_manifests)[2]["spec"]["containers"]
    assert base["env"] == [
        {
            "name": "OPENLINEAGE_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "superstore-openlineage", "key": "OPENLINEAGE_API_KEY"}},
        }
    ]
    # no Secret rendered, no key in any ConfigMap
    assert not [m for m in lineage_manifests if m["kind"] == "Secret"]
    for config_map in (m for m in lineage_manifests if m["kind"] == "ConfigMap"):
        assert "OPENLINEAGE_API_KEY" not in config_map["data"]
        assert "API_KEY" not in repr({k: v for k, v in config_map["data"].items() if k != "step-pod.yaml"})
    # without apiKeySecret no key at all; another key of the Secret on request
    assert "env" not in pod_template(prod_manifests)[2]["spec"]["containers"][0]
    other = render(PROD_VALUES, LINEAGE_VALUES, sets=("lineage.apiKeySecret.key=token",))
    ref = pod_template(other)[2]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "superstore-openlineage", "key": "token"}


@pytest.mark.parametrize(
    "assignment",
    [
        "lineage.apiKey=literal-key",  # a literal key is no value of this chart
        "lineage.apiKeySecret.value=literal-key",
        "lineage.transport.type=http,lineage.transport.auth.apiKey=literal-key",  # nor through the transport
        "lineage.urll=http://marquez:5000",
        "lineage.url=marquez:5000",  # no scheme
        "lineage.transport.topic=lineage",  # a transport names its type
        "lineage.transport.type=kafka,lineage.transport.messageKey=x",  # the client lower-cases env keys
        "quality.freshnessMaxAgeHours=24",
        "quality.freshnessLoadedAtWarnAfter=1day",
        "quality.volumeRatio=1",
        "quality.volumeWindow=0",
        "quality.samplesLimit=-1",
        "networkPolicy.lineagePorts={http}",
    ],
)
def test_the_schema_refuses_typos_literals_and_malformed_values(assignment):
    result = helm(
        "lint",
        "--strict",
        str(CHART),
        "--values",
        str(PROD_VALUES),
        "--values",
        str(LINEAGE_VALUES),
        "--set",
        assignment,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"{assignment} passed lint"
    assert "values don't meet the specifications of the schema" in output, output


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("lineage.transport.type=console",), "lineage.url and lineage.transport both name a transport"),
        (("lineage.url=",), "lineage.apiKeySecret is the API key of lineage.url"),
        (("quality.volumeMinLoads=21",), r"quality.volumeMinLoads \(21\) exceeds quality.volumeWindow \(20\)"),
    ],
)
def test_rendering_refuses_what_the_steps_would_refuse(sets, message):
    with pytest.raises(RenderError, match=message):
        render(PROD_VALUES, LINEAGE_VALUES, sets=sets)


def test_the_http_transport_the_client_builds_is_the_backend_with_the_key(lineage_manifests):
    # the key as the secretKeyRef would put it into the container
    transport = openlineage_transport(step_config(lineage_manifests) | {"OPENLINEAGE_API_KEY": "from-the-secret"})
    assert transport.kind == "http"
    assert (transport.url, transport.endpoint) == (OVERLAY["lineage"]["url"], OVERLAY["lineage"]["endpoint"])
    assert transport.config.auth.get_bearer() == "Bearer from-the-secret"


def test_a_transport_map_becomes_openlineage_transport_variables(tmp_path):
    transport = {
        "type": "composite",
        "continue_on_failure": True,
        "transports": {
            "local": {"type": "file", "log_file_path": "/tmp/lineage/events.jsonl", "append": True},
            "console": {"type": "console"},
        },
    }
    values = tmp_path / "transport-values.yaml"
    values.write_text(yaml.safe_dump({"lineage": {"transport": transport}}))
    manifests = render(PROD_VALUES, values)
    data = step_config(manifests)
    # strings as they are, anything else as JSON (the client parses JSON values)
    assert lineage_env(data) == {
        "OPENLINEAGE_NAMESPACE": "superstore",
        "OPENLINEAGE__TRANSPORT__TYPE": "composite",
        "OPENLINEAGE__TRANSPORT__CONTINUE_ON_FAILURE": "true",
        "OPENLINEAGE__TRANSPORT__TRANSPORTS": json.dumps(
            transport["transports"], separators=(",", ":"), sort_keys=True
        ),
    }
    assert lineage_env(airflow_config(manifests)["data"]) == lineage_env(data)
    built = openlineage_transport(lineage_env(data))
    assert built.kind == "composite"
    kinds = sorted((t.kind, getattr(getattr(t, "config", None), "log_file_path", None)) for t in built.transports)
    assert kinds == [("console", None), ("file", "/tmp/lineage/events.jsonl")]
    # no transport leaves the pod here: no lineage rule in the NetworkPolicy
    assert len(only(manifests, "NetworkPolicy")["spec"]["egress"]) == 3


# -- the NetworkPolicy and the manifests as a whole --------------------------------


def lineage_rule(manifests: list[dict]) -> dict:
    *_, rule = only(manifests, "NetworkPolicy")["spec"]["egress"]
    return rule


def test_the_step_pods_may_reach_the_lineage_backend(lineage_manifests, prod_manifests):
    assert lineage_rule(lineage_manifests) == {
        "to": [{"ipBlock": {"cidr": "10.20.128.0/24"}}],
        "ports": [{"protocol": "TCP", "port": 5443}],
    }
    assert len(only(prod_manifests, "NetworkPolicy")["spec"]["egress"]) == 3  # no lineage: no rule


@pytest.mark.parametrize(
    ("sets", "ports"),
    [
        (("lineage.url=https://marquez.example.com",), [443]),
        (("lineage.url=http://marquez.lineage.svc.cluster.local/",), [80]),
        (("lineage.url=http://marquez.lineage.svc.cluster.local:5000",), [5000]),
        (
            (
                "lineage.url=",
                "lineage.apiKeySecret.name=",
                "lineage.transport.type=kafka",
                "networkPolicy.lineagePorts={9092,9093}",
            ),
            [9092, 9093],
        ),
    ],
)
def test_the_lineage_port_is_the_urls_unless_given(sets, ports):
    manifests = render(PROD_VALUES, LINEAGE_VALUES, sets=sets)
    assert [port["port"] for port in lineage_rule(manifests)["ports"]] == ports


def test_lint_passes_with_lineage_and_quality_set():
    result = helm("lint", "--strict", str(CHART), "--values", str(PROD_VALUES), "--values", str(LINEAGE_VALUES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_every_manifest_with_lineage_is_a_valid_kubernetes_object(lineage_manifests, k8s_version):
    for manifest in lineage_manifests:
        kubernetes_validate.validate(manifest, k8s_version, strict=True)
    kubernetes_validate.validate(pod_template(lineage_manifests)[2], k8s_version, strict=True)


# -- the step pods the kubernetes runner builds from the rendered chart ----------------


@pytest.fixture(scope="module")
def lineage_pods(lineage_manifests, tmp_path_factory):
    return step_pods(lineage_manifests, tmp_path_factory.mktemp("pod-templates"))


def container_env(container: dict, manifests: list[dict]) -> dict:
    """The container's environment as the kubelet assembles it: the ConfigMaps of
    envFrom, then env (a value, or where a secretKeyRef points)."""
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= only(manifests, "ConfigMap", source["configMapRef"]["name"])["data"]
    for entry in container.get("env", []):
        env[entry["name"]] = entry["value"] if "value" in entry else entry["valueFrom"]
    return env


def test_the_step_pods_carry_the_lineage_and_quality_settings(lineage_manifests, lineage_pods):
    config = step_config(lineage_manifests)
    wanted = {name: value for name, value in config.items() if re.match("OPENLINEAGE|QUALITY_", name)}
    assert len(wanted) == 3 + 8
    key_ref = {"secretKeyRef": {"name": "superstore-openlineage", "key": "OPENLINEAGE_API_KEY"}}
    for step, pod in lineage_pods.items():
        kubernetes_validate.validate(pod, K8S_VERSIONS[-1], strict=True)
        base = base_container(pod)
        env = container_env(base, lineage_manifests)
        assert wanted.items() <= env.items(), step.task_id
        assert env["OPENLINEAGE_API_KEY"] == key_ref
        # the key only by reference; the per-task settings (lineage parent) still there
        (entry,) = [e for e in base["env"] if e["name"] == "OPENLINEAGE_API_KEY"]
        assert "value" not in entry
        assert {e["name"]: e["value"] for e in base["env"] if "value" in e} == steps.TASK_ENV
        # the XCom sidecar gets none of it
        for container in pod["spec"]["containers"]:
            if container is not base:
                assert "OPENLINEAGE_API_KEY" not in repr(container)
