"""Typed platform settings, loaded from ``config/<env>.yaml`` and validated before any construct is built.

Only ``app.py`` calls :func:`load_settings`; stacks and constructs receive the parts they need as
typed objects. Any bad input raises :class:`ConfigError` with one line per problem that names the
key, the bad value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.regions import SUPPORTED_REGIONS
from config.schedules import check_cron, check_schedule, rate_minutes

CONFIG_DIR = Path(__file__).resolve().parent

_RFC1918 = [ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_CAMERA = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,576}$")
_QUICKSIGHT_GROUP = re.compile(r"^[\u0020-\u002e\u0030-\u00ff]{1,128}$")
_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_INSTANCE_TYPE = re.compile(
    r"^[a-z][a-z0-9]*[0-9][a-z0-9]*(-flex)?\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal(-[0-9]+xl)?)$"
)

Days = Annotated[int, Field(ge=1, le=3650)]
_ML_INSTANCE_TYPE = re.compile(
    r"^ml\.[a-z][a-z0-9]*[0-9][a-z0-9]*\.(medium|large|xlarge|([2-9]|[1-9][0-9])xlarge)$"
)


def _ml_instance_type(value: str) -> str:
    if not _ML_INSTANCE_TYPE.match(value):
        raise ValueError("expected a SageMaker instance type ml.<family>.<size>, e.g. ml.m5.large")
    return value


MlInstanceType = Annotated[str, AfterValidator(_ml_instance_type)]
"""A SageMaker instance type such as ``ml.m5.large`` or ``ml.c7i.4xlarge``."""

LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
"""The retention periods CloudWatch Logs accepts."""


SAMPLER_FRAME_BUDGET = 3000
"""Frames one sampler run may copy: one by one they take well under the function's 15 minutes."""
VIDEO_NAME_LIMIT = 128
"""Longest stream name: the IoT thing that streams into it has the same name, and thing names stop at 128."""
FORECAST_NAME_LIMIT = 40
"""Longest :attr:`Settings.forecast_name`: run names add ``-``, 17 digits of start time, ``-`` and
up to 4 digits of redrive count, and SageMaker names stop at 63 characters."""
BUDGET_NOTIFICATION_LIMIT = 5
"""Most notifications one AWS Budgets budget may have."""


