"""scripts/images.sh names the images exactly as the DAGs' step factory does."""

import subprocess
from pathlib import Path

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
    assert set(result.stdout.split()) == {f"registry.example/superstore/{image}:1.2.3" for image in step_images}
    assert all((REPO / "images" / image / "Dockerfile").is_file() for image in step_images)


def test_unknown_image_is_refused():
    result = images_sh("build", "nope")
    assert result.returncode == 2
    assert "unknown image 'nope'" in result.stderr
