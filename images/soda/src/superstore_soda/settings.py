"""The quality thresholds of the scan step: freshness ages, the volume band,
failing-row samples. Read from the environment (QUALITY_*), like every other
setting; they become Soda variables of the checks files, so the thresholds
are Soda's own (warn/fail), not Python's."""

import re

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Soda's form of an age in a threshold variable: days, hours, minutes (1d, 12h, 1d12h, 30m).
AGE = re.compile(r"^(\d+[dhm])+$")
# A fail age that is not set: Soda's thresholds are fixed in the checks file,
# so "never fail" is an age no data reaches (about 270 years).
NEVER = "100000d"


class QualitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUALITY_", extra="ignore")

    # Freshness: the latest fct_sales.loaded_at (when the newest load was
    # published) and the latest dim_orders.order_date (the newest order).
    # Older than WARN_AFTER warns; older than FAIL_AFTER (unset: never) fails.
    freshness_loaded_at_warn_after: str = "1d"
    freshness_loaded_at_fail_after: str | None = None
    freshness_order_date_warn_after: str = "7d"
    freshness_order_date_fail_after: str | None = None
    # Volume: a load whose rows in fct_sales are more than RATIO times, or
    # less than 1/RATIO of, the median of the WINDOW loads published before
    # it warns; with fewer than MIN_LOADS loads before it, it is not judged.
    volume_ratio: float = Field(3.0, gt=1)
    volume_window: int = Field(10, ge=1)
    volume_min_loads: int = Field(3, ge=1)
    # Failing rows Soda keeps per check for the step's record (checks.json).
    samples_limit: int = Field(5, ge=0)

    @field_validator(
        "freshness_loaded_at_warn_after",
        "freshness_loaded_at_fail_after",
        "freshness_order_date_warn_after",
        "freshness_order_date_fail_after",
    )
    @classmethod
    def _age(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not AGE.match(value):
            raise ValueError(f"an age like 30m, 12h, 1d or 1d12h, got {value!r}")
        return value

    @model_validator(mode="after")
    def _window(self) -> "QualitySettings":
        if self.volume_min_loads > self.volume_window:
            raise ValueError(
                f"QUALITY_VOLUME_MIN_LOADS ({self.volume_min_loads}) exceeds QUALITY_VOLUME_WINDOW ({self.volume_window})"
            )
        return self

    def variables(self) -> dict[str, str]:
        """The Soda variables the checks files read."""
        return {
            "freshness_loaded_at_warn": self.freshness_loaded_at_warn_after or NEVER,
            "freshness_loaded_at_fail": self.freshness_loaded_at_fail_after or NEVER,
            "freshness_order_date_warn": self.freshness_order_date_warn_after or NEVER,
            "freshness_order_date_fail": self.freshness_order_date_fail_after or NEVER,
            "volume_ratio": repr(float(self.volume_ratio)),
            "volume_window": str(self.volume_window),
            "volume_min_loads": str(self.volume_min_loads),
        }


def read_quality_settings() -> QualitySettings:
    """The settings, or one line naming what is wrong (for StepError)."""
    try:
        return QualitySettings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "QUALITY_" + "_".join(str(part) for part in item["loc"]).upper() if item["loc"] else ""
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if name else message)
        raise ValueError("; ".join(problems)) from None