def _distinct_matches(values: list[str], pattern: re.Pattern[str], problem: str, item: str) -> list[str]:
    """``values`` if each matches ``pattern`` (else ``'<value>' <problem>``) and none repeats."""
    for value in values:
        if not pattern.match(value):
            raise ValueError(f"{value!r} {problem}")
    if len(set(values)) != len(values):
        raise ValueError(f"lists {item} more than once")
    return values


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the YAML file."""


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are not coerced between types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TagSettings(_Strict):
    """Tags applied to every taggable resource, beside ``project`` and ``environment``."""

    owner: str
    cost_center: str

    @field_validator("owner", "cost_center")
    @classmethod
    def _valid_tag_value(cls, value: str) -> str:
        if not _TAG_VALUE.match(value):
            raise ValueError("must be 1-256 characters of letters, digits, spaces and _ . : / = + - @")
        return value


class NetworkSettings(_Strict):
    """The VPC: address range, AZ count, NAT and interface endpoints, flow-log retention."""

    vpc_cidr: str
    max_azs: int = Field(ge=1, le=3)
    nat_gateways: int = Field(ge=0, le=3)
    interface_endpoints: bool
    flow_log_retention_days: LogRetentionDays

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
    archive_after_days: int | None = Field(default=None, le=3650)
    noncurrent_version_expiry_days: Days
    abort_incomplete_upload_days: Days

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
    access_log_retention_days: Days
    athena_results_retention_days: Days
    athena_bytes_scanned_cutoff_mb: int = Field(ge=10, le=10_000_000)
    personal_data_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="days camera frames and captured endpoint requests are kept; "
        "null: as long as the streams keep video (video.retention_hours, rounded up to days)",
    )
    object_lock_days: Days | None = None


_NOT_A_ROLE = "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"


class PersonalDataReaders(_Strict):
    """Who may read each class of personal data: IAM role ARNs of the platform's account. Nobody
    else may, whatever their IAM policies allow (the bucket and key policies deny it); empty:
    nobody."""

    frames: list[str] = Field(default_factory=list, max_length=10)
    captures: list[str] = Field(default_factory=list, max_length=10)

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
    personal_data_readers: PersonalDataReaders = Field(default_factory=PersonalDataReaders)

    @field_validator("key_admins")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _distinct_matches(value, _ROLE_ARN, _NOT_A_ROLE, "a role")


class ServiceSettings(_Strict):
    """A platform service that has nothing to configure yet but its switch. Off leaves its stack
    and its VPC interface endpoints out."""

    enabled: bool


GLUE_DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
"""Data processing units (what Glue bills by the hour) of each worker type."""


class GlueSettings(ServiceSettings):
    """AWS Glue: the ETL job's size and limits, the ingest workflow's schedule, logs, data quality."""

    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"]
    max_workers: int = Field(ge=2, le=100)
    timeout_minutes: int = Field(ge=1, le=2880)
    max_retries: int = Field(ge=0, le=10)
    schedule: str | None
    freshness_hours: int | None = Field(ge=1, le=720)
    log_retention_days: LogRetentionDays

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)


InstanceType = Annotated[str, Field(pattern=_INSTANCE_TYPE.pattern)]
"""An EC2 instance type name, e.g. ``m7g.xlarge``."""


class EmrClusterSettings(_Strict):
    """The long-running EMR cluster: whether it exists, its managed-scaling limits, idle shutdown."""

    enabled: bool
    min_units: int = Field(ge=1, le=2000)
    max_units: int = Field(ge=1, le=2000)
    idle_timeout_seconds: int = Field(ge=60, le=604_800)
    generation: int = Field(ge=1)

    @model_validator(mode="after")
    def _limits(self) -> EmrClusterSettings:
        if self.min_units >= self.max_units:
            raise ValueError(
                f"max_units {self.max_units} must exceed min_units {self.min_units}: "
                "the core fleet holds min_units and the task fleet starts with one more"
            )
        return self


class EmrServerlessSettings(_Strict):
    """The EMR Serverless application of the feature run: the most it may hold at once across all
    its workers (so one bad run cannot spend without bound) and how long it stays started idle."""

    max_vcpu: int = Field(ge=4, le=400)
    max_memory_gb: int = Field(ge=8, le=3000)
    max_disk_gb: int = Field(ge=20, le=20_000)
    idle_timeout_minutes: int = Field(ge=1, le=10080)


class EmrSettings(ServiceSettings):
    """Amazon EMR: release, instance fleets, spot share, step concurrency, TLS certificates, the
    long-running cluster (``cluster``), and which engine runs the scheduled feature step
    (``feature_runs_on``: an EMR Serverless application sized by ``serverless``, or a transient
    cluster of the same fleets as the long-running one).

    Generated certificates (``certificates_zip: null``) are valid ``certificate_validity_days``;
    raising ``certificate_rotation`` (or changing the validity) makes a new key and certificate at
    the next deploy, before the old one expires."""

    release_label: str = Field(pattern=r"^emr-7\.\d{1,2}\.\d{1,2}$")
    feature_runs_on: Literal["serverless", "transient_cluster"]
    serverless: EmrServerlessSettings
    primary_instance_type: InstanceType
    core_instance_types: list[InstanceType] = Field(min_length=1, max_length=5)
    task_instance_types: list[InstanceType] = Field(max_length=15)
    task_spot_percent: int = Field(ge=0, le=100)
    step_concurrency: int = Field(ge=1, le=256)
    step_timeout_minutes: int = Field(ge=10, le=1440)
    certificates_zip: str | None = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.zip$")
    certificate_validity_days: int = Field(ge=30, le=1825)
    certificate_rotation: int = Field(ge=1)
    log_retention_days: LogRetentionDays
    cluster: EmrClusterSettings

    @property
    def runs_clusters(self) -> bool:
        """Whether the platform ever starts an EMR cluster: the long-running one, or transient ones."""
        return self.cluster.enabled or self.feature_runs_on == "transient_cluster"

    @model_validator(mode="after")
    def _spot_needs_choice(self) -> EmrSettings:
        if self.task_spot_percent > 0 and len(set(self.task_instance_types)) < 2:
            raise ValueError(
                "task_instance_types: a spot fleet needs at least two distinct instance types "
                "(spot capacity of one type alone is often unavailable)"
            )
        return self


class ForecastHyperparameters(_Strict):
    """Arguments of ``workloads/sagemaker/train.py`` (gradient-boosted trees, time-based split)."""

    learning_rate: float = Field(gt=0, le=1)
    max_iter: int = Field(ge=10, le=2000)
    max_leaf_nodes: int = Field(ge=2, le=256)
    min_samples_leaf: int = Field(ge=1, le=1000)
    validation_days: int = Field(ge=7, le=90)


class TrainingSettings(_Strict):
    """The training job: instance, limits, managed spot, hyperparameters and the registration gate.

    ``max_wape`` and ``min_improvement`` are the gate: a model is registered only when its held-out
    WAPE (0 = perfect; 1 = as wrong as predicting nothing) is at most ``max_wape`` and at least
    ``min_improvement`` (a share: 0.1 = 10 %) below the seasonal naive forecast's WAPE on the same
    held-out rows (0 = merely no worse than "same as a week before")."""

    instance_type: MlInstanceType
    volume_size_gb: int = Field(ge=1, le=512)
    max_runtime_minutes: int = Field(ge=5, le=1440)
    spot: bool
    hyperparameters: ForecastHyperparameters
    max_wape: float = Field(gt=0, le=1)
    min_improvement: float = Field(ge=0, lt=1)


class ForecastSettings(_Strict):
    """The Forecast step: the processing job that scores each run's forecast row with the approved
    model (instance, volume, runtime limit), and the drift alarm: it pages when the WAPE of the last
    ``drift_window_days`` days with sales exceeds ``drift_factor`` times the training gate's
    ``max_wape``."""

    instance_type: MlInstanceType
    volume_size_gb: int = Field(ge=1, le=512)
    max_runtime_minutes: int = Field(ge=5, le=1440)
    drift_factor: float = Field(ge=1, le=10)
    drift_window_days: int = Field(ge=1, le=90)


class ServerlessEndpointSettings(_Strict):
    """Serverless inference: memory size and concurrency; nothing runs (or costs) between requests."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: int = Field(ge=1, le=200)


