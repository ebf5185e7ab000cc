"""Answering CloudFormation from a Lambda-backed custom resource, without CDK's provider framework."""

from __future__ import annotations

import json
import traceback
import urllib.request
from collections.abc import Callable
from typing import Any

Work = Callable[[], tuple[str, dict[str, str]]]
"""Does the request's work; returns the physical resource ID and the attributes to expose."""


def respond(
    event: dict[str, Any],
    status: str,
    physical_id: str,
    *,
    reason: str = "",
    data: dict[str, str] | None = None,
) -> None:
    """PUT the answer to the request's pre-signed ``ResponseURL``."""
    body = {
        "Status": status,
        "Reason": reason[:1000] or "see the function's CloudWatch logs",
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def answer(event: dict[str, Any], work: Work) -> None:
    """Run ``work`` and report SUCCESS with its result, or FAILED with the error: CloudFormation
    always hears back, so a failure fails the deployment at once instead of after an hour."""
    physical_id = event.get("PhysicalResourceId", event["LogicalResourceId"])
    try:
        physical_id, data = work()
    except Exception as error:
        traceback.print_exc()
        respond(event, "FAILED", physical_id, reason=f"{type(error).__name__}: {error}")
        return
    respond(event, "SUCCESS", physical_id, data=data)
