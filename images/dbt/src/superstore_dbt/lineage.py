"""What a build read and wrote, for the step's record: dbt's own artifacts
(run_results.json, manifest.json) and, for lineage, one part per model (its
parents' relations in, its own out) and the publish (audit marts in,
published marts out, with their schemas and row counts)."""

import json
import os
from pathlib import Path

from superstore_common.record import StepRecord, table_fields, warehouse_dataset
from superstore_common.settings import WarehouseSettings

ARTIFACTS = ("run_results.json", "manifest.json")


def attach_artifacts(record: StepRecord) -> dict | None:
    """Keep dbt's artifacts with the step's record; returns the manifest."""
    target = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    for name in ARTIFACTS:
        if (target / name).is_file():
            record.attach(name, (target / name).read_bytes())
    manifest = target / "manifest.json"
    return json.loads(manifest.read_bytes()) if manifest.is_file() else None


def record_lineage(
    record: StepRecord, manifest: dict, settings: WarehouseSettings, connection, published: dict
) -> None:
    """`published`: the published marts' row counts by table name (empty when nothing was published)."""

    def dataset(node: dict, **facets):
        return warehouse_dataset(settings, node["schema"], node.get("alias") or node["name"], **facets)

    nodes = {**manifest["sources"], **manifest["nodes"]}
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    for model in models:
        parents = [nodes[p] for p in model["depends_on"]["nodes"] if p in nodes]
        record.parts.append((f"model.{model['name']}", [dataset(p) for p in parents], [dataset(model)]))
    sources = {id(s): s for m in models for p in m["depends_on"]["nodes"] if (s := manifest["sources"].get(p))}
    record.inputs = [dataset(s) for s in sources.values()]
    if not published:
        return
    marts = [m for m in models if m["alias"] in published]
    outputs = [
        warehouse_dataset(
            settings,
            settings.published_schema,
            m["alias"],
            fields=table_fields(connection, settings.published_schema, m["alias"]),
            rows=published[m["alias"]],
        )
        for m in marts
    ]
    record.parts.append(("publish", [dataset(m) for m in marts], outputs))
    record.outputs = outputs
