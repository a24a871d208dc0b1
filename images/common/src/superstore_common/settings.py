"""Connection settings, read from the environment only (ConfigMap + Secret in
Kubernetes, scripts/env.sh locally). Never from arguments, never logged."""

import hashlib
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WarehouseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="ignore")

    kind: Literal["postgres", "redshift"] = "postgres"
    host: str = "127.0.0.1"
    port: int = 5432
    db: str = "superstore"
    user: str = "superstore"
    password: SecretStr
    # Append-only history: every validated object's rows and the load ledger.
    raw_schema: str = "raw"
    # Prefix of the per-run audit schemas (candidate rows and their checks).
    staging_schema: str = "staging"
    published_schema: str = "analytics"
    ops_schema: str = "ops"
    # Redshift only: the role Redshift assumes to COPY from S3.
    redshift_iam_role: str | None = None

    def audit_schema(self, run_id: str) -> str:
        """The schema one run audits its candidate rows in: per run, so two
        runs at once never share one, and disposable (drop-staging)."""
        return f"{self.staging_schema}_{hashlib.sha256(run_id.encode()).hexdigest()[:12]}"


class LakeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    raw_bucket: str = "superstore-raw"
    incoming_prefix: str = "incoming/"
    source_prefix: str = "raw/initial/"
    rejected_prefix: str = "rejected/"
