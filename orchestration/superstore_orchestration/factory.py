"""The step factory: turns a Step into an Airflow task for the configured
runner (PIPELINE_RUNNER):

- kubernetes: KubernetesPodOperator (EKS / kind);
- docker:     a container through the Docker-compatible API (Docker, podman);
- local:      the image's entrypoint as a process in that image's virtualenv.

All three run the same entrypoint with the same arguments and the same
environment names, and hand the step's JSON result on as the task's XCom."""

import json
import os
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from superstore_orchestration import config
from superstore_orchestration.steps import (
    CONFIG_ENV,
    CONFIG_ENV_PREFIXES,
    LINEAGE_ENV,
    LOCAL_AWS_ENV,
    SECRET_ENV,
    TASK_ENV,
    Step,
)

XCOM_PATH = "/airflow/xcom/return.json"


def image_ref(step: Step) -> str:
    cfg = config.pipeline()
    return f"{cfg.image_repository}/{step.image}:{cfg.image_tag}"


def step_environment(secrets: bool = False) -> dict[str, str]:
    """The step settings present in this process's environment, or its secrets."""
    if secrets:
        return {name: os.environ[name] for name in SECRET_ENV if name in os.environ}
    names = CONFIG_ENV + LOCAL_AWS_ENV + LINEAGE_ENV
    return {name: value for name, value in os.environ.items() if name in names or name.startswith(CONFIG_ENV_PREFIXES)}


# The step's log lines are re-logged at their own level, without a second timestamp.
STEP_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class LocalStepOperator(BaseOperator):
    """Runs a step's entrypoint from its image's virtualenv, as a process."""

    template_fields = ("arguments", "task_env")
    ui_color = "#e8f4ea"

    def __init__(self, *, image: str, entrypoint: str, arguments: list[str], **kwargs):
        super().__init__(**kwargs)
        self.image = image
        self.entrypoint = entrypoint
        self.arguments = arguments
        self.task_env = dict(TASK_ENV)

    def execute(self, context):
        executable = config.pipeline().venvs_dir / self.image / "bin" / self.entrypoint
        with tempfile.TemporaryDirectory(prefix="step-") as tmp:
            result_path = Path(tmp) / "return.json"
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": tmp,
                "LANG": "C.UTF-8",
                **step_environment(),
                **step_environment(secrets=True),
                **self.task_env,
                "XCOM_RETURN_PATH": str(result_path),
                "LOG_FORMAT": STEP_LOG_FORMAT,
            }
            error_line = ""
            with subprocess.Popen(
                [str(executable), *map(str, self.arguments)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as proc:
                for line in proc.stdout:
                    line = line.rstrip()
                    level, _, message = line.partition(" ")
                    if level in _LEVELS:
                        self.log.log(_LEVELS[level], "%s", message)
                    else:
                        self.log.info("%s", line)
                    if line.startswith("error:"):
                        error_line = line
            if proc.returncode:
                error_line = error_line or f"error: {self.entrypoint} exited with {proc.returncode}"
                context["ti"].xcom_push(key="error", value=error_line.removeprefix("error: "))
                raise AirflowException(error_line)
            return json.loads(result_path.read_text()) if result_path.exists() else None


def _local(step: Step, **kwargs) -> BaseOperator:
    return LocalStepOperator(
        task_id=step.task_id, image=step.image, entrypoint=step.entrypoint, arguments=list(step.arguments), **kwargs
    )


# The docker and kubernetes runners import their operator when used: each
# takes seconds to import, and a DAG file must parse fast.


def _docker(step: Step, **kwargs) -> BaseOperator:
    from airflow.providers.docker.operators.docker import DockerOperator

    class DockerStepOperator(DockerOperator):
        """DockerOperator that returns the step's JSON result file as the XCom."""

        pickling_library = json  # the result file is JSON, not a pickle

    cfg = config.pipeline()
    return DockerStepOperator(
        task_id=step.task_id,
        image=image_ref(step),
        command=list(step.arguments),
        environment=step_environment() | TASK_ENV,
        private_environment=step_environment(secrets=True),  # kept out of logs and rendered fields
        docker_url=cfg.docker_url,
        network_mode=cfg.docker_network,
        mount_tmp_dir=False,
        auto_remove="success",
        retrieve_output=True,
        retrieve_output_path=XCOM_PATH,
        **kwargs,
    )


def _kubernetes(step: Step, **kwargs) -> BaseOperator:
    from superstore_orchestration.kubernetes_runner import step_pod_operator

    return step_pod_operator(step, **kwargs)


RUNNERS = {"local": _local, "docker": _docker, "kubernetes": _kubernetes}


def step_task(step: Step, **kwargs) -> BaseOperator:
    """The Airflow task that runs `step` with the configured runner."""
    cfg = config.pipeline()
    kwargs.setdefault("retries", cfg.retries)
    kwargs.setdefault("retry_delay", timedelta(seconds=cfg.retry_delay_seconds))
    kwargs.setdefault("doc_md", step.doc)
    return RUNNERS[cfg.runner](step, **kwargs)
