"""The forecast endpoint's custom resource, on CDK's provider framework: create it once, never
roll it back, and wait for SageMaker as long as the framework allows rather than one invocation.

CloudFormation creates the endpoint through this resource with the baseline endpoint config, so a
fresh deployment serves a model with no manual step. From then on the deploy state machine owns
what the endpoint serves (it calls ``UpdateEndpoint`` with each promoted model), and a stack update
leaves the endpoint alone: a new baseline or new endpoint settings never replace a promoted model.

:func:`on_event` starts the work and returns at once: Create adopts an endpoint of the same name
as it is (or waits for one being created or updated), deletes one that failed so it is made again,
and otherwise creates it; Delete deletes it unless a change is in progress or it is gone. The
framework then calls :func:`is_complete` every few seconds until it answers ``IsComplete``: Create
waits until the endpoint is in service (an endpoint that fails ends the deployment with SageMaker's
reason), Delete waits out a change in progress, deletes, and waits until the endpoint is gone (an
endpoint already gone is fine, so a rollback's Delete after a failed Create never wedges the stack;
a delete SageMaker refuses because the endpoint is changing is tried again at the next check).
SageMaker may refuse to create an endpoint for a while after one of the same name was deleted: the
next check tries again. While a Create replaces a failed endpoint, SageMaker may still describe the
old one as failed after its deletion: one created before the request started is that old endpoint.
The resource's ID is the endpoint's name from the start, so that rollback finds it. A wait longer
than :data:`WAIT_LIMIT_SECONDS` fails with where the endpoint is, before the framework's own limit.

Properties: ``EndpointName``, ``EndpointConfigName`` (the baseline's), ``Tags`` (key -> value,
given to a new endpoint). Attribute: ``EndpointName``.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
SERVING = frozenset({"InService", "UpdateRollbackFailed"})
"""Statuses of an endpoint that answers requests (an update whose rollback failed still serves)."""
REPLACED = frozenset({"Failed", "OutOfService"})
"""Statuses of an endpoint that serves nothing: Create deletes it and starts over."""
WAIT_LIMIT_SECONDS = 50 * 60
"""How long a Create or Delete may wait for SageMaker (the framework's limit is a little longer)."""
REPLACING = "Replacing"
"""Where :func:`on_event` notes (``"true"``) that it deleted a failed endpoint to make it again."""
STARTED = "StartedAt"
"""Where :func:`on_event` notes when the work started; the framework passes it to :func:`is_complete`."""


class EndpointFailed(RuntimeError):
    """SageMaker gave up on the endpoint, or it did not settle in time."""


def _client() -> Any:
    return boto3.client("sagemaker")


def _described(client: Any, name: str) -> dict[str, Any] | None:
    """``DescribeEndpoint`` of ``name``, or None when there is no such endpoint."""
    try:
        described: dict[str, Any] = client.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if _is_missing(error):
            return None
        raise
    return described


def _invalid(error: ClientError, saying: str = "") -> bool:
    """Whether SageMaker refused the call as invalid (``ValidationException``) with ``saying`` in
    its message."""
    return error.response["Error"]["Code"] == "ValidationException" and saying in str(error)


def _is_missing(error: ClientError) -> bool:
    return _invalid(error, "Could not find")


def _delete(client: Any, name: str, *, retried: bool = False) -> None:
    """Delete endpoint ``name``; one already gone is fine. With ``retried`` (the caller checks again
    and calls again), so is any refusal as invalid: the endpoint is in a change that forbids it."""
    try:
        client.delete_endpoint(EndpointName=name)
    except ClientError as error:
        if not (_invalid(error) if retried else _is_missing(error)):
            raise


def _create(client: Any, properties: dict[str, Any]) -> None:
    """Create the endpoint from the baseline config. SageMaker refuses for a while after an endpoint
    of the same name was deleted ("Cannot create already existing endpoint", see
    hashicorp/terraform-provider-aws#40080): that returns too, and the next check sees no endpoint
    and calls again."""
    tags = [{"Key": key, "Value": value} for key, value in sorted(properties.get("Tags", {}).items())]
    try:
        client.create_endpoint(
            EndpointName=properties["EndpointName"],
            EndpointConfigName=properties["EndpointConfigName"],
            Tags=tags,
        )
    except ClientError as error:
        if not _invalid(error, "Cannot create already existing endpoint"):
            raise


def _replaced(event: dict[str, Any], described: dict[str, Any]) -> bool:
    """Whether ``described`` is the failed endpoint that :func:`on_event` deleted to make it again,
    still described as it was: one created before the request started (a new one is created after)."""
    replacing = event.get(REPLACING) == "true"
    return replacing and bool(described["CreationTime"].timestamp() < float(event[STARTED]))


def _creates(event: dict[str, Any]) -> bool:
    """Whether the request makes an endpoint: a Create, or an Update that renames it (a new
    endpoint; CloudFormation then deletes the old one)."""
    request = event["RequestType"]
    renamed = event["ResourceProperties"]["EndpointName"] != event.get("PhysicalResourceId")
    return bool(request == "Create" or (request == "Update" and renamed))


def on_event(event: dict[str, Any], context: Any, now: float | None = None) -> dict[str, Any]:
    """Start the request's work; answer the physical ID (the endpoint's name), the attribute, when
    it started and whether it deleted a failed endpoint to make it again."""
    request, properties = event["RequestType"], event["ResourceProperties"]
    started: dict[str, Any] = {STARTED: time.time() if now is None else now}
    if _creates(event):
        name: str = properties["EndpointName"]
        client = _client()
        described = _described(client, name)
        if described is None:
            _create(client, properties)
        elif described["EndpointStatus"] in REPLACED:
            _delete(client, name)  # it serves nothing; is_complete makes it again from the baseline
            started[REPLACING] = "true"
        return {"PhysicalResourceId": name, "Data": {"EndpointName": name}, **started}
    physical_id: str = event["PhysicalResourceId"]
    if request == "Delete":
        client = _client()
        described = _described(client, physical_id)
        if described is not None and described["EndpointStatus"] not in IN_PROGRESS | {"Deleting"}:
            _delete(client, physical_id)
    elif request != "Update":
        raise ValueError(f"unknown RequestType {request!r}")
    return {"PhysicalResourceId": physical_id, "Data": {"EndpointName": physical_id}, **started}


def is_complete(event: dict[str, Any], context: Any, now: float | None = None) -> dict[str, Any]:
    """Whether the request's work is done; raises :class:`EndpointFailed` (the framework then
    fails the request with its message) when the endpoint failed or the wait was too long."""
    request, name = event["RequestType"], event["PhysicalResourceId"]
    if request == "Update" and not _creates(event):
        return {"IsComplete": True}  # the deploy state machine owns what the endpoint serves
    client = _client()
    described = _described(client, name) or {}
    status = described.get("EndpointStatus")
    if request == "Delete":
        if status is None:
            return {"IsComplete": True}
        if status not in IN_PROGRESS | {"Deleting"}:
            _delete(client, name, retried=True)
    elif status in SERVING:
        return {"IsComplete": True}
    elif status is None:
        _create(client, event["ResourceProperties"])  # the failed one it replaces is gone
    elif status in REPLACED and _replaced(event, described):
        _delete(client, name, retried=True)  # the old endpoint: its deletion is in progress
    elif status in REPLACED:
        reason = described.get("FailureReason", "no reason given")
        raise EndpointFailed(f"endpoint {name} is {status}: {reason}")
    waited = (time.time() if now is None else now) - float(event[STARTED])
    if waited > WAIT_LIMIT_SECONDS:
        raise EndpointFailed(
            f"endpoint {name} is still {status or 'being created'} after {int(waited // 60)} minutes "
            f"({request}); see it with: aws sagemaker describe-endpoint --endpoint-name {name}"
        )
    return {"IsComplete": False}
