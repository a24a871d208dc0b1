"""Connection settings, read from the environment only (ConfigMap + Secret in
Kubernetes, scripts/env.sh locally). Never from arguments, never logged."""

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
    staging_schema: str = "staging"
    published_schema: str = "analytics"
    ops_schema: str = "ops"
    # Redshift only: the role Redshift assumes to COPY from S3.
    redshift_iam_role: str | None = None


class LakeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    raw_bucket: str = "superstore-raw"
    incoming_prefix: str = "incoming/"
    source_prefix: str = "raw/initial/"
    rejected_prefix: str = "rejected/"
