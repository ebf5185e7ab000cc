"""What every settings section shares: strict models, the service switch, checked types and helpers."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,576}$")


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


def _distinct_matches(values: list[str], pattern: re.Pattern[str], problem: str, item: str) -> list[str]:
    """``values`` if each matches ``pattern`` (else ``'<value>' <problem>``) and none repeats."""
    for value in values:
        if not pattern.match(value):
            raise ValueError(f"{value!r} {problem}")
    if len(set(values)) != len(values):
        raise ValueError(f"lists {item} more than once")
    return values


class _Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are not coerced between types; the
    docstring under each field is its description (``docs/configuration.md`` shows it)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)


_NOT_A_ROLE = "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"


class ServiceSettings(_Strict):
    """A platform service that has nothing to configure yet but its switch. Off leaves its stack
    and its VPC interface endpoints out."""

    enabled: bool
    """Whether the environment runs the service; off leaves its stack (and its interface endpoints) out."""
