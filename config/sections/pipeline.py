"""Settings of the end-to-end pipeline: schedule, time zone, logs."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
)

from config.schedules import check_schedule
from config.sections.common import LogRetentionDays, ServiceSettings


class PipelineSettings(ServiceSettings):
    """The end-to-end pipeline: its EventBridge Scheduler schedule (or none: start it by hand) in
    ``timezone``, the fixed UTC offset that decides which day is "yesterday" for a run started
    without a date. A run's time limit is the sum of its steps' (from their services' settings)."""

    schedule: str | None
    """EventBridge Scheduler `rate()` or `cron()` that starts a run for yesterday, or null: started
    by hand."""
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")
    """IANA time zone of `schedule`."""
    utc_offset: str = Field(pattern=r"^[+-](0[0-9]|1[0-4])[0-5][0-9]$")
    """`±hhmm` deciding "yesterday" for runs without a date (fixed, no daylight saving)."""
    log_retention_days: LogRetentionDays
    """How long the state machine's logs are kept (a CloudWatch Logs retention value)."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)
