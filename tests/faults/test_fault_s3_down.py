"""Case 4: S3 (the moto server) stopped during a load: in the middle of
streaming a 1,000,000-line object into the COPY, and before a load starts.
The loader exits 1 with one line, nothing is left in the raw layer, the
load stays retryable. moto keeps its data in memory: once it is started
again the same bytes are put back (the same ETag, so the same load id),
and the retry loads the object once."""

import signal

from faults_checks import RETRYABLE
from faults_stack import CuttingProxy


def test_s3_gone_mid_stream_fails_the_load_in_one_line_and_the_retry_loads_it_once(stack, databases, million):
    warehouse = databases("fault")
    before = warehouse.exact_published()

    run = stack.start_load([million.obj], warehouse.db)
    stack.pg.wait_for_backend(
        warehouse.db,
        lambda b: b["application_name"] == "superstore-loader" and (b["copied"] or 0) >= 150_000,
        "the loader's COPY to be under way",
    )
    try:
        stack.moto.stop(signal.SIGKILL)
        failed = run.wait()
    finally:
        stack.moto.restart()

    line = failed.one_line_error()
    assert warehouse.raw(million.load_id)[0] == 0
    load = warehouse.loads()[million.load_id]
    assert load.state == "failed", load  # the warehouse is there: the failure is recorded
    assert load.reason and load.reason.split(":")[0] in line, (load.reason, line)
    assert warehouse.transitions(million.load_id) == [(None, "received"), ("received", "failed")]
    assert warehouse.exact_published() == before

    retry = stack.load([million.obj], warehouse.db).ok()

    assert retry["load_ids"] == [million.load_id]
    assert warehouse.raw(million.load_id) == (million.source.rows, million.source.sales, million.source.profit)
    assert warehouse.raw_checksum(million.load_id) == million.raw_checksum
    assert warehouse.transitions(million.load_id)[-1] == ("failed", "staged")
    warehouse.assert_ledger_consistent()
    assert warehouse.exact_published() == before


def test_s3_gone_before_the_load_fails_it_in_one_line_and_the_retry_publishes_once(stack, databases, batch):
    warehouse = databases("fault")
    before = warehouse.exact_published()

    stack.moto.stop()
    try:
        failed = stack.load([batch.obj], warehouse.db)
    finally:
        stack.moto.restart()

    assert "Could not connect to the endpoint URL" in failed.one_line_error()
    # S3 is asked first (is it still the announced version?): the load was not even received.
    assert warehouse.state(batch.load_id) in RETRYABLE | {None}
    assert warehouse.raw(batch.load_id)[0] == 0
    assert warehouse.exact_published() == before

    stack.publish([batch.obj], "retry", warehouse.db)

    batch.assert_as_clean(warehouse)


def test_s3_connection_lost_at_a_line_end_fails_the_load_and_the_retry_publishes_once(stack, databases, batch):
    """The bytes received before the loss end with a whole line: only the
    object's length (Content-Length) tells that it is not all of it."""
    warehouse = databases("fault")
    before = warehouse.exact_published()
    proxy = CuttingProxy(stack.moto.port, batch.obj["key"])
    try:
        cut = stack.load([batch.obj], warehouse.db, AWS_ENDPOINT_URL=proxy.url)
    finally:
        proxy.close()
    assert proxy.cut, "the proxy did not see the object's GET"

    line = cut.one_line_error()
    assert warehouse.raw(batch.load_id)[0] == 0, "a truncated object was loaded as if whole"
    assert warehouse.state(batch.load_id) in RETRYABLE
    assert warehouse.exact_published() == before
    assert "IncompleteRead" in line or "ResponseStreamingError" in line, line

    stack.publish([batch.obj], "retry", warehouse.db)

    batch.assert_as_clean(warehouse)
