"""docker-compose.yml started for real: scripts/compose-check.sh (`make
compose-check`) validates it with `docker compose config`, builds the images
with a tag of its own (from the layer cache when nothing changed), starts the
stack under Podman's Docker-compatible API, waits until every service is
healthy, runs steps through `compose run` against the stack's warehouse and
S3, checks that Airflow parsed both DAGs, and tears it down. Then every image
carries the tag in its tag and its version label (IMAGE_TAG=x make images)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TAG = "compose-check"
IMAGES = ("generator", "loader", "dbt", "soda", "airflow")
ENGINE_ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "scripts" / "containers.conf"), "CONTAINER_ENGINE": "podman"}

pytestmark = pytest.mark.timeout(3600)


@pytest.fixture(scope="module")
def compose_check() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/compose-check.sh"],
        cwd=REPO,
        env={**ENGINE_ENV, "IMAGE_TAG": TAG},
        capture_output=True,
        text=True,
    )


def test_the_stack_starts_healthy_and_the_steps_reach_warehouse_and_s3(compose_check):
    output = compose_check.stdout
    assert compose_check.returncode == 0, output[-3000:] + compose_check.stderr[-3000:]
    assert "Docker Compose version v2.40.3" in output
    for service in ("warehouse", "moto", "airflow-db", "airflow"):
        assert f"{service} running healthy" in output
    assert '"schemas"' in output
    assert "superstore_incremental_load superstore_initial_load" in output
    assert output.rstrip().endswith("compose-check: OK (project superstore-compose-check, engine podman)")


def test_nothing_is_left_running(compose_check):
    assert compose_check.returncode == 0
    left = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=superstore-compose-check"],
        env=ENGINE_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.split() == []


@pytest.mark.parametrize("image", IMAGES)
def test_every_image_is_tagged_and_labelled_with_the_tag(compose_check, image):
    assert compose_check.returncode == 0
    label = subprocess.run(
        [
            "podman",
            "image",
            "inspect",
            f"superstore/{image}:{TAG}",
            "--format",
            '{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "org.opencontainers.image.title"}}',
        ],
        env=ENGINE_ENV,
        capture_output=True,
        text=True,
    )
    assert label.returncode == 0, label.stderr
    assert label.stdout.split() == [TAG, f"superstore-{image}"]
