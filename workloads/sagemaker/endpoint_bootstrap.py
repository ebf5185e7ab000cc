"""The forecast endpoint's CloudFormation custom resource: create it once, never roll it back.

CloudFormation creates the endpoint through this resource with the baseline endpoint config, so a
fresh deployment serves a model with no manual step. From then on the deploy state machine owns
what the endpoint serves (it calls ``UpdateEndpoint`` with each promoted model), and a stack update
leaves the endpoint alone: a new baseline or new endpoint settings never replace a promoted model.

Create adopts a healthy endpoint of the same name as it is, waits for one that is still being
created or updated, and replaces one that failed. It then waits until the endpoint is in service,
so resources that need it (auto scaling) follow, polling while the function has more than a poll
interval left; an endpoint that fails, or is not in service in time, fails the deployment with the
reason. The resource's ID is the endpoint's name from the start, so the Delete of a rollback finds
an endpoint whose creation failed. Delete waits out a change in progress, deletes the endpoint
and waits until it is gone (compute, not data: artifacts stay in the lake).

Properties: ``EndpointName``, ``EndpointConfigName`` (the baseline's), ``Tags`` (key -> value,
given to a new endpoint). Attribute: ``EndpointName``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from workloads.custom_resource import answer

POLL_SECONDS = 20
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"})
RemainingMs = Callable[[], int]


class EndpointFailed(RuntimeError):
    """SageMaker gave up on the endpoint, or it did not settle in time."""


def _status(client: Any, name: str) -> str | None:
    """The endpoint's status, or None when there is no such endpoint."""
    try:
        status: str = client.describe_endpoint(EndpointName=name)["EndpointStatus"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException" and "Could not find" in str(error):
            return None
        raise
    return status


def _reason(client: Any, name: str) -> str:
    return str(client.describe_endpoint(EndpointName=name).get("FailureReason", "no reason given"))


def pause(seconds: float) -> None:
    """Wait between polls (its own function, so tests replace it without touching ``time``)."""
    time.sleep(seconds)


def settle(client: Any, name: str, remaining_ms: RemainingMs) -> str | None:
    """Poll while endpoint ``name`` is changing; its status once it is not (None: it is gone)."""
    while True:
        status = _status(client, name)
        if status not in IN_PROGRESS and status != "Deleting":
            return status
        if remaining_ms() < (POLL_SECONDS + 10) * 1000:
            raise EndpointFailed(f"endpoint {name} is still {status}; the function ran out of time waiting")
        pause(POLL_SECONDS)


def create(client: Any, properties: dict[str, Any], remaining_ms: RemainingMs) -> None:
    """Make endpoint ``EndpointName`` serve: adopt it, wait for it, or (re)create it from
    ``EndpointConfigName``; raise :class:`EndpointFailed` unless it ends in service."""
    name = properties["EndpointName"]
    status = settle(client, name, remaining_ms)
    if status in ("Failed", "OutOfService"):
        client.delete_endpoint(EndpointName=name)  # it serves nothing; start over from the baseline
        status = settle(client, name, remaining_ms)
    if status is None:
        tags = [{"Key": key, "Value": value} for key, value in sorted(properties.get("Tags", {}).items())]
        client.create_endpoint(
            EndpointName=name, EndpointConfigName=properties["EndpointConfigName"], Tags=tags
        )
        status = settle(client, name, remaining_ms)
    if status != "InService":
        raise EndpointFailed(f"endpoint {name} is {status}: {_reason(client, name)}")


def delete(client: Any, name: str, remaining_ms: RemainingMs) -> None:
    """Delete endpoint ``name`` once no change is in progress, and wait until it is gone."""
    if settle(client, name, remaining_ms) is None:
        return
    client.delete_endpoint(EndpointName=name)
    if settle(client, name, remaining_ms) is not None:
        raise EndpointFailed(f"endpoint {name} was not deleted")


def handler(event: dict[str, Any], context: Any) -> None:
    """Create (or adopt) the endpoint, leave it alone on update, delete it with the stack."""
    request, properties = event["RequestType"], event["ResourceProperties"]
    name: str = properties["EndpointName"]
    creates = request == "Create" or (request == "Update" and name != event["PhysicalResourceId"])
    if creates:  # a renamed endpoint is a new one; CloudFormation then deletes the old one
        event = {**event, "PhysicalResourceId": name}

    def work() -> tuple[str, dict[str, str]]:
        client = boto3.client("sagemaker")
        remaining = context.get_remaining_time_in_millis
        if creates:
            create(client, properties, remaining)
        elif request == "Delete":
            delete(client, event["PhysicalResourceId"], remaining)
        elif request != "Update":
            raise ValueError(f"unknown RequestType {request!r}")
        physical_id: str = event["PhysicalResourceId"]
        return physical_id, {"EndpointName": physical_id}

    answer(event, work)