class InstanceEndpointSettings(_Strict):
    """Instance-based inference with target-tracking auto scaling and data capture to the lake."""

    instance_type: MlInstanceType
    min_instances: int = Field(ge=1, le=20)
    max_instances: int = Field(ge=1, le=100)
    invocations_per_instance: int = Field(ge=1, le=100000)
    data_capture_percent: int = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _limits(self) -> InstanceEndpointSettings:
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances {self.min_instances} exceeds max_instances {self.max_instances}")
        return self


class EndpointSettings(_Strict):
    """The endpoint's kind (set exactly one of ``serverless`` and ``instances``) and its latency alarm:
    ``latency_alarm_ms`` is the p90 model latency that, held for 15 minutes, raises an alarm."""

    serverless: ServerlessEndpointSettings | None = None
    instances: InstanceEndpointSettings | None = None
    latency_alarm_ms: int = Field(ge=1, le=60_000)

    @model_validator(mode="after")
    def _one_kind(self) -> EndpointSettings:
        if (self.serverless is None) == (self.instances is None):
            raise ValueError("set exactly one of serverless and instances")
        return self


_STUDIO_USER = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
STUDIO_IDLE_MINUTES = (60, 525_600)
"""The idle timeouts SageMaker accepts for JupyterLab apps (``IdleSettings``), in minutes."""


class StudioUser(_Strict):
    """A person in the workspace: ``name`` becomes the user profile and the private space
    (SageMaker's pattern: letters, digits and inner hyphens, at most 63), ``role`` what they may do."""

    name: str
    role: Literal["data_scientist", "lead"]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _STUDIO_USER.match(value):
            raise ValueError(
                f"user {value!r}: SageMaker user profiles take letters, digits and inner hyphens, at most 63"
            )
        return value


