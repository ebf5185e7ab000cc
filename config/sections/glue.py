"""Settings of the Glue crawler and ETL job."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from config.schedules import check_cron
from config.sections.common import LogRetentionDays, ServiceSettings

GLUE_DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
"""Data processing units (what Glue bills by the hour) of each worker type."""


class GlueSettings(ServiceSettings):
    """AWS Glue: the ETL job's size and limits, the ingest workflow's schedule, logs, data quality."""

    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"]
    """The ETL job's worker type."""
    max_workers: int = Field(ge=2, le=100)
    """Auto-scaling ceiling of the ETL job (2-100 workers)."""
    timeout_minutes: int = Field(ge=1, le=2880)
    """A job run is stopped after this long (1-2880 minutes)."""
    max_retries: int = Field(ge=0, le=10)
    """Glue's retries of a failed run (0-10; 0 with the pipeline on: a Glue retry is a new run the pipeline
    does not wait for)."""
    schedule: str | None
    """`cron(...)` in UTC for the Glue workflow (Glue triggers take cron only, at most every 5 minutes), or
    null: started by hand or by the pipeline; not together with `pipeline.schedule`."""
    freshness_hours: int | None = Field(ge=1, le=720)
    """The newest curated sale may be at most this old (1-720 hours) or the data-quality gate fails; null: no
    freshness rule."""
    log_retention_days: LogRetentionDays
    """How long the job's logs are kept (a CloudWatch Logs retention value)."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)
