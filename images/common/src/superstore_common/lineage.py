"""OpenLineage events of a step (START, then COMPLETE or FAIL), with the
datasets its record names, parented to the Airflow task run it runs for.

The transport is the OpenLineage client's own configuration: OPENLINEAGE_URL
(Marquez or any HTTP backend), OPENLINEAGE__TRANSPORT__* (locally a file
under reports/lineage/), or OPENLINEAGE_CONFIG. With none of them set, no
event is emitted. The parent task run comes from OPENLINEAGE_PARENT_ID
("namespace/job/run-id", the Airflow provider's `lineage_parent_id` macro)
and OPENLINEAGE_ROOT_PARENT_ID (its `lineage_root_parent_id`)."""

import logging
import os
import pickle
import signal
from functools import cache

from superstore_common.record import Dataset, StepRecord

log = logging.getLogger("superstore")

PRODUCER = "https://github.com/superstore-pipeline/superstore-pipeline"
NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"
# the error of a step that ended without its record (killed, out of memory)
DIED = "the step's process ended before it finished (killed?)"


def configured() -> bool:
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    return any(
        name == "OPENLINEAGE_URL" or name == "OPENLINEAGE_CONFIG" or name.startswith("OPENLINEAGE__TRANSPORT__")
        for name in os.environ
    )


@cache
def _client():
    from openlineage.client import OpenLineageClient

    # the client's own INFO lines (which transport it chose) are noise in a step's log
    logging.getLogger("openlineage").setLevel(logging.WARNING)
    return OpenLineageClient()


def _parent(variable: str) -> tuple[str, str, str] | None:
    parts = os.environ.get(variable, "").split("/")
    if len(parts) < 3 or not all(parts):
        return None
    return "/".join(parts[:-2]), parts[-2], parts[-1]


def _run_facets(record: StepRecord, parent: tuple[str, str, str] | None = None) -> dict:
    from openlineage.client.facet_v2 import error_message_run, parent_run

    facets = {}
    if parent := parent or _parent("OPENLINEAGE_PARENT_ID"):
        root = _parent("OPENLINEAGE_ROOT_PARENT_ID") or parent
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent[2]),
            job=parent_run.Job(namespace=parent[0], name=parent[1]),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=root[2]), job=parent_run.RootJob(namespace=root[0], name=root[1])
            ),
        )
    if record.error:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=record.error, programmingLanguage="python"
        )
    return facets


def _dataset_facets(dataset: Dataset) -> dict:
    from openlineage.client.facet_v2 import schema_dataset

    if not dataset.fields:
        return {}
    fields = [schema_dataset.SchemaDatasetFacetFields(name=name, type=kind) for name, kind in dataset.fields]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields)}


def _inputs(datasets: list[Dataset]) -> list:
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import input_statistics_input_dataset as statistics

    def rows(d: Dataset) -> dict:
        return {"inputStatistics": statistics.InputStatisticsInputDatasetFacet(rowCount=d.rows)}

    return [_dataset(InputDataset, d, inputFacets=rows(d) if d.rows is not None else {}) for d in datasets]


def _outputs(datasets: list[Dataset]) -> list:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics

    def rows(d: Dataset) -> dict:
        return {"outputStatistics": statistics.OutputStatisticsOutputDatasetFacet(rowCount=d.rows)}

    return [_dataset(OutputDataset, d, outputFacets=rows(d) if d.rows is not None else {}) for d in datasets]


def _dataset(kind, d: Dataset, **statistics):
    return kind(namespace=d.namespace, name=d.name, facets=_dataset_facets(d), **statistics)


def job_name(record: StepRecord) -> str:
    """`<dag>.<task>.<command>` under its Airflow task's job, else `superstore.<command>`."""
    parent = _parent("OPENLINEAGE_PARENT_ID")
    return f"{parent[1] if parent else 'superstore'}.{record.command}"


def _namespace() -> str:
    return os.environ.get(NAMESPACE_ENV, "superstore")


def _send(event) -> None:
    try:
        _client().emit(event)
    except Exception as exc:  # noqa: BLE001 - lineage must never fail the step
        log.warning("could not emit the OpenLineage %s event: %s", event.eventType, exc)


