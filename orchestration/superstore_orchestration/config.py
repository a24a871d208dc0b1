"""Orchestration settings, from the environment of the Airflow process."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from superstore_orchestration.steps import LARGE, SMALL

REPO_ROOT = Path(__file__).resolve().parents[2]


class StepResources(BaseModel):
    """A step pod's CPU request and memory request (= limit)."""

    model_config = ConfigDict(extra="forbid")
    cpu: str
    memory: str


class StepSizes(BaseModel):
    """Resources of the two step sizes that steps.py assigns (SMALL, LARGE)."""

    model_config = ConfigDict(extra="forbid")
    small: StepResources = StepResources(cpu=SMALL.cpu, memory=SMALL.memory)
    large: StepResources = StepResources(cpu=LARGE.cpu, memory=LARGE.memory)


class PipelineConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPELINE_", extra="ignore")

    runner: Literal["local", "docker", "kubernetes"] = "local"
    # Step retries (transient failures: network, pod eviction). Bad input fails
    # the same way every time, so local runs and tests use 0.
    retries: int = 2
    retry_delay_seconds: int = 60
    # Images are <repository>/<image>:<tag>, e.g. 123.dkr.ecr.../superstore/loader:1.4.0
    image_repository: str = "superstore"
    image_tag: str = "dev"
    # local runner: each image's virtualenv, <venvs_dir>/<image>/bin/superstore-<image>
    venvs_dir: Path = REPO_ROOT / ".venv"
    # docker runner: a Docker-compatible API (podman system service works)
    docker_url: str = "unix:///run/podman/podman.sock"
    docker_network: str = "host"
    # kubernetes runner: the step pods' namespace, service account, envFrom and
    # security policy come from this pod template (the chart renders it), so
    # they are written once. Resources per step size, as JSON:
    # {"small": {"cpu": "250m", "memory": "256Mi"}, "large": {...}}.
    pod_template_file: Path | None = None
    step_resources: StepSizes = StepSizes()
    kubernetes_conn_id: str = "kubernetes_default"
    in_cluster: bool = True
    # initial DAG: the default source file (local path or s3:// URI)
    default_source: str = str(REPO_ROOT / "data" / "superstore.csv")
    # The Airflow connection of the SQS and SNS hooks; none: the environment's
    # credentials (the IRSA role on EKS, moto's locally).
    aws_conn_id: str | None = None
    # incremental DAG: its schedule (a cron expression or preset; "none": manual only)
    incremental_schedule: str | None = "@hourly"
    # Alerts: failed runs and missed deadlines go to this SNS topic (none: no alerts).
    alerts_topic_arn: str | None = None
    # An incremental run not done this long after it was queued is late (a Deadline Alert).
    incremental_deadline_minutes: float = 45
    # incremental DAG: where S3 ObjectCreated events arrive
    events_queue_url: str = "http://127.0.0.1:5000/123456789012/superstore-raw-events"
    events_visibility_timeout: int = 300
    sensor_timeout: int = 600
    deferrable: bool = False

    @field_validator("incremental_schedule", "alerts_topic_arn", "aws_conn_id", mode="before")
    @classmethod
    def _none(cls, value):
        return None if isinstance(value, str) and value.strip().lower() in ("", "none", "null") else value


def pipeline() -> PipelineConfig:
    """Read when a DAG is built or a task runs, never cached: a changed
    environment applies to the next DAG parse or run."""
    return PipelineConfig()
