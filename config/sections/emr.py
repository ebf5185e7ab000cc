"""Settings of the EMR feature run: EMR Serverless, transient clusters and the long-running cluster."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from config.sections.common import LogRetentionDays, ServiceSettings, _Strict

_INSTANCE_TYPE = re.compile(
    r"^[a-z][a-z0-9]*[0-9][a-z0-9]*(-flex)?\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal(-[0-9]+xl)?)$"
)


InstanceType = Annotated[str, Field(pattern=_INSTANCE_TYPE.pattern)]
"""An EC2 instance type name, e.g. ``m7g.xlarge``."""


class EmrClusterSettings(_Strict):
    """The long-running EMR cluster: whether it exists, its managed-scaling limits, idle shutdown."""

    enabled: bool
    """The long-running cluster (the scheduled feature run uses `emr.feature_runs_on` either way)."""
    min_units: int = Field(ge=1, le=2000)
    """Managed scaling's floor in instances (primary excluded), 1-2000; the core fleet holds it."""
    max_units: int = Field(ge=1, le=2000)
    """Managed scaling's ceiling (more than `min_units`); the task fleet holds the rest."""
    idle_timeout_seconds: int = Field(ge=60, le=604_800)
    """EMR terminates an idle cluster after this long (60 s - 7 days)."""
    generation: int = Field(ge=1)
    """Part of the cluster's name: bump it to get a new cluster after an idle termination."""

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
    """The most vCPUs the application holds at once, all workers together."""
    max_memory_gb: int = Field(ge=8, le=3000)
    """The most memory it holds at once, in GB."""
    max_disk_gb: int = Field(ge=20, le=20_000)
    """The most disk it holds at once, in GB."""
    idle_timeout_minutes: int = Field(ge=1, le=10080)
    """A started application stops after this long without jobs (1-10080 minutes)."""


class EmrSettings(ServiceSettings):
    """Amazon EMR: release, instance fleets, spot share, step concurrency, TLS certificates, the
    long-running cluster (``cluster``), and which engine runs the scheduled feature step
    (``feature_runs_on``: an EMR Serverless application sized by ``serverless``, or a transient
    cluster of the same fleets as the long-running one).

    Generated certificates (``certificates_zip: null``) are valid ``certificate_validity_days``;
    raising ``certificate_rotation`` (or changing the validity) makes a new key and certificate at
    the next deploy, before the old one expires."""

    release_label: str = Field(pattern=r"^emr-7\.\d{1,2}\.\d{1,2}$")
    """`emr-7.x.y` (Spark 3.5, the version the workload tests run)."""
    feature_runs_on: Literal["serverless", "transient_cluster"]
    """The engine of the scheduled feature run: an EMR Serverless application, or a transient
    cluster per run."""
    serverless: EmrServerlessSettings
    """The EMR Serverless application's limits."""
    primary_instance_type: InstanceType
    """EC2 instance type of the clusters' primary node."""
    core_instance_types: list[InstanceType] = Field(min_length=1, max_length=5)
    """EC2 instance types of the core fleet (1-5)."""
    task_instance_types: list[InstanceType] = Field(max_length=15)
    """EC2 instance types of the task fleet (with spot, at least two distinct)."""
    task_spot_percent: int = Field(ge=0, le=100)
    """Share (0-100) of the task fleet on spot, the rest on demand."""
    step_concurrency: int = Field(ge=1, le=256)
    """Steps a cluster runs at once (1-256)."""
    step_timeout_minutes: int = Field(ge=10, le=1440)
    """A feature run's Spark step (transient cluster, then terminated) or job (serverless, cancelled) is
    stopped after this long (10-1440 minutes)."""
    certificates_zip: str | None = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.zip$")
    """`s3://…/….zip` of your own TLS certificates (the PEM zip EMR reads), or null to generate them at deploy
    time."""
    certificate_validity_days: int = Field(ge=30, le=1825)
    """Lifetime of generated certificates (30-1825 days); their zips are deleted 30 days after they expire."""
    certificate_rotation: int = Field(ge=1)
    """A counter (at least 1) to raise, before expiry, for a new key and certificate at the next deploy."""
    log_retention_days: LogRetentionDays
    """How long the clean-up functions' and the state machine's logs are kept (a CloudWatch Logs retention
    value)."""
    cluster: EmrClusterSettings
    """The long-running cluster."""

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
