"""Static checks of the step images' Dockerfiles (fast; no build): a base image
that can be swapped, two stages that ship only the virtualenv, a non-root user
and a read-only root filesystem, one entrypoint, OCI labels, no key material,
and four files that stay the same recipe."""

import re
from pathlib import Path

import pytest

IMAGES_DIR = Path(__file__).resolve().parents[2] / "images"
IMAGES = ("generator", "loader", "dbt", "soda")
OCI_LABELS = ("title", "description", "source", "version", "licenses")


def instructions(image: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (IMAGES_DIR / image / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [
        (keyword.upper(), " ".join(arguments.split()))
        for keyword, _, arguments in (line.strip().partition(" ") for line in logical.splitlines() if line.strip())
    ]


def stages(image: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(image):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def final_stage(image: str) -> list[tuple[str, str]]:
    return stages(image)[-1]


def arguments_of(stage, keyword: str) -> list[str]:
    return [arguments for kw, arguments in stage if kw == keyword]


@pytest.mark.parametrize("image", IMAGES)
def test_base_image_is_a_build_argument(image):
    first = instructions(image)[0]
    assert first == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert [stage[0][1] for stage in stages(image)] == ["${BASE_IMAGE} AS builder", "${BASE_IMAGE}"]


@pytest.mark.parametrize("image", IMAGES)
def test_builder_installs_pinned_requirements_before_the_source(image):
    builder = stages(image)[0]
    copies = arguments_of(builder, "COPY")
    assert copies == [
        f"{image}/requirements.txt /build/requirements.txt",
        "common /build/common",
        f"{image} /build/{image}",
    ]
    runs = arguments_of(builder, "RUN")
    assert "pip install -r /build/requirements.txt" in runs[1]
    assert f"pip install --no-deps /build/common /build/{image}" in runs[2] and "pip check" in runs[2]
    # layer order: requirements layer first, so source edits reuse it
    order = [kw + " " + args for kw, args in builder]
    assert order.index(f"COPY {image}/requirements.txt /build/requirements.txt") < order.index(
        "COPY common /build/common"
    )


@pytest.mark.parametrize("image", IMAGES)
def test_final_stage_ships_only_the_virtualenv(image):
    final = final_stage(image)
    assert arguments_of(final, "COPY") == ["--from=builder /opt/venv /opt/venv"]
    assert not arguments_of(final, "ADD")
    assert not [run for run in arguments_of(final, "RUN") if "pip" in run]


@pytest.mark.parametrize("image", IMAGES)
def test_runs_as_non_root_on_a_read_only_root_filesystem(image):
    final = final_stage(image)
    assert arguments_of(final, "USER") == ["10001:10001"]
    env = " ".join(arguments_of(final, "ENV"))
    for setting in ("HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1", "XCOM_RETURN_PATH=/airflow/xcom/return.json"):
        assert setting in env
    assert arguments_of(final, "WORKDIR") == ["/tmp"]
    assert "chown 10001:10001 /airflow/xcom" in " ".join(arguments_of(final, "RUN"))


def test_dbt_writes_its_output_under_tmp():
    env = " ".join(arguments_of(final_stage("dbt"), "ENV"))
    assert "DBT_TARGET_PATH=/tmp/" in env and "DBT_LOG_PATH=/tmp/" in env


@pytest.mark.parametrize("image", IMAGES)
def test_one_entrypoint_the_console_script(image):
    assert arguments_of(instructions(image), "ENTRYPOINT") == [f'["superstore-{image}"]']
    pyproject = IMAGES_DIR / image / "pyproject.toml"
    if pyproject.exists():  # the package declares the console script the image runs
        assert f"superstore-{image} = " in pyproject.read_text()


@pytest.mark.parametrize("image", IMAGES)
def test_oci_labels(image):
    labels = " ".join(arguments_of(final_stage(image), "LABEL"))
    for label in OCI_LABELS:
        assert f"org.opencontainers.image.{label}=" in labels
    assert f'org.opencontainers.image.title="superstore-{image}"' in labels
    assert 'org.opencontainers.image.version="${VERSION}"' in labels


@pytest.mark.parametrize("image", IMAGES)
def test_no_certificates_or_secrets_in_layers(image):
    for keyword, arguments in instructions(image):
        if keyword in ("COPY", "ADD"):
            assert not re.search(r"\.(crt|pem|key)\b|ca-certificates|/etc/ssl|secret", arguments, re.I)
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"PIP_CERT|PASSWORD|TOKEN|SECRET", arguments), arguments
        if keyword == "RUN" and "PIP_CERT" in arguments:
            # the CA bundle is a build secret, mounted for that one RUN only
            assert arguments.startswith("--mount=type=secret,id=ca,required=false")
            assert "PIP_CERT=/run/secrets/ca" in arguments


def test_build_context_ignores_local_state_and_key_material():
    ignored = (IMAGES_DIR / ".dockerignore").read_text().split()
    for pattern in ("**/.venv", "**/__pycache__", "**/*.egg-info", "**/*.pem", "**/*.key", "**/*.crt", "**/.env"):
        assert pattern in ignored


def recipe(image: str) -> list[tuple[str, str]]:
    """The Dockerfile with what may differ between images taken out."""
    return [
        (keyword, re.sub(r'image\.description="[^"]*"', 'image.description=""', arguments).replace(image, "<image>"))
        for keyword, arguments in instructions(image)
        if not (keyword == "ENV" and arguments.startswith("DBT_"))
    ]


@pytest.mark.parametrize("image", IMAGES[1:])
def test_all_images_follow_one_recipe(image):
    assert recipe(image) == recipe(IMAGES[0])
