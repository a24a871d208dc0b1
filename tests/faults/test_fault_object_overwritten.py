"""Case 7: an object overwritten after its event. Version A is announced
(its ETag in the event), then new bytes are put at the same key (version
B, another ETag). Loading A must refuse in one clear line and publish
nothing of A (there is no A any more to read); B, by its own event, is
published once."""

import faults_data


def test_an_object_overwritten_after_its_event_loads_only_the_new_version(stack, databases, batch):
    warehouse = databases("fault")
    before = warehouse.exact_published()
    old = faults_data.batch(7)  # other orders than the batch's
    key = batch.obj["key"]
    try:
        version_a = stack.moto.put(key, old.body)  # its event announces this ETag
    finally:  # overwritten: the batch's bytes (what the other cases find there), another ETag
        version_b = stack.moto.put(key, batch.source.body)
    assert version_a["etag"] != version_b["etag"] and version_b == batch.obj

    refused = stack.load([version_a], warehouse.db)

    line = refused.one_line_error()
    assert f"s3://{version_a['bucket']}/{key} changed since its event" in line, line
    assert version_a["etag"] in line and version_b["etag"] in line, line
    assert warehouse.raw_loads() == {
        load_id: rows for load_id, rows in batch.raw_loads.items() if load_id != batch.load_id
    }
    assert warehouse.exact_published() == before

    # One run with both events (A's and B's): A refused again, B loaded, published.
    loaded = stack.load([version_a, version_b], warehouse.db).ok()
    assert loaded["load_ids"] == [batch.load_id]
    assert [o["status"] for o in loaded["objects"]] == ["changed", "staged"]
    assert len(loaded["errors"]) == 1 and "changed since its event" in loaded["errors"][0]
    load_a = loaded["objects"][0]["load_id"]
    built = stack.build(loaded["load_ids"], "run-b", warehouse.db).ok()
    stack.drop_staging("run-b", warehouse.db).ok()

    assert built["published"] == [batch.load_id]
    batch.assert_as_clean(warehouse, refused=load_a)
    assert warehouse.raw(load_a)[0] == warehouse.facts(load_a)[0] == 0
    a_orders = {row.split(",")[1] for row in old.body.decode().splitlines()[1:]}
    published = {order_id for (order_id,) in warehouse.rows("select order_id from analytics.dim_orders")}
    assert not a_orders & published
