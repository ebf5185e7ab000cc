"""Typed platform settings, loaded from ``config/<env>.yaml`` and validated before any construct is built.

Only ``app.py`` calls :func:`load_settings`; stacks and constructs receive the parts they need as
typed objects. Any bad input raises :class:`ConfigError` with one line per problem that names the
key, the bad value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.regions import SUPPORTED_REGIONS
from config.sections.common import Days, LogRetentionDays, MlInstanceType, ServiceSettings, _Strict
from config.sections.emr import EmrClusterSettings, EmrServerlessSettings, EmrSettings, InstanceType
from config.sections.foundation import (
    BUDGET_NOTIFICATION_LIMIT,
    AlarmSettings,
    BudgetSettings,
    LakeSettings,
    LifecycleSettings,
    NetworkSettings,
    PersonalDataReaders,
    SecuritySettings,
    TagSettings,
)
from config.sections.glue import GLUE_DPU_PER_WORKER, GlueSettings
from config.sections.pipeline import PipelineSettings
from config.sections.quicksight import QuickSightSettings, RefreshSettings
from config.sections.sagemaker import (
    STUDIO_IDLE_MINUTES,
    EndpointSettings,
    ForecastHyperparameters,
    ForecastSettings,
    InstanceEndpointSettings,
    SageMakerSettings,
    ServerlessEndpointSettings,
    StudioSettings,
    StudioUser,
    TrainingSettings,
)
from config.sections.video import (
    SAMPLER_FRAME_BUDGET,
    VIDEO_NAME_LIMIT,
    FrameSamplerSettings,
    VideoSettings,
    ViewerSettings,
)

__all__ = [
    "BUDGET_NOTIFICATION_LIMIT",
    "CONFIG_DIR",
    "FORECAST_NAME_LIMIT",
    "GLUE_DPU_PER_WORKER",
    "SAMPLER_FRAME_BUDGET",
    "STUDIO_IDLE_MINUTES",
    "VIDEO_NAME_LIMIT",
    "AlarmSettings",
    "BudgetSettings",
    "ConfigError",
    "Days",
    "EmrClusterSettings",
    "EmrServerlessSettings",
    "EmrSettings",
    "EndpointSettings",
    "ForecastHyperparameters",
    "ForecastSettings",
    "FrameSamplerSettings",
    "GlueSettings",
    "InstanceEndpointSettings",
    "InstanceType",
    "LakeSettings",
    "LifecycleSettings",
    "LogRetentionDays",
    "MlInstanceType",
    "NetworkSettings",
    "PersonalDataReaders",
    "PipelineSettings",
    "QuickSightSettings",
    "RefreshSettings",
    "SageMakerSettings",
    "SecuritySettings",
    "ServerlessEndpointSettings",
    "ServiceSettings",
    "Settings",
    "StudioSettings",
    "StudioUser",
    "TagSettings",
    "TrainingSettings",
    "VideoSettings",
    "ViewerSettings",
    "_Strict",
    "available_environments",
    "load_settings",
]

CONFIG_DIR = Path(__file__).resolve().parent


FORECAST_NAME_LIMIT = 40
"""Longest :attr:`Settings.forecast_name`: run names add ``-``, 17 digits of start time, ``-`` and
up to 4 digits of redrive count, and SageMaker names stop at 63 characters."""


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the YAML file."""


class Settings(_Strict):
    """The whole configuration of one environment."""

    environment: str
    """The environment's name: its file `config/<environment>.yaml` (set by the loader)."""
    prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
    """Root of every name the platform must choose (`<prefix>-<env>-…`): lowercase letters, digits,
    hyphens."""
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    """Optional, with `region`: both or neither. Left out, synth is environment-agnostic."""
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    """Optional, with `account`; one of the supported regions."""
    removal_policy: Literal["retain", "destroy"]
    """`retain`, or `destroy`: data is deleted with its stack (synth warns)."""
    termination_protection: bool
    """On every stack (not on the EMR cluster, which a settings change replaces)."""
    tags: TagSettings
    """The platform's own tags."""
    network: NetworkSettings
    """The VPC."""
    lake: LakeSettings
    """The lake buckets and Athena."""
    security: SecuritySettings
    """Key administrators and personal-data readers."""
    alarms: AlarmSettings
    """Who the alarm topic notifies."""
    budget: BudgetSettings
    """The monthly cost budget."""
    glue: GlueSettings
    """The Glue crawler and ETL job."""
    emr: EmrSettings
    """The EMR feature run and clusters."""
    sagemaker: SageMakerSettings
    """Training, the Forecast step, the endpoint and Studio."""
    video: VideoSettings
    """Camera streams and the frame sampler."""
    quicksight: QuickSightSettings
    """The BI groups, datasets and dashboard."""
    pipeline: PipelineSettings
    """The end-to-end pipeline."""

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
