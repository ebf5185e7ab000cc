"""Settings of the Kinesis Video streams, their viewers and the frame sampler."""

from __future__ import annotations

import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from config.schedules import check_schedule, rate_minutes
from config.sections.common import _ROLE_ARN, LogRetentionDays, ServiceSettings, _distinct_matches, _Strict

_CAMERA = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


SAMPLER_FRAME_BUDGET = 3000
"""Frames one sampler run may copy: one by one they take well under the function's 15 minutes."""


VIDEO_NAME_LIMIT = 128
"""Longest stream name: the IoT thing that streams into it has the same name, and thing names stop at 128."""


class FrameSamplerSettings(_Strict):
    """The frame sampler: when it runs, how far back each run reads, one frame per how many ms, and
    the concurrency it reserves (null: none; a new account's quota of 10 leaves none to reserve)."""

    schedule: str
    """When the sampler runs: EventBridge `rate()` or 6-field `cron()`."""
    window_minutes: int = Field(ge=1, le=1440)
    """How far back each run reads (1-1440 minutes; at least a rate's period, within retention)."""
    sampling_interval_ms: int = Field(ge=200, le=60_000)
    """One frame per this many milliseconds (200-60000); at most 3000 frames a run over all cameras."""
    reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)
    """Concurrency reserved for the sampler (1-1000), or null: none, as a new account's Lambda quota of 10
    leaves none to reserve."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    @model_validator(mode="after")
    def _no_gaps(self) -> FrameSamplerSettings:
        period = rate_minutes(self.schedule)
        if period is not None and self.window_minutes < period:
            raise ValueError(
                f"window_minutes {self.window_minutes} is shorter than the schedule's {period} minutes: "
                "frames between runs would never be sampled"
            )
        return self


class ViewerSettings(_Strict):
    """Who may assume the viewer role, on what condition, and whether it may open HLS/DASH sessions.

    ``principals`` are IAM role ARNs of the platform's partition (``arn:aws``): never an account's
    ``:root`` (every principal of that account allowed ``sts:AssumeRole`` could watch), never a user
    (long-lived keys). A role of another account than ``account`` (every role when ``account`` is
    unset) is trusted only with ``external_id`` (``sts:ExternalId``; 2-1224 characters, not a
    secret: it names the tenant, it does not authenticate) or ``organization_id``
    (``aws:PrincipalOrgID``), or both. ``session_urls``: allow ``GetHLSStreamingSessionURL`` and
    ``GetDASHStreamingSessionURL``; the caller picks a URL's lifetime (``Expires``, 300-43200 s) and
    the URL plays for whoever holds it, from anywhere, and IAM has no condition key to cap it."""

    principals: list[str]
    """IAM role ARNs (no `:root`, no users; distinct) that may assume the viewer role; empty: no
    viewer role."""
    external_id: str | None = Field(
        default=None, min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9_+=,.@:/-]+$"
    )
    """`sts:ExternalId` a viewer of another account must pass (2-1224 characters; not a secret)."""
    organization_id: str | None = Field(default=None, pattern=r"^o-[a-z0-9]{10,32}$")
    """`aws:PrincipalOrgID` (`o-…`) a viewer of another account must belong to; with `external_id`, at least
    one is required for viewers outside `account`, or for all when `account` is unset."""
    session_urls: bool
    """Also let viewers open HLS/DASH session URLs: bearer URLs that play for whoever holds them, for the
    caller's `Expires` (IAM cannot cap it)."""

    @field_validator("principals")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        problem = "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>; no :root, no users)"
        return _distinct_matches(value, _ROLE_ARN, problem, "a role")

    def foreign(self, account: str | None) -> list[str]:
        """The principals outside ``account``: all of them when the account is not known."""
        return [arn for arn in self.principals if account is None or arn.split(":")[4] != account]

    @property
    def conditions(self) -> dict[str, str]:
        """``StringEquals`` conditions a foreign principal's ``sts:AssumeRole`` must meet."""
        keys = {"sts:ExternalId": self.external_id, "aws:PrincipalOrgID": self.organization_id}
        return {key: value for key, value in keys.items() if value is not None}


class VideoSettings(ServiceSettings):
    """Kinesis Video Streams: one stream per camera, who may watch, and the frame sampler.

    Stream ``<prefix>-<environment>-<camera>`` is also the name of the camera's IoT thing, so a
    name must suit both services: letters, digits, ``_`` and ``-``, at most 128 characters."""

    cameras: list[str] = Field(min_length=1)
    """One stream per camera, `<prefix>-<env>-<camera>` (also its IoT thing name): letters, digits, `_`, `-`;
    distinct; at most 128 characters once prefixed."""
    retention_hours: int = Field(ge=1, le=87_600)
    """Media kept per stream (1 hour to 10 years, 87600)."""
    credential_duration_seconds: int = Field(ge=900, le=43_200)
    """Lifetime of a camera's temporary credentials (900-43200 s)."""
    viewer: ViewerSettings
    """Who may watch the streams."""
    sampler: FrameSamplerSettings
    """The frame sampler."""
    no_fragments_alarm_minutes: int | None = Field(ge=5, le=1440)
    """Alarm when a stream receives nothing for this long (5-1440 minutes), or null: no alarm."""
    log_retention_days: LogRetentionDays
    """How long the sampler's logs are kept (a CloudWatch Logs retention value)."""

    @field_validator("cameras")
    @classmethod
    def _cameras(cls, value: list[str]) -> list[str]:
        for camera in value:
            if not _CAMERA.match(camera):
                raise ValueError(
                    f"camera {camera!r}: Kinesis Video stream and IoT thing names take letters, "
                    "digits, '_' and '-' only"
                )
        duplicates = sorted({camera for camera in value if value.count(camera) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return value

    @model_validator(mode="after")
    def _sampler_fits(self) -> VideoSettings:
        window = self.sampler.window_minutes
        if window > self.retention_hours * 60:
            raise ValueError(
                f"sampler.window_minutes {window} reaches back further than "
                f"retention_hours {self.retention_hours}"
            )
        interval = self.sampler.sampling_interval_ms
        frames = len(self.cameras) * window * 60_000 // interval
        if frames > SAMPLER_FRAME_BUDGET:
            raise ValueError(
                f"each sampler run would copy {frames} frames ({len(self.cameras)} cameras, "
                f"{window} minutes, one per {interval} ms); at most {SAMPLER_FRAME_BUDGET} fit in one "
                "run: sample less often, or run more often over a shorter window"
            )
        return self
