"""scripts/images.sh names the images exactly as the DAGs' step factory does,
builds each step image from the one recipe (its target there) and the Airflow
image the Airflow chart's values name."""

import re
import subprocess
from pathlib import Path

import yaml
from superstore_orchestration import steps

REPO = Path(__file__).resolve().parents[2]


def images_sh(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/images.sh", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_refs_cover_every_step_image_with_repository_and_tag():
    result = images_sh("refs", IMAGE_REPOSITORY="registry.example/superstore", IMAGE_TAG="1.2.3")
    assert result.returncode == 0, result.stderr
    step_images = {step.image for step in steps.ALL_STEPS}
    assert set(result.stdout.split()) == {
        f"registry.example/superstore/{image}:1.2.3" for image in step_images | {"airflow"}
    }
    targets = re.findall(r"^FROM runtime AS (\S+)$", (REPO / "images" / "Dockerfile").read_text(), re.M)
    assert set(targets) == step_images


def test_the_airflow_image_is_the_one_the_airflow_values_name():
    values = yaml.safe_load((REPO / "helm" / "airflow-values.yaml").read_text())
    result = images_sh("refs", "airflow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"{values['images']['airflow']['repository']}:dev"]
    assert (REPO / "orchestration" / "Dockerfile").is_file()


def test_unknown_image_is_refused():
    result = images_sh("build", "nope")
    assert result.returncode == 2
    assert "unknown image 'nope'" in result.stderr
