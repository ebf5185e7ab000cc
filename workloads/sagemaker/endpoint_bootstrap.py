"""The forecast endpoint's CloudFormation custom resource: create it once, never roll it back.

CloudFormation creates the endpoint through this resource with the baseline endpoint config, so a
fresh deployment serves a model with no manual step. From then on the deploy state machine owns
what the endpoint serves (it calls ``UpdateEndpoint`` with each promoted model), and a stack update
leaves the endpoint alone: a new baseline or new endpoint settings never replace a promoted model.
An existing endpoint of the same name is adopted as it is. Deleting the stack deletes the endpoint
(compute, not data: the models stay in the registry and the artifacts in the lake).

Create waits until the endpoint is in service, so resources that need it (auto scaling) follow,
polling until the function has less than a poll interval left; an endpoint that fails or is still
creating then fails the deployment with the reason. Properties: ``EndpointName``,
``EndpointConfigName`` (the baseline's). Attribute: ``EndpointName``.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from workloads.custom_resource import answer

POLL_SECONDS = 20


class EndpointFailed(RuntimeError):
    """SageMaker gave up on the endpoint, or it was not in service in time."""


def _status(client: Any, name: str) -> dict[str, Any] | None:
    """``DescribeEndpoint`` of ``name``, or None when there is no such endpoint."""
    try:
        description: dict[str, Any] = client.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException" and "Could not find" in str(error):
            return None
        raise
    return description


def wait_until(client: Any, name: str, wanted: str | None, remaining_ms: Any) -> None:
    """Poll until endpoint ``name`` has status ``wanted`` (None: until it is gone)."""
    while True:
        description = _status(client, name)
        status = None if description is None else description["EndpointStatus"]
        if status == wanted:
            return
        if description is None or status == "Failed":
            reason = (
                "it does not exist" if description is None else description.get("FailureReason", "no reason")
            )
            raise EndpointFailed(f"endpoint {name} did not reach {wanted}: {reason}")
        if remaining_ms() < (POLL_SECONDS + 10) * 1000:
            raise EndpointFailed(f"endpoint {name} is still {status}; the function ran out of time waiting")
        time.sleep(POLL_SECONDS)


def create(client: Any, properties: dict[str, Any], remaining_ms: Any) -> str:
    """Create endpoint ``EndpointName`` from ``EndpointConfigName`` unless it exists; wait for it."""
    name: str = properties["EndpointName"]
    if _status(client, name) is None:
        client.create_endpoint(EndpointName=name, EndpointConfigName=properties["EndpointConfigName"])
        wait_until(client, name, "InService", remaining_ms)
    return name


def handler(event: dict[str, Any], context: Any) -> None:
    """Create (or adopt) the endpoint, leave it alone on update, delete it with the stack."""

    def work() -> tuple[str, dict[str, str]]:
        client = boto3.client("sagemaker")
        request, properties = event["RequestType"], event["ResourceProperties"]
        remaining = context.get_remaining_time_in_millis
        if request == "Create" or (
            request == "Update" and properties["EndpointName"] != event["PhysicalResourceId"]
        ):
            name = create(
                client, properties, remaining
            )  # a renamed endpoint is a new one; CloudFormation deletes the old
        elif request == "Update":
            name = event["PhysicalResourceId"]
        elif request == "Delete":
            name = event["PhysicalResourceId"]
            if _status(client, name) is not None:
                client.delete_endpoint(EndpointName=name)
                wait_until(client, name, None, remaining)
        else:
            raise ValueError(f"unknown RequestType {request!r}")
        return name, {"EndpointName": name}

    answer(event, work)
