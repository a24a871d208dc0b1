"""Static checks of the images' Dockerfiles (fast; no build): one recipe for
the four step images (images/Dockerfile: a build arg IMAGE and a target per
image), a base image that can be swapped, two stages that ship only the
virtualenv, a non-root user and a read-only root filesystem, one entrypoint,
OCI labels, no key material; and the Airflow image (orchestration/Dockerfile)
built the same way, with images/common in it."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGES_DIR = REPO / "images"
RECIPE = IMAGES_DIR / "Dockerfile"
AIRFLOW_DOCKERFILE = REPO / "orchestration" / "Dockerfile"
IMAGES = ("generator", "loader", "dbt", "soda")
OCI_LABELS = ("title", "description", "source", "version", "licenses")


def parse(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = path.read_text()
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [
        (keyword.upper(), " ".join(arguments.split()))
        for keyword, _, arguments in (line.strip().partition(" ") for line in logical.splitlines() if line.strip())
    ]


def split_stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in parsed:
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def stage_name(stage: list[tuple[str, str]]) -> str:
    return stage[0][1].partition(" AS ")[2]


def instructions(image: str) -> list[tuple[str, str]]:
    """What `--build-arg IMAGE=<image> --target <image>` builds: the global
    ARGs, the shared builder and runtime stages and the image's own target,
    ${IMAGE} replaced by the image's name."""
    parsed = parse(RECIPE)
    global_args = [instruction for instruction in parsed[: next(i for i, (kw, _) in enumerate(parsed) if kw == "FROM")]]
    chain = [stage for stage in split_stages(parsed) if stage_name(stage) in ("builder", "runtime", image)]
    assert [stage_name(stage) for stage in chain] == ["builder", "runtime", image]
    return [
        (keyword, arguments.replace("${IMAGE}", image))
        for keyword, arguments in global_args + [instruction for stage in chain for instruction in stage]
    ]


def stages(image: str) -> list[list[tuple[str, str]]]:
    """The builder stage, then the shipped stage (runtime + the image's target)."""
    builder, runtime, target = split_stages(instructions(image))
    return [builder, runtime + target[1:]]


def final_stage(image: str) -> list[tuple[str, str]]:
    return stages(image)[-1]


def arguments_of(stage, keyword: str) -> list[str]:
    return [arguments for kw, arguments in stage if kw == keyword]


@pytest.mark.parametrize("image", IMAGES)
def test_base_image_is_a_build_argument(image):
    first = instructions(image)[0]
    assert first == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert [stage[0][1] for stage in stages(image)] == ["${BASE_IMAGE} AS builder", "${BASE_IMAGE} AS runtime"]
    # the image's target starts from the shared runtime stage, nothing else
    assert [stage[0][1] for stage in split_stages(instructions(image))][2] == f"runtime AS {image}"


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


def assert_no_certificates_or_secrets(dockerfile_instructions) -> None:
    for keyword, arguments in dockerfile_instructions:
        if keyword in ("COPY", "ADD"):
            assert not re.search(r"\.(crt|pem|key)\b|ca-certificates|/etc/ssl|secret", arguments, re.I)
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"PIP_CERT|PASSWORD|TOKEN|SECRET", arguments), arguments
        if keyword == "RUN" and "PIP_CERT" in arguments:
            # the CA bundle is a build secret, mounted for that one RUN only
            assert arguments.startswith("--mount=type=secret,id=ca,required=false")
            assert "PIP_CERT=/run/secrets/ca" in arguments


@pytest.mark.parametrize("image", IMAGES)
def test_no_certificates_or_secrets_in_layers(image):
    assert_no_certificates_or_secrets(instructions(image))


def test_build_context_ignores_local_state_and_key_material():
    ignored = (IMAGES_DIR / ".dockerignore").read_text().split()
    for pattern in ("**/.venv", "**/__pycache__", "**/*.egg-info", "**/*.pem", "**/*.key", "**/*.crt", "**/.env"):
        assert pattern in ignored


