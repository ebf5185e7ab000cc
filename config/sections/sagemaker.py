"""Settings of SageMaker: training and its gate, the Forecast step, the endpoint and Studio."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from config.sections.common import LogRetentionDays, MlInstanceType, ServiceSettings, _Strict


class ForecastHyperparameters(_Strict):
    """Arguments of ``workloads/sagemaker/train.py`` (gradient-boosted trees, time-based split)."""

    learning_rate: float = Field(gt=0, le=1)
    """`train.py`'s learning rate (0-1]."""
    max_iter: int = Field(ge=10, le=2000)
    """Boosting iterations (10-2000)."""
    max_leaf_nodes: int = Field(ge=2, le=256)
    """Leaves per tree (2-256)."""
    min_samples_leaf: int = Field(ge=1, le=1000)
    """Samples per leaf (1-1000)."""
    validation_days: int = Field(ge=7, le=90)
    """The last sale days held out for the gate (7-90; a time-based split); a run needs 8 more before them."""


class TrainingSettings(_Strict):
    """The training job: instance, limits, managed spot, hyperparameters and the registration gate.

    ``max_wape`` and ``min_improvement`` are the gate: a model is registered only when its held-out
    WAPE (0 = perfect; 1 = as wrong as predicting nothing) is at most ``max_wape`` and at least
    ``min_improvement`` (a share: 0.1 = 10 %) below the seasonal naive forecast's WAPE on the same
    held-out rows (0 = merely no worse than "same as a week before")."""

    instance_type: MlInstanceType
    """The training job's SageMaker instance type."""
    volume_size_gb: int = Field(ge=1, le=512)
    """The job's volume (1-512 GB)."""
    max_runtime_minutes: int = Field(ge=5, le=1440)
    """A job is stopped after this long (5-1440 minutes)."""
    spot: bool
    """Managed spot training; an interrupted run starts over (training takes minutes)."""
    hyperparameters: ForecastHyperparameters
    """`train.py`'s arguments."""
    max_wape: float = Field(gt=0, le=1)
    """The registration gate: a model whose held-out WAPE is above this (0-1] is not registered."""
    min_improvement: float = Field(ge=0, lt=1)
    """The gate's second half: a model whose WAPE is not at least this share [0-1) below the seasonal naive
    forecast's on the same held-out rows is not registered."""


class ForecastSettings(_Strict):
    """The Forecast step: the processing job that scores each run's forecast row with the approved
    model (instance, volume, runtime limit), and the drift alarm: it pages when the WAPE of the last
    ``drift_window_days`` days with sales exceeds ``drift_factor`` times the training gate's
    ``max_wape``."""

    instance_type: MlInstanceType
    """The Forecast step's processing job instance type."""
    volume_size_gb: int = Field(ge=1, le=512)
    """The job's volume (1-512 GB)."""
    max_runtime_minutes: int = Field(ge=5, le=1440)
    """A job is stopped after this long (5-1440 minutes)."""
    drift_factor: float = Field(ge=1, le=10)
    """The drift alarm pages when the recent WAPE exceeds this (1-10) times `training.max_wape`."""
    drift_window_days: int = Field(ge=1, le=90)
    """"Recent": the forecast days with sales among this many (1-90) before the one forecast."""


class ServerlessEndpointSettings(_Strict):
    """Serverless inference: memory size and concurrency; nothing runs (or costs) between requests."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    """Memory of serverless inference (1024-6144 in 1024 steps)."""
    max_concurrency: int = Field(ge=1, le=200)
    """Concurrent invocations (1-200)."""


class InstanceEndpointSettings(_Strict):
    """Instance-based inference with target-tracking auto scaling and data capture to the lake."""

    instance_type: MlInstanceType
    """The endpoint's instance type."""
    min_instances: int = Field(ge=1, le=20)
    """Auto scaling's floor (1-20)."""
    max_instances: int = Field(ge=1, le=100)
    """Auto scaling's ceiling (1-100, at least `min_instances`)."""
    invocations_per_instance: int = Field(ge=1, le=100000)
    """Auto scaling's target: invocations per instance per minute."""
    data_capture_percent: int = Field(ge=1, le=100)
    """Share (1-100) of requests and answers captured into the captures bucket."""

    @model_validator(mode="after")
    def _limits(self) -> InstanceEndpointSettings:
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances {self.min_instances} exceeds max_instances {self.max_instances}")
        return self


class EndpointSettings(_Strict):
    """The endpoint's kind (set exactly one of ``serverless`` and ``instances``) and its latency alarm:
    ``latency_alarm_ms`` is the p90 model latency that, held for 15 minutes, raises an alarm."""

    serverless: ServerlessEndpointSettings | None = None
    """Serverless inference: nothing runs (or costs) between requests; set this or `instances`."""
    instances: InstanceEndpointSettings | None = None
    """Instance-based inference with auto scaling and data capture; set this or `serverless`."""
    latency_alarm_ms: int = Field(ge=1, le=60_000)
    """p90 model latency (1-60000 ms) that, held for 15 minutes, alarms; any 5xx answer alarms too."""

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
    """The user profile and private space (letters, digits and inner hyphens, at most 63; distinct ignoring
    case)."""
    role: Literal["data_scientist", "lead"]
    """`data_scientist`, or `lead` (also approves models)."""

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
    """The Studio domain (stack `<prefix>-<env>-studio`; needs `sagemaker.enabled`)."""
    auth: Literal["iam", "sso"]
    """How users sign in: `iam`, or `sso` (IAM Identity Center)."""
    users: list[StudioUser] = Field(max_length=50)
    """The people in the workspace (at most 50); each gets a user profile and a private JupyterLab space."""
    default_instance_type: MlInstanceType
    """What a JupyterLab app starts on (one of `allowed_instance_types`)."""
    allowed_instance_types: list[MlInstanceType] = Field(min_length=1, max_length=20)
    """All a JupyterLab app may run on (1-20)."""
    idle_minutes: int
    """An idle JupyterLab app stops after this long (60-525600 minutes); users may shorten it, never lengthen
    it."""
    space_volume_gb: int = Field(ge=5, le=16_384)
    """Each private space's volume (5-16384 GB)."""

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
    """`automatic`: a model that passes the gate is approved and deployed; `manual`: it waits in the registry,
    and approving it deploys it."""
    training: TrainingSettings
    """The training job and its gate."""
    forecast: ForecastSettings
    """The Forecast step and the drift alarm."""
    endpoint: EndpointSettings
    """The forecast endpoint."""
    studio: StudioSettings
    """The data scientists' workspace."""
    log_retention_days: LogRetentionDays
    """How long the state machines', the endpoint's and the custom resources' logs are kept (a CloudWatch Logs
    retention value)."""
