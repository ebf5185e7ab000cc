"""A deployed environment as ``dsp`` sees it: its stacks' CloudFormation outputs and boto3 clients.

Every resource is found through the outputs listed in :mod:`stacks.outputs`, in the stacks named
``<prefix>-<env>-<suffix>`` of the environment's config, so no name is typed twice. AWS problems
become :class:`OpsError`, one line each: no credentials, no region, a stack that is not deployed,
an API call AWS refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

T = TypeVar("T")


class OpsError(Exception):
    """A problem ``dsp`` reports in one line and exits 1 for."""


def aws(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, with boto3's and AWS's errors turned into one-line :class:`OpsError`."""
    try:
        return call(*args, **kwargs)
    except NoCredentialsError as error:
        raise OpsError(
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from error
    except NoRegionError as error:
        raise OpsError("no AWS region: pass --region or set AWS_REGION") from error
    except EndpointConnectionError as error:
        raise OpsError(f"cannot reach AWS: {error}") from error
    except ClientError as error:
        raise OpsError(aws_message(error)) from error
    except BotoCoreError as error:
        raise OpsError(str(error)) from error


def aws_message(error: ClientError) -> str:
    """One line for an AWS error: operation, code and message."""
    details = error.response.get("Error", {})
    return f"{error.operation_name}: {details.get('Code', 'Error')}: {details.get('Message', '')}"


class Deployed:
    """One deployed environment: the stacks ``<name_prefix>-<suffix>`` and clients in one session."""

    def __init__(self, name_prefix: str, session: Any) -> None:
        """
        :param name_prefix: ``<prefix>-<env>`` from the environment's settings.
        :param session: a ``boto3.Session`` (profile and region chosen).
        """
        self.name_prefix = name_prefix
        self._session = session
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._outputs: dict[str, dict[str, str] | None] = {}

    @classmethod
    def connect(cls, name_prefix: str, *, profile: str | None, region: str | None) -> Deployed:
        """The environment in the session of ``profile`` and ``region`` (None: boto3's defaults)."""
        session = aws(boto3.Session, profile_name=profile, region_name=region)
        return cls(name_prefix, session)

    @property
    def region(self) -> str:
        """The session's region."""
        if not self._session.region_name:
            raise OpsError("no AWS region: pass --region or set AWS_REGION")
        return str(self._session.region_name)

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client of ``service`` (in ``region``; default: the session's), one per pair."""
        if (service, region) not in self._clients:
            self._clients[service, region] = aws(self._session.client, service, region_name=region)
        return self._clients[service, region]

    def offered_in(self, service: str) -> list[str]:
        """The regions botocore knows an endpoint of ``service`` in (its partition's)."""
        return list(self._session.get_available_regions(service))

    def stack_name(self, suffix: str) -> str:
        """The CloudFormation name of the stack with ``suffix``."""
        return f"{self.name_prefix}-{suffix}"

    def outputs(self, suffix: str) -> dict[str, str] | None:
        """The outputs of the stack with ``suffix``, or None when it is not deployed (service off)."""
        if suffix not in self._outputs:
            self._outputs[suffix] = aws(self._describe, self.stack_name(suffix))
        return self._outputs[suffix]

    def _describe(self, name: str) -> dict[str, str] | None:
        """The outputs of stack ``name``; None when it does not exist."""
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
            return None
        return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

    def output(self, suffix: str, key: str) -> str:
        """One output of a stack that must be deployed."""
        outputs = self.outputs(suffix)
        if outputs is None:
            raise OpsError(
                f"stack {self.stack_name(suffix)} is not deployed in this account and region "
                "(is the service enabled, and are --env, --profile and --region right?)"
            )
        if key not in outputs:
            raise OpsError(f"stack {self.stack_name(suffix)} has no output {key}: deploy the current version")
        return outputs[key]
