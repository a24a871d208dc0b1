"""The step contract shared by every image's entrypoint.

- a failure ends with exit code 1 and ONE human-readable line on stderr;
- the result (keys, counts, ids; never data) is written as JSON to
  /airflow/xcom/return.json, where KubernetesPodOperator's sidecar picks it up
  (XCOM_RETURN_PATH overrides the path for local and container runs).
"""

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from superstore_common import lineage, record

log = logging.getLogger("superstore")


class StepError(Exception):
    """An expected failure: its message is the one line the user sees."""


def write_result(result: Mapping[str, Any]) -> None:
    path = Path(os.environ.get("XCOM_RETURN_PATH", "/airflow/xcom/return.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, default=str, ensure_ascii=False))
    tmp.replace(path)
    record.current().result = dict(result)
    log.info("result: %s", json.dumps(result, default=str, ensure_ascii=False))


def new_app(help: str) -> typer.Typer:
    return typer.Typer(help=help, add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)


def run(app: typer.Typer) -> None:
    """Run a step's CLI: logs to stderr, one-line errors, exit codes."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        # The runner may log the lines itself, with its own timestamps (LOG_FORMAT).
        format=os.environ.get("LOG_FORMAT", "%(asctime)s %(levelname)s %(name)s: %(message)s"),
        stream=sys.stderr,
    )
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "help")
    step = record.begin(command)
    lineage_events = lineage.Emitter(step)
    error, code = None, 0
    try:
        app(standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: typer vendors click, its errors are these
        error, code = exc.format_message(), exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        error, code = "aborted", 130
    except StepError as exc:
        error, code = " ".join(str(exc).split()), 1
    except Exception as exc:  # unexpected: still one line, details at debug level
        log.debug("unexpected failure", exc_info=True)
        error, code = f"{type(exc).__name__}: {' '.join(str(exc).split())}", 1
    step.finish(error)
    step.lineage_run_id = lineage_events.run_id()
    record.save(step)
    lineage_events.finish(step)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(code)