def test_one_recipe_for_the_four_step_images():
    """One Dockerfile: no per-image copies to drift; a target per image, each
    only its entrypoint, description and (dbt) its own settings."""
    assert not [image for image in IMAGES if (IMAGES_DIR / image / "Dockerfile").exists()]
    stages_ = split_stages(parse(RECIPE))
    assert [stage_name(stage) for stage in stages_] == ["builder", "runtime", *IMAGES]
    for stage in stages_[2:]:
        assert {keyword for keyword, _ in stage} <= {"FROM", "ENTRYPOINT", "LABEL", "ENV"}
        for keyword, arguments in stage:
            if keyword == "LABEL":
                assert arguments.startswith("org.opencontainers.image.description=")
            if keyword == "ENV":
                assert stage_name(stage) == "dbt" and arguments.startswith("DBT_")
    # the build arg picks the package: ARG IMAGE in both shared stages, and
    # a build without it stops with a message instead of copying the context root
    for stage in stages_[:2]:
        assert ("ARG", "IMAGE") in stage
    assert 'test -n "${IMAGE}"' in arguments_of(stages_[0], "RUN")[0]


def test_each_image_has_a_package_with_its_console_script():
    for image in IMAGES:
        assert (IMAGES_DIR / image / "requirements.txt").is_file()
        assert f"superstore-{image} = " in (IMAGES_DIR / image / "pyproject.toml").read_text()


def airflow_stages() -> list[list[tuple[str, str]]]:
    return split_stages(parse(AIRFLOW_DOCKERFILE))


def test_airflow_image_builds_from_the_same_base_without_a_registry():
    parsed = parse(AIRFLOW_DOCKERFILE)
    assert parsed[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert [stage[0][1] for stage in airflow_stages()] == ["${BASE_IMAGE} AS builder", "${BASE_IMAGE}"]


def test_airflow_image_installs_the_pinned_orchestration_side_and_common():
    builder, final = airflow_stages()
    copies = arguments_of(builder, "COPY")
    assert copies[:2] == [
        "requirements.txt /build/requirements.txt",
        "image-requirements.txt /build/image-requirements.txt",
    ]
    assert "--from=common pyproject.toml /build/common/pyproject.toml" in copies
    assert "--from=common src/superstore_common /build/common/src/superstore_common" in copies
    runs = arguments_of(builder, "RUN")
    assert "pip install -r /build/requirements.txt" in runs[1]
    assert "pip install -r /build/image-requirements.txt" in runs[2]
    assert "pip install --no-deps /build/common /build/orchestration" in runs[3] and "pip check" in runs[3]
    # every line of the extra requirements is pinned
    extra = (REPO / "orchestration" / "image-requirements.txt").read_text().splitlines()
    assert all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", line) for line in extra if line and not line.startswith("#"))
    assert "superstore-common" in (REPO / "orchestration" / "pyproject.toml").read_text()
    assert arguments_of(final, "COPY") == [
        "--from=builder /opt/venv /opt/venv",
        "entrypoint.sh /entrypoint",
        "dags /opt/airflow/dags",
    ]


def test_airflow_image_runs_as_the_official_images_user_with_its_entrypoint():
    final = airflow_stages()[-1]
    assert arguments_of(final, "USER") == ["50000:0"]
    env = " ".join(arguments_of(final, "ENV"))
    assert "AIRFLOW_HOME=/opt/airflow" in env and "PIPELINE_RUNNER=kubernetes" in env
    assert arguments_of(final, "ENTRYPOINT") == ['["/entrypoint"]']
    labels = " ".join(arguments_of(final, "LABEL"))
    for label in OCI_LABELS:
        assert f"org.opencontainers.image.{label}=" in labels
    assert 'org.opencontainers.image.version="${VERSION}"' in labels


def test_airflow_image_has_no_certificates_or_secrets_in_layers():
    assert_no_certificates_or_secrets(parse(AIRFLOW_DOCKERFILE))
    ignored = (REPO / "orchestration" / ".dockerignore").read_text().split()
    for pattern in ("**/__pycache__", "**/*.egg-info", "**/*.pem", "**/*.key", "**/*.crt", "**/.env"):
        assert pattern in ignored
