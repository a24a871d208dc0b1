"""docker-compose.yml (no Docker engine here, and `docker compose` is not
installed): its structure, and that Airflow in it runs the steps as
containers with every setting the steps read."""

import re

import yaml
from conftest import REPO
from superstore_orchestration import steps
from superstore_orchestration.config import PipelineConfig

COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
AIRFLOW = SERVICES["airflow"]


def test_services():
    assert set(SERVICES) == {"warehouse", "moto", "aws-init", "airflow-db", "airflow"}
    assert SERVICES["warehouse"]["image"].startswith("postgres:")
    moto_pin = re.search(r"^moto==(\S+)$", (REPO / "scripts" / "moto.requirements.txt").read_text(), re.M).group(1)
    assert SERVICES["moto"]["image"] == SERVICES["aws-init"]["image"] == f"motoserver/moto:{moto_pin}"


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
    assert "/var/run/docker.sock:/var/run/docker.sock" in AIRFLOW["volumes"]
    assert "./orchestration/dags:/opt/airflow/dags:ro" in AIRFLOW["volumes"]
    assert AIRFLOW["build"]["context"] == "./orchestration"
    assert (REPO / "orchestration" / "Dockerfile").is_file()
    assert {f"PIPELINE_{name.upper()}" for name in PipelineConfig.model_fields} >= {
        key for key in env if key.startswith("PIPELINE_")
    }
    assert AIRFLOW["depends_on"]["aws-init"]["condition"] == "service_completed_successfully"


def test_airflow_passes_every_step_setting():
    # The docker runner forwards these names from Airflow's environment.
    env = AIRFLOW["environment"]
    # schema names keep the steps' defaults; no Redshift here
    optional = {
        "WAREHOUSE_RAW_SCHEMA",
        "WAREHOUSE_STAGING_SCHEMA",
        "WAREHOUSE_PUBLISHED_SCHEMA",
        "WAREHOUSE_OPS_SCHEMA",
        "WAREHOUSE_REDSHIFT_IAM_ROLE",
    }
    assert set(steps.CONFIG_ENV) - optional <= set(env)
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
