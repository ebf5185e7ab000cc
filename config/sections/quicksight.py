"""Settings of QuickSight: groups, refresh schedule, logs."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from config.sections.common import LogRetentionDays, ServiceSettings, _Strict

_QUICKSIGHT_GROUP = re.compile(r"^[\u0020-\u002e\u0030-\u00ff]{1,128}$")


_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


class RefreshSettings(_Strict):
    """When SPICE re-imports a dataset: ``HOURLY``, ``DAILY`` at ``time_of_day``, ``WEEKLY`` on
    ``day`` (MONDAY...SUNDAY) or ``MONTHLY`` on ``day`` (1-28), in ``timezone``."""

    interval: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY"]
    """How often SPICE re-imports."""
    time_of_day: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """`HH:MM` of the import (not for HOURLY)."""
    day: str | None = None
    """`MONDAY`…`SUNDAY` for WEEKLY, 1-28 for MONTHLY; null otherwise."""
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")
    """IANA time zone of `time_of_day`."""

    @model_validator(mode="after")
    def _day(self) -> RefreshSettings:
        if self.interval == "WEEKLY":
            if self.day not in _WEEKDAYS:
                raise ValueError(f"a WEEKLY refresh needs day: one of {', '.join(_WEEKDAYS)}")
        elif self.interval == "MONTHLY":
            if not (self.day and self.day.isdigit() and 1 <= int(self.day) <= 28):
                raise ValueError("a MONTHLY refresh needs day: a day of the month from 1 to 28")
        elif self.day is not None:
            raise ValueError(f"a {self.interval} refresh takes no day")
        return self


class QuickSightSettings(ServiceSettings):
    """Amazon QuickSight over Athena: who may change (``author_groups``) and who may only view
    (``viewer_groups``) the data source, datasets and dashboard, the namespace and identity region
    of those groups (default: the stack's region), the SPICE refresh, how long the logs of the
    function that creates the groups are kept, and whether readers may export data as CSV (default
    off). Unset groups default to ``<prefix>-<env>-bi-authors`` and ``-bi-viewers`` (see
    :attr:`Settings.bi_groups`), so two copies of the platform never create the same group."""

    identity_region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    """Where the account's QuickSight users and groups live (null: the stack's region); the stack creates its
    groups there."""
    namespace: str = Field(pattern=r"^[a-zA-Z0-9._-]{1,64}$")
    """The groups' QuickSight namespace."""
    author_groups: list[str] | None = None
    """QuickSight groups that own the data source, datasets and dashboard (1-128 characters U+0020-U+00FF, no
    `/`; distinct); null: `<prefix>-<env>-bi-authors`."""
    viewer_groups: list[str] | None = None
    """Groups that may view the dashboard; null: `<prefix>-<env>-bi-viewers`."""
    refresh: RefreshSettings
    """SPICE refresh schedule when the pipeline is off (with it on, the pipeline re-imports after
    each run)."""
    log_retention_days: LogRetentionDays
    """How long the logs of the function that creates and deletes the groups are kept (a CloudWatch Logs
    retention value)."""
    csv_export: bool = Field(
        default=False,
        description="whether dashboard readers may export a visual's data as CSV (off: stays in QuickSight)",
    )
    """Whether dashboard readers may export a visual's data as CSV (off: the data stays in QuickSight)."""

    @field_validator("author_groups", "viewer_groups")
    @classmethod
    def _group_names(cls, value: list[str] | None) -> list[str] | None:
        for group in value or ():
            if not _QUICKSIGHT_GROUP.match(group):
                raise ValueError(
                    f"group {group!r}: QuickSight group names have 1 to 128 characters from "
                    "U+0020 to U+00FF and no '/'"
                )
        return value

    @model_validator(mode="after")
    def _groups(self) -> QuickSightSettings:
        if self.enabled and self.author_groups == []:
            raise ValueError(
                "QuickSight on needs at least one author group (owners of the data and dashboard)"
            )
        return self
