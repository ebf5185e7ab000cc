"""The Studio clean-up custom resource under the provider framework's contract, against botocore's
Stubber: apps first, then (destroying) spaces, profiles and the domain with its EFS, one step per
check; nothing but apps when the stack retains data; a failed deletion or a long wait fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from workloads.sagemaker import studio_cleanup
from workloads.sagemaker.studio_cleanup import (
    STARTED,
    WAIT_LIMIT_SECONDS,
    CleanupFailed,
    is_complete,
    on_event,
)

DOMAIN = "d-abcdef123456"
NOW = 1_800_000_000.0


def _event(request: str, delete_domain: bool) -> dict[str, Any]:
    return {
        "RequestType": request,
        "PhysicalResourceId": f"{DOMAIN}-cleanup",
        "ResourceProperties": {"DomainId": DOMAIN, "DeleteDomain": "true" if delete_domain else "false"},
        STARTED: NOW,
    }


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("sagemaker", region_name="eu-west-1")
    monkeypatch.setattr(studio_cleanup, "_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _apps(stub: Stubber, *apps: tuple[str, str, str]) -> None:
    """ListApps answering (owner kind, owner, status) apps."""
    listed = [
        {"DomainId": DOMAIN, "AppType": "JupyterLab", "AppName": "default", owner: name, "Status": status}
        for owner, name, status in apps
    ]
    stub.add_response("list_apps", {"Apps": listed}, {"DomainIdEquals": DOMAIN})


def _listed(stub: Stubber, operation: str, key: str, name: str, *items: tuple[str, str]) -> None:
    stub.add_response(
        operation,
        {key: [{"DomainId": DOMAIN, name: n, "Status": s} for n, s in items]},
        {"DomainIdEquals": DOMAIN},
    )


def test_create_and_update_do_nothing(stub: Stubber) -> None:
    for request in ("Create", "Update"):
        assert on_event(_event(request, True), None, now=NOW)["PhysicalResourceId"] == f"{DOMAIN}-cleanup"
        assert is_complete(_event(request, True), None, now=NOW) == {"IsComplete": True}


def test_delete_stops_the_apps_first_and_waits_for_them(stub: Stubber) -> None:
    _apps(
        stub,
        ("SpaceName", "ana", "InService"),
        ("UserProfileName", "ana", "Failed"),
        ("SpaceName", "bo", "Pending"),  # SageMaker deletes only apps in service: asked at a later check
    )
    stub.add_response(
        "delete_app",
        {},
        {"DomainId": DOMAIN, "AppType": "JupyterLab", "AppName": "default", "SpaceName": "ana"},
    )
    on_event(_event("Delete", True), None, now=NOW)
    _apps(stub, ("SpaceName", "ana", "Deleting"))  # deleting: not asked again, not done
    assert is_complete(_event("Delete", True), None, now=NOW + 30) == {"IsComplete": False}


def test_retaining_stops_the_apps_and_keeps_spaces_profiles_and_domain(stub: Stubber) -> None:
    _apps(stub, ("SpaceName", "ana", "Deleted"))
    assert is_complete(_event("Delete", False), None, now=NOW + 30) == {"IsComplete": True}


def test_destroying_deletes_spaces_then_profiles_then_the_domain_with_its_efs(stub: Stubber) -> None:
    event = _event("Delete", True)
    # spaces left: delete them, do not touch profiles yet
    _apps(stub)
    _listed(stub, "list_spaces", "Spaces", "SpaceName", ("ana", "InService"), ("bo", "Deleting"))
    stub.add_response("delete_space", {}, {"DomainId": DOMAIN, "SpaceName": "ana"})
    assert is_complete(event, None, now=NOW + 30) == {"IsComplete": False}
    # spaces gone, profiles left
    _apps(stub)
    _listed(stub, "list_spaces", "Spaces", "SpaceName")
    _listed(stub, "list_user_profiles", "UserProfiles", "UserProfileName", ("ana", "InService"))
    stub.add_response("delete_user_profile", {}, {"DomainId": DOMAIN, "UserProfileName": "ana"})
    assert is_complete(event, None, now=NOW + 60) == {"IsComplete": False}
    # all gone but the domain: delete it with its home file system
    _apps(stub)
    _listed(stub, "list_spaces", "Spaces", "SpaceName")
    _listed(stub, "list_user_profiles", "UserProfiles", "UserProfileName")
    stub.add_response("describe_domain", {"Status": "InService"}, {"DomainId": DOMAIN})
    stub.add_response(
        "delete_domain", {}, {"DomainId": DOMAIN, "RetentionPolicy": {"HomeEfsFileSystem": "Delete"}}
    )
    assert is_complete(event, None, now=NOW + 90) == {"IsComplete": False}
    # the domain is gone: done (CloudFormation then finds each resource deleted)
    _apps(stub)
    _listed(stub, "list_spaces", "Spaces", "SpaceName")
    _listed(stub, "list_user_profiles", "UserProfiles", "UserProfileName")
    stub.add_client_error("describe_domain", "ResourceNotFound", "Domain not found")
    assert is_complete(event, None, now=NOW + 120) == {"IsComplete": True}


def test_a_space_sagemaker_failed_to_delete_fails_with_its_name(stub: Stubber) -> None:
    _apps(stub)
    _listed(stub, "list_spaces", "Spaces", "SpaceName", ("ana", "Delete_Failed"))
    with pytest.raises(CleanupFailed, match="space ana"):
        is_complete(_event("Delete", True), None, now=NOW + 30)


def test_a_wait_past_the_limit_fails(stub: Stubber) -> None:
    _apps(stub, ("SpaceName", "ana", "Deleting"))
    with pytest.raises(CleanupFailed, match="within 50 minutes"):
        is_complete(_event("Delete", False), None, now=NOW + WAIT_LIMIT_SECONDS + 1)
