"""docker-compose.yml, read as YAML: its structure, and that Airflow in it
runs the steps as containers with every setting the steps read. The file
started for real: test_compose_check.py."""

import re
from pathlib import Path

import yaml
from superstore_orchestration import steps
from superstore_orchestration.config import PipelineConfig

REPO = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
AIRFLOW = SERVICES["airflow"]


# schema names keep the steps' defaults; no Redshift here
OPTIONAL_ENV = {
    "WAREHOUSE_RAW_SCHEMA",
    "WAREHOUSE_STAGING_SCHEMA",
    "WAREHOUSE_PUBLISHED_SCHEMA",
    "WAREHOUSE_OPS_SCHEMA",
    "WAREHOUSE_REDSHIFT_IAM_ROLE",
}
STEP_IMAGES = sorted({step.image for step in steps.ALL_STEPS})


def test_services():
    stack = {name for name, service in SERVICES.items() if "profiles" not in service}
    assert stack == {"warehouse", "moto", "aws-init", "airflow-db", "airflow"}
    # the registry images by default; a local stand-in where no registry answers
    assert (
        SERVICES["warehouse"]["image"] == SERVICES["airflow-db"]["image"] == "${WAREHOUSE_IMAGE:-postgres:16-bookworm}"
    )
    moto_pin = re.search(r"^moto==(\S+)$", (REPO / "scripts" / "moto.requirements.txt").read_text(), re.M).group(1)
    assert SERVICES["moto"]["image"] == SERVICES["aws-init"]["image"] == f"${{MOTO_IMAGE:-motoserver/moto:{moto_pin}}}"
    assert AIRFLOW["image"] == "${IMAGE_REPOSITORY:-superstore}/airflow:${IMAGE_TAG:-dev}"


def test_every_step_image_can_be_run_as_the_runner_runs_it():
    steps_ = {name: service for name, service in SERVICES.items() if service.get("profiles") == ["steps"]}
    assert sorted(steps_) == STEP_IMAGES
    for image, service in steps_.items():
        assert service["image"] == f"${{IMAGE_REPOSITORY:-superstore}}/{image}:${{IMAGE_TAG:-dev}}"
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        assert service["volumes"] == ["${STEP_RESULTS_DIR:-step-results}:/airflow/xcom"]
        env = service["environment"]
        assert set(steps.CONFIG_ENV) - OPTIONAL_ENV <= set(env) and set(steps.LOCAL_AWS_ENV) <= set(env)
        assert service["depends_on"]["aws-init"]["condition"] == "service_completed_successfully"


def test_host_ports_can_be_moved_off_the_defaults():
    # compose-check publishes on free ports (an empty variable), never on the shared stack's
    ports = {name: service["ports"][0] for name, service in SERVICES.items() if "ports" in service}
    assert ports == {
        "warehouse": "127.0.0.1:${WAREHOUSE_HOST_PORT-55432}:5432",
        "moto": "127.0.0.1:${MOTO_HOST_PORT-5000}:5000",
        "airflow": "127.0.0.1:${AIRFLOW_HOST_PORT-8080}:8080",
    }


def test_aws_resources_come_from_the_host_stacks_script():
    init = SERVICES["aws-init"]
    assert init["entrypoint"] == ["python3", "/scripts/aws_resources.py"]
    assert "./scripts/aws_resources.py:/scripts/aws_resources.py:ro" in init["volumes"]
    assert (REPO / "scripts" / "aws_resources.py").is_file()
    assert init["depends_on"]["moto"]["condition"] == "service_healthy"


def test_airflow_runs_steps_as_containers_next_to_the_stack():
    env = AIRFLOW["environment"]
    assert env["PIPELINE_RUNNER"] == "docker"
    assert env["PIPELINE_DOCKER_URL"] == "unix:///var/run/docker.sock"
    assert env["PIPELINE_DOCKER_NETWORK"] == COMPOSE["networks"]["default"]["name"]
    assert "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock" in AIRFLOW["volumes"]
    assert "./orchestration/dags:/opt/airflow/dags:ro" in AIRFLOW["volumes"]
    assert AIRFLOW["build"]["context"] == "./orchestration"
    assert AIRFLOW["build"]["additional_contexts"] == {"common": "./images/common"}
    assert (REPO / "orchestration" / "Dockerfile").is_file()
    assert {f"PIPELINE_{name.upper()}" for name in PipelineConfig.model_fields} >= {
        key for key in env if key.startswith("PIPELINE_")
    }
    assert AIRFLOW["depends_on"]["aws-init"]["condition"] == "service_completed_successfully"


def test_airflow_passes_every_step_setting():
    # The docker runner forwards these names from Airflow's environment.
    env = AIRFLOW["environment"]
    assert set(steps.CONFIG_ENV) - OPTIONAL_ENV <= set(env)
    assert set(steps.LOCAL_AWS_ENV) <= set(env)
    assert env["WAREHOUSE_HOST"] == "warehouse" and env["AWS_ENDPOINT_URL"] == "http://moto:5000"


def test_no_password_is_written_in_the_file():
    # every password is interpolated from the environment of `docker compose`
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert str(value).startswith("${WAREHOUSE_PASSWORD"), f"{name}.{key}"
    connection = AIRFLOW["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert ":${WAREHOUSE_PASSWORD}@" in connection
