"""The Studio domain's clean-up custom resource, on CDK's provider framework: what CloudFormation
cannot delete by itself when the stack (or the domain) goes.

Users start JupyterLab apps at run time; CloudFormation knows none of them, and SageMaker refuses to
delete a space or user profile that still has a running app, or a domain that still has spaces or
profiles. CloudFormation also deletes a domain keeping its home EFS file system (``DeleteDomain``'s
default ``RetentionPolicy``), with the users' files and the network interfaces of its mount targets.

This resource depends on the domain, its profiles and spaces, so CloudFormation deletes it first.
On Delete, :func:`on_event` starts deleting the domain's apps and returns; the framework then calls
:func:`is_complete` until it answers ``IsComplete``: it waits until every app is deleted (or failed,
which no longer blocks; a pending app is deleted once it is in service) and, with ``DeleteDomain``
``"true"`` (the stack destroys data), goes on to delete the spaces, then the user profiles, then the
domain with its EFS file system (which SageMaker's service-linked role removes), each step once the
previous one is done. CloudFormation then finds them gone, which its SageMaker handlers
take as deleted. With ``"false"`` the spaces, profiles, domain and EFS stay (the stack retains
them); only the apps, which cost money while they run, are stopped. A step SageMaker reports as
failed, or a wait longer than :data:`WAIT_LIMIT_SECONDS`, fails with what is left.
Create and Update do nothing.

Properties: ``DomainId``, ``DeleteDomain`` (``"true"`` or ``"false"``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.exceptions import ClientError

GONE = frozenset({"Deleted", "Failed"})
"""App statuses that no longer block deleting its space or profile."""
DELETABLE = "InService"
"""The only app status SageMaker deletes from; a pending app is waited for, then deleted."""
DELETING = "Deleting"
DELETE_FAILED = "Delete_Failed"
WAIT_LIMIT_SECONDS = 50 * 60
"""How long a Delete may wait for SageMaker (the framework's limit is a little longer)."""
STARTED = "StartedAt"
"""Where :func:`on_event` notes when the work started; the framework passes it to :func:`is_complete`."""


class CleanupFailed(RuntimeError):
    """SageMaker could not delete part of the domain, or it took too long."""


def _client() -> Any:
    return boto3.client("sagemaker")


def _listed(client: Any, operation: str, key: str, domain: str) -> Iterator[dict[str, Any]]:
    """Every item of a paginated ``List*`` call on ``domain``."""
    for page in client.get_paginator(operation).paginate(DomainIdEquals=domain):
        yield from page[key]


def _missing(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ResourceNotFound")


def _delete(call: Any, **arguments: Any) -> None:
    """One delete; something already gone is fine."""
    try:
        call(**arguments)
    except ClientError as error:
        if not _missing(error):
            raise


def _apps_left(client: Any, domain: str) -> int:
    """Start deleting every app that still blocks; how many are left."""
    left = 0
    for app in _listed(client, "list_apps", "Apps", domain):
        if app["Status"] in GONE:
            continue
        left += 1
        if app["Status"] == DELETABLE:  # a space's app names its space (and maybe its owner too)
            key = "SpaceName" if "SpaceName" in app else "UserProfileName"
            _delete(
                client.delete_app,
                DomainId=domain,
                AppType=app["AppType"],
                AppName=app["AppName"],
                **{key: app[key]},
            )
    return left


def _left(client: Any, domain: str, kind: str) -> int:
    """Start deleting every space (``kind`` ``space``) or user profile (``user_profile``); how many
    are left. One SageMaker failed to delete fails the request."""
    operation, key, name = {
        "space": ("list_spaces", "Spaces", "SpaceName"),
        "user_profile": ("list_user_profiles", "UserProfiles", "UserProfileName"),
    }[kind]
    left = 0
    for item in _listed(client, operation, key, domain):
        left += 1
        if item["Status"] == DELETE_FAILED:
            raise CleanupFailed(
                f"SageMaker failed to delete {kind.replace('_', ' ')} {item[name]} of {domain}"
            )
        if item["Status"] != DELETING:
            _delete(getattr(client, f"delete_{kind}"), DomainId=domain, **{name: item[name]})
    return left


def _domain_gone(client: Any, domain: str) -> bool:
    """Start deleting the domain with its home EFS file system; whether it is gone."""
    try:
        status = client.describe_domain(DomainId=domain)["Status"]
    except ClientError as error:
        if _missing(error):
            return True
        raise
    if status == DELETE_FAILED:
        raise CleanupFailed(f"SageMaker failed to delete domain {domain}")
    if status != DELETING:
        _delete(client.delete_domain, DomainId=domain, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    return False


def on_event(event: dict[str, Any], context: Any, now: float | None = None) -> dict[str, Any]:
    """Start deleting the apps on Delete; the physical ID names the domain."""
    domain = event["ResourceProperties"]["DomainId"]
    started = {STARTED: time.time() if now is None else now}
    if event["RequestType"] == "Delete":
        _apps_left(_client(), domain)
    return {"PhysicalResourceId": f"{domain}-cleanup", **started}


def is_complete(event: dict[str, Any], context: Any, now: float | None = None) -> dict[str, Any]:
    """Whether the request's work is done, taking the next step of it when the last one is."""
    if event["RequestType"] != "Delete":
        return {"IsComplete": True}
    properties = event["ResourceProperties"]
    domain = properties["DomainId"]
    client = _client()
    waited = (time.time() if now is None else now) - float(event[STARTED])
    done = _apps_left(client, domain) == 0
    if done and properties["DeleteDomain"] == "true":
        done = _left(client, domain, "space") == 0 and _left(client, domain, "user_profile") == 0
        done = done and _domain_gone(client, domain)
    if not done and waited > WAIT_LIMIT_SECONDS:
        raise CleanupFailed(f"domain {domain} was not cleaned up within {WAIT_LIMIT_SECONDS // 60} minutes")
    return {"IsComplete": done}
