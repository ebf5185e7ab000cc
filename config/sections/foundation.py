"""Settings of what every environment has: tags, network, lake, security, alarms and budget."""

from __future__ import annotations

import ipaddress
import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from config.sections.common import _NOT_A_ROLE, _ROLE_ARN, Days, LogRetentionDays, _distinct_matches, _Strict

_RFC1918 = [ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


BUDGET_NOTIFICATION_LIMIT = 5
"""Most notifications one AWS Budgets budget may have."""


class TagSettings(_Strict):
    """Tags applied to every taggable resource, beside ``project`` and ``environment``."""

    owner: str
    """Tagged, with `project` and `environment`, on every stack and taggable resource."""
    cost_center: str
    """Tagged like `owner`."""

    @field_validator("owner", "cost_center")
    @classmethod
    def _valid_tag_value(cls, value: str) -> str:
        if not _TAG_VALUE.match(value):
            raise ValueError("must be 1-256 characters of letters, digits, spaces and _ . : / = + - @")
        return value


class NetworkSettings(_Strict):
    """The VPC: address range, AZ count, NAT and interface endpoints, flow-log retention."""

    vpc_cidr: str
    """The VPC's range: an RFC 1918 IPv4 CIDR from /16 to /24."""
    max_azs: int = Field(ge=1, le=3)
    """Availability zones (1-3; 3 needs `account` and `region`)."""
    nat_gateways: int = Field(ge=0, le=3)
    """NAT gateways (0: the private subnets have no internet route)."""
    interface_endpoints: bool
    """PrivateLink endpoints for STS, Logs, KMS, Athena and the enabled services (Glue; EMR with Glue and
    Session Manager; SageMaker; Step Functions with Studio)."""
    flow_log_retention_days: LogRetentionDays
    """How long the VPC flow logs are kept (a CloudWatch Logs retention value)."""

    @field_validator("vpc_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        problem = "must be an RFC 1918 IPv4 CIDR from /16 to /24, e.g. 10.10.0.0/16"
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(problem) from None
        if not any(network.subnet_of(block) for block in _RFC1918) or not 16 <= network.prefixlen <= 24:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _nat_fits_azs(self) -> NetworkSettings:
        if self.nat_gateways > self.max_azs:
            raise ValueError(f"nat_gateways ({self.nat_gateways}) must not exceed max_azs ({self.max_azs})")
        return self


class LifecycleSettings(_Strict):
    """Ages, in days, for tiering zone data and cleaning up old versions and uploads."""

    infrequent_access_after_days: int = Field(ge=30, le=3650)
    """Days before objects move to S3 Standard-IA (at least 30)."""
    archive_after_days: int | None = Field(default=None, le=3650)
    """Days before objects move to Glacier Instant Retrieval (at least IA + 30), or null: never."""
    noncurrent_version_expiry_days: Days
    """Days a replaced or deleted object version is kept."""
    abort_incomplete_upload_days: Days
    """Days before an unfinished multipart upload is aborted."""

    @model_validator(mode="after")
    def _archive_after_ia(self) -> LifecycleSettings:
        if self.archive_after_days is not None and (
            self.archive_after_days < self.infrequent_access_after_days + 30
        ):
            raise ValueError(
                "archive_after_days must be at least infrequent_access_after_days + 30 "
                "(S3 keeps objects 30 days in Standard-IA), or null to never archive"
            )
        return self


class LakeSettings(_Strict):
    """Data lake storage: lifecycle of zone data, retention of logs, query results and personal
    data, and ``object_lock_days``: days each new object version in raw and curated is locked in
    governance mode (null: no Object Lock; once on, S3 keeps Object Lock on for the bucket)."""

    lifecycle: LifecycleSettings
    """Storage classes and clean-up of the lake buckets."""
    access_log_retention_days: Days
    """Days S3 server access logs are kept."""
    athena_results_retention_days: Days
    """Days Athena query results are kept."""
    athena_bytes_scanned_cutoff_mb: int = Field(ge=10, le=10_000_000)
    """Per-query scan limit of the workgroup, in MB (at least 10)."""
    personal_data_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="days camera frames and captured endpoint requests are kept; "
        "null: as long as the streams keep video (video.retention_hours, rounded up to days)",
    )
    """Days camera frames and captured endpoint requests are kept in their own buckets (their last version
    goes a day later); null: as long as the streams keep video (`video.retention_hours` rounded up to
    days). What earlier versions left in raw expires after the same days."""
    object_lock_days: Days | None = None
    """Days each new object version in raw and curated is locked (S3 Object Lock, governance mode); null: off.
    Needs `removal_policy: retain`; once on, S3 keeps Object Lock on for the bucket."""


class PersonalDataReaders(_Strict):
    """Who may read each class of personal data: IAM role ARNs of the platform's account. Nobody
    else may, whatever their IAM policies allow (the bucket and key policies deny it); empty:
    nobody."""

    frames: list[str] = Field(default_factory=list, max_length=10)
    """IAM role ARNs that may read camera frames; nobody else may, whatever their IAM policies allow. Each
    role must exist before the deploy (`dsp doctor` checks)."""
    captures: list[str] = Field(default_factory=list, max_length=10)
    """IAM role ARNs that may read the endpoint's captured requests, as `frames`."""

    @field_validator("frames", "captures")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _distinct_matches(value, _ROLE_ARN, _NOT_A_ROLE, "a role")


class SecuritySettings(_Strict):
    """Who administers the platform's KMS keys, and who may read personal data.

    ``key_admins`` are IAM role ARNs (no ``:root``, no users) in the ``aws`` partition, the one of
    every supported region. Empty: nobody but the deploying CloudFormation role may schedule a key's
    deletion or change its policy. ``personal_data_readers`` names, per class, the roles that may
    read camera frames and captured endpoint requests."""

    key_admins: list[str] = Field(max_length=10)
    """IAM role ARNs (`arn:aws:iam::<account>:role/<name>`, of `account` when set; no `:root`, no users; at
    most 10, distinct) that administer every platform key; each must exist before the deploy. Empty: only
    the deploying CloudFormation role may schedule a key's deletion or change its policy."""
    personal_data_readers: PersonalDataReaders = Field(default_factory=PersonalDataReaders)
    """Who may read each class of personal data."""

    @field_validator("key_admins")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _distinct_matches(value, _ROLE_ARN, _NOT_A_ROLE, "a role")


class AlarmSettings(_Strict):
    """Who hears about failures: e-mail addresses subscribed to the platform alarm topic."""

    emails: list[str]
    """Addresses subscribed to the platform alarm topic (each confirms by mail); valid and distinct."""

    @field_validator("emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return _distinct_matches(value, _EMAIL, "is not an e-mail address", "an address")


class BudgetSettings(_Strict):
    """A monthly AWS Budgets budget over the platform's cost-allocation tags (``project`` and
    ``environment``). Each percentage of ``monthly_usd`` in ``actual_percent`` (spent) and
    ``forecast_percent`` (forecast for the month) notifies the alarm topic; Budgets allows five."""

    enabled: bool
    """A monthly AWS Budgets budget over the costs tagged `project` and `environment`."""
    monthly_usd: float = Field(gt=0, le=1_000_000)
    """The budget's amount (more than 0)."""
    actual_percent: list[int]
    """Notify the alarm topic when the month's actual spend passes each of these percentages (1-1000,
    distinct; 1 to 5 notifications with `forecast_percent`)."""
    forecast_percent: list[int]
    """Notify when the month's forecast spend passes each of these percentages."""

    @field_validator("actual_percent", "forecast_percent")
    @classmethod
    def _percentages(cls, value: list[int]) -> list[int]:
        for percent in value:
            if not 1 <= percent <= 1000:
                raise ValueError(f"{percent} is not a percentage between 1 and 1000")
        if len(set(value)) != len(value):
            raise ValueError("lists a percentage twice")
        return value

    @model_validator(mode="after")
    def _notifications(self) -> BudgetSettings:
        count = len(self.actual_percent) + len(self.forecast_percent)
        if self.enabled and not 1 <= count <= BUDGET_NOTIFICATION_LIMIT:
            raise ValueError(
                f"{count} thresholds: a budget notifies at 1 to {BUDGET_NOTIFICATION_LIMIT} "
                "(actual_percent and forecast_percent together)"
            )
        return self