def _emit(record: StepRecord, state: str) -> None:
    if not configured():
        return
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.uuid import generate_new_uuid

    record.lineage_run_id = run_id = record.lineage_run_id or str(generate_new_uuid())
    _send(
        RunEvent(
            eventType=RunState[state],
            eventTime=(record.ended_at or record.started_at).isoformat(),
            run=Run(runId=run_id, facets=_run_facets(record)),
            job=Job(namespace=_namespace(), name=job_name(record)),
            producer=PRODUCER,
            inputs=_inputs(record.inputs) if state != "START" else [],
            outputs=_outputs(record.outputs) if state != "START" else [],
        )
    )
    if state != "START":
        for name, inputs, outputs in record.parts:
            _emit_part(record, name, inputs, outputs)


def _emit_part(record: StepRecord, name: str, inputs: list[Dataset], outputs: list[Dataset]) -> None:
    """A part of the step (one dbt model, the publish) as a child run of the step's run."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.uuid import generate_new_uuid

    run = Run(
        runId=str(generate_new_uuid()),
        facets=_run_facets(record, (_namespace(), job_name(record), record.lineage_run_id)),
    )
    job = Job(namespace=_namespace(), name=f"{job_name(record)}.{name}")
    for state in ("START", "FAIL" if record.state == "failed" else "COMPLETE"):
        _send(
            RunEvent(
                eventType=RunState[state],
                eventTime=(record.ended_at or record.started_at).isoformat(),
                run=run,
                job=job,
                producer=PRODUCER,
                inputs=_inputs(inputs),
                outputs=_outputs(outputs),
            )
        )


class Emitter:
    """Sends a step's events from a child process forked as the step starts:
    importing the client (0.2-0.3 s of CPU) and reaching the backend happen
    beside the step, not in its way (a thread would share the interpreter
    lock with it). The child sends START and the run id back, then waits for
    the finished record and sends its end event; when the step dies first
    (killed, out of memory), the end of the pipe says so and the child
    sends FAIL, so that no run stays open. In a container where the step is
    PID 1 the kernel ends the child with it: there Airflow's own FAIL event
    for the task tells. With no transport configured there is no child and
    no event."""

    def __init__(self, record: StepRecord):
        self.pid = None
        if not configured():
            return
        run_id_read, run_id_write = os.pipe()
        record_read, record_write = os.pipe()
        self.pid = os.fork()  # before the step opens connections or starts threads
        if self.pid == 0:
            os.close(run_id_read)
            os.close(record_write)
            _child(record, run_id_write, record_read)
        os.close(run_id_write)
        os.close(record_read)
        self._run_id = os.fdopen(run_id_read, "r")
        self._record = os.fdopen(record_write, "wb")

    def run_id(self) -> str | None:
        """The run's OpenLineage run id, once START is sent."""
        if self.pid is None:
            return None
        with self._run_id as pipe:
            return pipe.read() or None

    def finish(self, record: StepRecord) -> None:
        if self.pid is None:
            return
        try:
            with self._record as pipe:
                pipe.write(pickle.dumps(record))
        except OSError:  # the child is gone: it logged why
            pass
        os.waitpid(self.pid, 0)


def _child(record: StepRecord, run_id_pipe: int, record_pipe: int) -> None:
    # The child ends with the step (the pipe's end): a signal sent to both
    # must not stop it before it has sent the step's end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        _emit(record, "START")
        try:
            with os.fdopen(run_id_pipe, "w") as pipe:
                pipe.write(record.lineage_run_id or "")
        except BrokenPipeError:
            pass  # the step is gone already
        with os.fdopen(record_pipe, "rb") as pipe:
            finished = pipe.read()
        if finished:
            finished = pickle.loads(finished)
        else:
            finished = record
            finished.finish(DIED)
        _emit(finished, "FAIL" if finished.state == "failed" else "COMPLETE")
    except Exception as exc:  # noqa: BLE001 - lineage must never fail the step
        log.warning("could not emit the OpenLineage events: %s", exc)
    finally:
        os._exit(0)  # not the step's exit handlers, nor its buffered output