class StudioSettings(_Strict):
    """SageMaker Studio, the data scientists' workspace: who signs in and how (``auth``: IAM, or
    IAM Identity Center as ``sso``), the ``users``, the JupyterLab instance types they may start
    (``default_instance_type`` among ``allowed_instance_types``), the minutes an idle JupyterLab app
    runs before it stops, and the size of each private space's volume."""

    enabled: bool
    auth: Literal["iam", "sso"]
    users: list[StudioUser] = Field(max_length=50)
    default_instance_type: MlInstanceType
    allowed_instance_types: list[MlInstanceType] = Field(min_length=1, max_length=20)
    idle_minutes: int
    space_volume_gb: int = Field(ge=5, le=16_384)

    @field_validator("idle_minutes")
    @classmethod
    def _idle(cls, value: int) -> int:
        low, high = STUDIO_IDLE_MINUTES
        if not low <= value <= high:
            raise ValueError(f"{value}: SageMaker stops idle JupyterLab apps after {low} to {high} minutes")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StudioSettings:
        names = [user.name.lower() for user in self.users]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"users: {', '.join(repeated)} listed more than once (names are case-insensitive)"
            )
        if self.default_instance_type not in self.allowed_instance_types:
            raise ValueError(
                f"default_instance_type {self.default_instance_type} is not in allowed_instance_types"
            )
        return self


class SageMakerSettings(ServiceSettings):
    """Amazon SageMaker: training, the model registry's approval mode, the endpoint, and Studio.

    ``approval: automatic`` registers models that pass the gate as approved (and deploys them);
    ``manual`` registers them pending, and approving one in the registry deploys it (a ``lead``
    in Studio may)."""

    approval: Literal["automatic", "manual"]
    training: TrainingSettings
    forecast: ForecastSettings
    endpoint: EndpointSettings
    studio: StudioSettings
    log_retention_days: LogRetentionDays


class FrameSamplerSettings(_Strict):
    """The frame sampler: when it runs, how far back each run reads, one frame per how many ms, and
    the concurrency it reserves (null: none; a new account's quota of 10 leaves none to reserve)."""

    schedule: str
    window_minutes: int = Field(ge=1, le=1440)
    sampling_interval_ms: int = Field(ge=200, le=60_000)
    reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)

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
    external_id: str | None = Field(
        default=None, min_length=2, max_length=1224, pattern=r"^[A-Za-z0-9_+=,.@:/-]+$"
    )
    organization_id: str | None = Field(default=None, pattern=r"^o-[a-z0-9]{10,32}$")
    session_urls: bool

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
    retention_hours: int = Field(ge=1, le=87_600)
    credential_duration_seconds: int = Field(ge=900, le=43_200)
    viewer: ViewerSettings
    sampler: FrameSamplerSettings
    no_fragments_alarm_minutes: int | None = Field(ge=5, le=1440)
    log_retention_days: LogRetentionDays

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


class RefreshSettings(_Strict):
    """When SPICE re-imports a dataset: ``HOURLY``, ``DAILY`` at ``time_of_day``, ``WEEKLY`` on
    ``day`` (MONDAY...SUNDAY) or ``MONTHLY`` on ``day`` (1-28), in ``timezone``."""

    interval: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY"]
    time_of_day: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    day: str | None = None
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")

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
    namespace: str = Field(pattern=r"^[a-zA-Z0-9._-]{1,64}$")
    author_groups: list[str] | None = None
    viewer_groups: list[str] | None = None
    refresh: RefreshSettings
    log_retention_days: LogRetentionDays
    csv_export: bool = Field(
        default=False,
        description="whether dashboard readers may export a visual's data as CSV (off: stays in QuickSight)",
    )

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


class PipelineSettings(ServiceSettings):
    """The end-to-end pipeline: its EventBridge Scheduler schedule (or none: start it by hand) in
    ``timezone``, the fixed UTC offset that decides which day is "yesterday" for a run started
    without a date. A run's time limit is the sum of its steps' (from their services' settings)."""

    schedule: str | None
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")
    utc_offset: str = Field(pattern=r"^[+-](0[0-9]|1[0-4])[0-5][0-9]$")
    log_retention_days: LogRetentionDays

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)


