"""The build step: audit the candidate loads, reject each load whose data
fails a check (alone: the good loads received with it go on), publish the
others in one transaction. Only a failed data check rejects; an error (the
warehouse, a killed process, a bug) leaves the loads retryable (`failed`)."""

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

from superstore_common.loads import UNFINISHED, Ledger, LoadState
from superstore_common.record import CheckResult
from superstore_common.step import StepError

from superstore_dbt.publish import ACTOR, PublishConflict, Publisher
from superstore_dbt.runner import DbtProject
from superstore_dbt.verdict import BuildSummary

log = logging.getLogger(__name__)


class BuildError(StepError):
    """dbt could not build or check (not a verdict on the data): retry."""


@dataclass
class Outcome:
    rebuild: bool
    published: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # load id -> the checks it failed
    skipped: list[str] = field(default_factory=list)  # published before
    builds: int = 0
    summary: BuildSummary | None = None
    rejecting_checks: list[CheckResult] = field(default_factory=list)  # the checks each rejected load failed

    @property
    def checks(self) -> list[CheckResult]:
        """The audit's checks as recorded: those of the last build (the accepted
        loads), then the failures of each rejected load."""
        return [*(self.summary.checks if self.summary else []), *self.rejecting_checks]


def build_and_publish(project: DbtProject, ledger: Ledger, publisher: Publisher, load_ids: list[str], rebuild: bool):
    # A run with no published tables yet has no history to continue: it builds them.
    rebuild = rebuild or not publisher.published_tables_exist()
    outcome = Outcome(rebuild)
    # When the candidates' lines become visible, if they pass: their loaded_at.
    published_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with ledger.connection.transaction():
        ledger.lock()
        published_before = ledger.published_count()
        loads = ledger.get_many(load_ids)
        if unknown := sorted(set(load_ids) - {load.load_id for load in loads}):
            raise StepError(f"no such load: {', '.join(unknown)}")
        outcome.skipped = [load.load_id for load in loads if load.state is LoadState.PUBLISHED]
        candidates = [load for load in loads if load.state in UNFINISHED and load.in_raw]
        # A retry of this step finds them audited or failed: audit them again.
        ledger.move([c.load_id for c in candidates if c.state is not LoadState.STAGED], LoadState.STAGED, by=ACTOR)
    candidate_ids = [c.load_id for c in candidates]
    if not candidate_ids and not rebuild:
        return outcome
    try:
        accepted = _audit(project, candidate_ids, rebuild, published_at, outcome)
        with ledger.connection.transaction():
            ledger.lock()
            # Verdicts on a state that is gone are not recorded (and a load
            # another run published meanwhile cannot become audited): retry.
            if ledger.published_count() != published_before:
                raise PublishConflict("another run published while this one audited: retry to audit again")
            for load_id, reason in outcome.rejected.items():
                ledger.move([load_id], LoadState.REJECTED, by=ACTOR, reason=reason)
            ledger.move(accepted, LoadState.AUDITED, by=ACTOR)
        if accepted or rebuild:
            publisher.publish(ledger, accepted, rebuild, published_before, published_at)
        outcome.published = accepted
    except PublishConflict:
        # Left as they are: another run may be about to publish them; a retry
        # of this one audits again whatever is still unfinished.
        raise
    except BaseException as error:
        reason = f"{type(error).__name__}: {' '.join(str(error).split())}"
        _best_effort(ledger, [i for i in candidate_ids if i not in outcome.rejected], LoadState.FAILED, reason)
        raise
    return outcome


def _audit(
    project: DbtProject, load_ids: list[str], rebuild: bool, published_at: datetime, outcome: Outcome
) -> list[str]:
    """The loads that pass every check together. All at once first; when a
    check fails, each load is added in turn and kept only if the checks still
    pass, so a bad load is rejected alone (and an order sent in two loads
    rejects the later one). The audit schema holds the accepted loads' build."""
    build = partial(_build, project, rebuild=rebuild, published_at=published_at, outcome=outcome)
    summary = build(load_ids)
    if summary.passed:
        return load_ids
    accepted: list[str] = []
    built: list[str] | None = None
    for load_id in load_ids:
        attempt = build([*accepted, load_id])
        if attempt.passed:
            accepted.append(load_id)
            built = list(accepted)
        else:
            outcome.rejected[load_id] = attempt.rejection()
            outcome.rejecting_checks += [replace(c, load_id=load_id) for c in attempt.checks if c.status == "fail"]
            log.warning("%s rejected: %s", load_id, attempt.rejection())
    if built != accepted and (accepted or rebuild):
        history = build(accepted)
        if not history.passed:  # not the candidates' fault: the published history fails a check
            outcome.rejected.clear()
            raise StepError(f"the published history fails checks without any candidate load: {history.rejection()}")
    return accepted


def _build(
    project: DbtProject, load_ids: list[str], *, rebuild: bool, published_at: datetime, outcome: Outcome
) -> BuildSummary:
    summary = BuildSummary.of(project.build(load_ids, rebuild, published_at))
    outcome.builds += 1
    outcome.summary = summary
    if summary.errors:
        more = f" (and {len(summary.errors) - 1} more)" if len(summary.errors) > 1 else ""
        raise BuildError(f"dbt build error, loads left to retry: {summary.errors[0]}{more}")
    return summary


def _best_effort(ledger: Ledger, load_ids: list[str], state: LoadState, reason: str | None) -> None:
    """With the warehouse gone this cannot be written; the loads then keep
    their state, which a retry takes over just the same."""
    try:
        with ledger.connection.transaction():
            ledger.lock()
            ledger.move(load_ids, state, by=ACTOR, reason=reason)
    except Exception:
        log.warning("could not record %s for %s", state, ", ".join(load_ids))