class AlarmSettings(_Strict):
    """Who hears about failures: e-mail addresses subscribed to the platform alarm topic."""

    emails: list[str]

    @field_validator("emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return _distinct_matches(value, _EMAIL, "is not an e-mail address", "an address")


class BudgetSettings(_Strict):
    """A monthly AWS Budgets budget over the platform's cost-allocation tags (``project`` and
    ``environment``). Each percentage of ``monthly_usd`` in ``actual_percent`` (spent) and
    ``forecast_percent`` (forecast for the month) notifies the alarm topic; Budgets allows five."""

    enabled: bool
    monthly_usd: float = Field(gt=0, le=1_000_000)
    actual_percent: list[int]
    forecast_percent: list[int]

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


class Settings(_Strict):
    """The whole configuration of one environment."""

    environment: str
    prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    removal_policy: Literal["retain", "destroy"]
    termination_protection: bool
    tags: TagSettings
    network: NetworkSettings
    lake: LakeSettings
    security: SecuritySettings
    alarms: AlarmSettings
    budget: BudgetSettings
    glue: GlueSettings
    emr: EmrSettings
    sagemaker: SageMakerSettings
    video: VideoSettings
    quicksight: QuickSightSettings
    pipeline: PipelineSettings

    @field_validator("region")
    @classmethod
    def _supported_region(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORTED_REGIONS:
            raise ValueError(f"not a region the platform supports ({', '.join(SUPPORTED_REGIONS)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if (self.account is None) != (self.region is None):
            raise ValueError("account and region must be set together, or both left out")
        if self.network.max_azs > 2 and self.region is None:
            raise ValueError(
                f"network.max_azs {self.network.max_azs} needs account and region: "
                "an environment-agnostic VPC spans at most 2 availability zones"
            )
        if (
            self.emr.enabled
            and self.emr.cluster.enabled
            and not (self.network.interface_endpoints or self.network.nat_gateways)
        ):
            raise ValueError(
                "emr.cluster.enabled needs network.interface_endpoints: true or network.nat_gateways >= 1: "
                "nodes in the private subnets reach EMR, KMS, Glue and SSM only through them"
            )
        if self.sagemaker.enabled and len(self.forecast_name) > FORECAST_NAME_LIMIT:
            raise ValueError(
                f"SageMaker names start with {self.forecast_name!r}, longer than {FORECAST_NAME_LIMIT} "
                "characters (SageMaker allows 63 with the run id): shorten prefix or the environment name"
            )
        if self.video.enabled:
            for camera in self.video.cameras:
                stream = self.stream_name(camera)
                if len(stream) > VIDEO_NAME_LIMIT:
                    raise ValueError(
                        f"video.cameras: stream {stream!r} has {len(stream)} characters; Kinesis Video "
                        f"streams and IoT things allow {VIDEO_NAME_LIMIT}: shorten the camera name or prefix"
                    )
        viewer = self.video.viewer
        foreign = viewer.foreign(self.account)
        if self.video.enabled and foreign and not viewer.conditions:
            where = f"outside account {self.account}" if self.account else "in an account unknown at synth"
            raise ValueError(
                f"video.viewer.principals: {foreign[0]!r} is {where}: "
                "set video.viewer.external_id or organization_id"
            )
        if self.pipeline.enabled and self.pipeline.schedule and self.glue.enabled and self.glue.schedule:
            raise ValueError(
                "pipeline.schedule and glue.schedule are both set: the ingest would run twice a day; "
                "set glue.schedule: null (the pipeline runs the crawler and the ETL job)"
            )
        if self.pipeline.enabled and self.glue.enabled and self.glue.max_retries:
            raise ValueError(
                f"glue.max_retries {self.glue.max_retries} with the pipeline on: Glue retries as a new run "
                "the pipeline does not wait for; set 0 (rerun the pipeline for the day instead)"
            )
        groups = [*self.bi_groups[0], *self.bi_groups[1]]
        repeated = sorted({group for group in groups if groups.count(group) > 1})
        if self.quicksight.enabled and repeated:
            raise ValueError(f"quicksight: groups listed more than once: {', '.join(repeated)}")
        security = self.security
        named = {
            "key_admins": (security.key_admins, "a key administrator"),
            "personal_data_readers.frames": (security.personal_data_readers.frames, "a reader"),
            "personal_data_readers.captures": (security.personal_data_readers.captures, "a reader"),
        }
        for field, (roles, who) in named.items():
            foreign = [a for a in roles if self.account and f"::{self.account}:" not in a]
            if foreign:
                raise ValueError(
                    f"security.{field}: {', '.join(foreign)} not in account {self.account}: "
                    f"{who} is a role of the account that holds the keys"
                )
        if self.removal_policy == "destroy" and self.lake.object_lock_days:
            raise ValueError(
                "lake.object_lock_days with removal_policy 'destroy': locked versions cannot be "
                "deleted, so the stack could not empty its buckets; set null, or removal_policy 'retain'"
            )
        if self.removal_policy == "destroy" and self.termination_protection:
            raise ValueError("removal_policy 'destroy' contradicts termination_protection: true")
        return self

    @property
    def name_prefix(self) -> str:
        """``<prefix>-<environment>``: the root of every physical name the platform must choose."""
        return f"{self.prefix}-{self.environment}"

    @property
    def forecast_name(self) -> str:
        """``<prefix>-<environment>-forecast`` in lower case: the forecast endpoint, package group,
        and the start of every training job, model and endpoint config name."""
        return f"{self.name_prefix}-forecast".lower()

    @property
    def forecasts(self) -> bool:
        """Whether runs write forecasts to the lake: SageMaker scores the forecast row that the EMR
        feature step writes, so both must be on."""
        return self.sagemaker.enabled and self.emr.enabled

    @property
    def personal_data_retention_days(self) -> int:
        """Days frames and captured requests are kept: as configured, or the streams' retention."""
        configured = self.lake.personal_data_retention_days
        return configured if configured is not None else -(-self.video.retention_hours // 24)

    @property
    def bi_groups(self) -> tuple[list[str], list[str]]:
        """QuickSight (author groups, viewer groups): as configured, or ``<prefix>-<environment>-bi-authors``
        and ``-bi-viewers``."""
        config = self.quicksight
        authors = config.author_groups
        viewers = config.viewer_groups
        return (
            [f"{self.name_prefix}-bi-authors"] if authors is None else authors,
            [f"{self.name_prefix}-bi-viewers"] if viewers is None else viewers,
        )

    def stream_name(self, camera: str) -> str:
        """The Kinesis Video stream (and IoT thing) of ``camera``: ``<prefix>-<environment>-<camera>``."""
        return f"{self.name_prefix}-{camera}"

    @property
    def resource_tags(self) -> dict[str, str]:
        """The tags every stack and resource of the environment carries."""
        return {
            "project": self.prefix,
            "environment": self.environment,
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
        }

    @property
    def destroy_on_delete(self) -> bool:
        """True when this environment's data may be deleted with its stack."""
        return self.removal_policy == "destroy"


def available_environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the environments that have a YAML file in ``config_dir``."""
    return sorted(path.stem for path in config_dir.glob("*.yaml"))


def load_settings(environment: str, config_dir: Path = CONFIG_DIR) -> Settings:
    """Read and validate ``<config_dir>/<environment>.yaml``; raise :class:`ConfigError` on any problem."""
    known = available_environments(config_dir)
    if environment not in known:
        raise ConfigError(
            f"env: unknown environment {environment!r}; allowed: {', '.join(known) or '(none)'}"
        )
    path = config_dir / f"{environment}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path.name}: not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: must hold a mapping of settings, got {type(raw).__name__}")
    if "environment" in raw:
        raise ConfigError(f"{path.name}: environment: set by the file name, remove the key")
    try:
        return Settings.model_validate({"environment": environment, **raw})
    except ValidationError as error:
        raise ConfigError("\n".join(_describe(path.name, item) for item in error.errors())) from None


def _describe(file_name: str, item: Any) -> str:
    """One line for one pydantic error: file, dotted key, bad value, what is allowed."""
    location = [str(part) for part in item["loc"]]
    key = ".".join(location) or "(top level)"
    if item["type"] == "extra_forbidden":
        allowed = ", ".join(_fields_at(location[:-1]))
        return f"{file_name}: {key}: unknown key; allowed keys here: {allowed}"
    if item["type"] == "missing":
        return f"{file_name}: {key}: required key is missing"
    message = str(item["msg"]).removeprefix("Value error, ")
    if isinstance(item["input"], dict):  # a rule across several keys of one section
        return f"{file_name}: {key}: {message}"
    return f"{file_name}: {key}: {item['input']!r} is not allowed: {message}"


def _fields_at(location: list[str]) -> list[str]:
    """The field names of the settings section found at ``location``."""
    model: type[BaseModel] = Settings
    for part in location:
        annotation = model.model_fields[part].annotation
        # An optional section (``X | None``) is its model.
        model = next(
            member
            for member in (annotation, *get_args(annotation))
            if isinstance(member, type) and issubclass(member, BaseModel)
        )
    return [name for name in model.model_fields if name != "environment"]
