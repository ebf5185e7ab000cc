"""The endpoint custom resource's handlers under the CDK provider framework's contract, against
moto's SageMaker server and botocore's Stubber: created once from the baseline, never rolled back
by an update, deleted with the stack, waiting across calls instead of inside one invocation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.workloads.conftest import custom_resource_event
from workloads.sagemaker import endpoint_bootstrap
from workloads.sagemaker.endpoint_bootstrap import (
    REPLACING,
    STARTED,
    WAIT_LIMIT_SECONDS,
    EndpointFailed,
    is_complete,
    on_event,
)

ENDPOINT = "dsp-dev-forecast"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/{ENDPOINT}"
ROLE = "arn:aws:iam::123456789012:role/model"
URL = "https://cloudformation-custom-resource-response.example/presigned"
"""The handlers never answer CloudFormation themselves: the framework does."""
POLLS = 10


@pytest.fixture(scope="module")
def sagemaker(moto: str) -> Any:
    """A model and two endpoint configs: the stack's baseline and one the pipeline promoted."""
    client = boto3.client("sagemaker")
    client.create_model(
        ModelName="model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "image", "ModelDataUrl": "s3://a/m"},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "model",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
    }
    for config in ("baseline", "baseline-2", "promoted"):
        client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant])
    return client


@pytest.fixture
def clean(sagemaker: Any) -> Iterator[Any]:
    yield sagemaker
    if ENDPOINT in [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]:
        sagemaker.delete_endpoint(EndpointName=ENDPOINT)


def _event(request: str, config: str, physical_id: str | None = None, **properties: Any) -> dict[str, Any]:
    return custom_resource_event(
        request,
        URL,
        {"EndpointName": ENDPOINT, "EndpointConfigName": config, **properties},
        physical_id,
        logical_id="Endpoint",
    )


def provide(event: dict[str, Any]) -> dict[str, Any]:
    """What the provider framework does: ``on_event``, its answer merged into the event, then
    ``is_complete`` until it is; the merged answer CloudFormation receives."""
    started = on_event(event, None)
    assert started["PhysicalResourceId"]  # the framework requires it
    waiting = {**event, **started}
    for _ in range(POLLS):
        answer = is_complete(waiting, None)
        if answer["IsComplete"]:
            return {**waiting, **answer, "Data": {**waiting.get("Data", {}), **answer.get("Data", {})}}
        assert "Data" not in answer  # the framework refuses Data before the work is complete
    raise AssertionError(f"not complete after {POLLS} checks")


def test_create_makes_the_endpoint_from_the_baseline_and_answers_with_its_name(clean: Any) -> None:
    answer = provide(_event("Create", "baseline"))
    assert answer["PhysicalResourceId"] == ENDPOINT and answer["Data"] == {"EndpointName": ENDPOINT}
    described = clean.describe_endpoint(EndpointName=ENDPOINT)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "baseline")


def test_an_update_never_rolls_back_a_promoted_model(clean: Any) -> None:
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="promoted")  # as the pipeline left it
    answer = provide(
        _event("Update", "baseline-2", ENDPOINT) | {"OldResourceProperties": {"EndpointName": ENDPOINT}}
    )
    assert answer["PhysicalResourceId"] == ENDPOINT
    assert clean.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "promoted"


def test_create_adopts_an_existing_endpoint_as_it_is(clean: Any) -> None:
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="promoted")
    provide(_event("Create", "baseline"))
    assert clean.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "promoted"


def test_delete_removes_the_endpoint_and_tolerates_one_already_gone(clean: Any) -> None:
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="baseline")
    for _ in range(2):
        assert provide(_event("Delete", "baseline", ENDPOINT))["PhysicalResourceId"] == ENDPOINT
    assert clean.list_endpoints()["Endpoints"] == []


def test_a_missing_config_fails_the_create_before_anything_exists(clean: Any) -> None:
    """``on_event`` raises: the framework fails the Create with the message and ignores the
    rollback's Delete (nothing was made)."""
    with pytest.raises(ClientError, match="no-such-config"):
        on_event(_event("Create", "no-such-config"), None)
    assert clean.list_endpoints()["Endpoints"] == []


def test_an_unknown_request_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Rename"):
        on_event(_event("Rename", "baseline", ENDPOINT), None)


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A SageMaker client with botocore's Stubber, handed to the handlers."""
    client = boto3.client("sagemaker", region_name="eu-west-1")
    monkeypatch.setattr(endpoint_bootstrap.boto3, "client", lambda *_: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


NAME = {"EndpointName": ENDPOINT}
CREATE = {
    "EndpointName": ENDPOINT,
    "EndpointConfigName": "baseline",
    "Tags": [{"Key": "project", "Value": "dsp"}],
}


def _missing(stub: Stubber, operation: str = "describe_endpoint") -> None:
    message = f'Could not find endpoint "{ENDPOINT}".'
    stub.add_client_error(operation, "ValidationException", message, 400, expected_params=NAME)


def _describe(stub: Stubber, *statuses: str, **extra: Any) -> None:
    for status in statuses:
        stub.add_response("describe_endpoint", _described(status) | extra, NAME)


def test_an_endpoint_that_fails_fails_the_create_with_the_reason_under_its_name(stubbed: Stubber) -> None:
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, CREATE)
    event = _event("Create", "baseline", Tags={"project": "dsp"})
    waiting = event | on_event(event, None)
    assert waiting["PhysicalResourceId"] == ENDPOINT  # so the rollback's Delete removes it
    _describe(stubbed, "Creating")
    assert is_complete(waiting, None) == {"IsComplete": False}
    _describe(stubbed, "Failed", FailureReason="The model container failed its ping health check.")
    with pytest.raises(EndpointFailed, match="ping health check"):
        is_complete(waiting, None)


def test_create_replaces_a_failed_endpoint_of_the_same_name(stubbed: Stubber) -> None:
    _describe(stubbed, "Failed")
    stubbed.add_response("delete_endpoint", {}, NAME)
    _describe(stubbed, "Deleting")
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, {**CREATE, "Tags": []})
    _describe(stubbed, "Creating", "InService")
    assert provide(_event("Create", "baseline"))["PhysicalResourceId"] == ENDPOINT


def test_create_tries_again_while_sagemaker_still_holds_a_deleted_endpoint_of_the_name(
    stubbed: Stubber,
) -> None:
    """For a while after a deletion SageMaker refuses to create an endpoint of the same name
    (hashicorp/terraform-provider-aws#40080): not a failure, the next check creates it."""
    lingering = f'Cannot create already existing endpoint "{ARN}".'
    for _ in range(2):  # on_event, then the first check
        _missing(stubbed)
        stubbed.add_client_error(
            "create_endpoint", "ValidationException", lingering, 400, CREATE | {"Tags": []}
        )
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, CREATE | {"Tags": []})
    _describe(stubbed, "Creating", "InService")
    assert provide(_event("Create", "baseline"))["PhysicalResourceId"] == ENDPOINT


OLD = datetime(2020, 1, 1, tzinfo=UTC)
"""When the failed endpoint that a Create replaces was made: before any request of these tests."""


def test_replacing_a_failed_endpoint_waits_out_its_stale_status_after_the_delete(stubbed: Stubber) -> None:
    """Right after ``DeleteEndpoint`` SageMaker may still describe the old endpoint as failed:
    that is the deletion in progress, not the new endpoint failing."""
    _describe(stubbed, "Failed", CreationTime=OLD, FailureReason="the old endpoint's reason")
    stubbed.add_response("delete_endpoint", {}, NAME)
    _describe(stubbed, "Failed", CreationTime=OLD, FailureReason="the old endpoint's reason")  # stale
    stubbed.add_client_error(
        "delete_endpoint",
        "ValidationException",
        f'Cannot delete endpoint "{ARN}" while it is Deleting.',
        400,
        NAME,
    )
    _describe(stubbed, "Deleting", CreationTime=OLD)
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, CREATE | {"Tags": []})
    _describe(stubbed, "Creating", "InService")
    assert provide(_event("Create", "baseline"))[REPLACING] == "true"


def test_a_new_endpoint_that_fails_while_replacing_one_still_fails_the_create(stubbed: Stubber) -> None:
    replacing = _event("Create", "baseline") | {
        "PhysicalResourceId": ENDPOINT,
        STARTED: OLD.timestamp(),  # the request started before the endpoint SageMaker describes
        REPLACING: "true",
    }
    _describe(stubbed, "Failed", FailureReason="The model container failed its ping health check.")
    with pytest.raises(EndpointFailed, match="ping health check"):
        is_complete(replacing, None)


def test_delete_waits_out_a_change_in_progress_then_waits_until_gone(stubbed: Stubber) -> None:
    _describe(stubbed, "Creating", "Creating", "InService")  # on_event leaves it, is_complete waits
    stubbed.add_response("delete_endpoint", {}, NAME)
    _describe(stubbed, "Deleting")
    _missing(stubbed)
    assert provide(_event("Delete", "baseline", ENDPOINT))["PhysicalResourceId"] == ENDPOINT


def test_delete_checks_again_when_sagemaker_refuses_it_mid_transition(stubbed: Stubber) -> None:
    """A stale status can let the delete reach an endpoint SageMaker is still changing."""
    _describe(stubbed, "Updating")  # on_event leaves it
    _describe(stubbed, "InService")  # stale: an update has just started
    stubbed.add_client_error(
        "delete_endpoint",
        "ValidationException",
        f'Cannot delete endpoint "{ARN}" while it is Updating.',
        400,
        NAME,
    )
    _describe(stubbed, "InService")
    stubbed.add_response("delete_endpoint", {}, NAME)
    _missing(stubbed)
    provide(_event("Delete", "baseline", ENDPOINT))


def test_delete_takes_an_endpoint_whose_update_rollback_failed_and_one_gone_meanwhile(
    stubbed: Stubber,
) -> None:
    """``UpdateRollbackFailed`` is not a change in progress: waiting for it would wedge the stack."""
    _describe(stubbed, "UpdateRollbackFailed")
    _missing(stubbed, "delete_endpoint")  # deleted by someone between the two calls
    _missing(stubbed)
    provide(_event("Delete", "baseline", ENDPOINT))


def test_a_wait_past_the_limit_fails_saying_where_the_endpoint_is(stubbed: Stubber) -> None:
    event = _event("Create", "baseline") | {"PhysicalResourceId": ENDPOINT, STARTED: 0.0}
    _describe(stubbed, "Creating")
    assert is_complete(event, None, now=WAIT_LIMIT_SECONDS - 1) == {"IsComplete": False}
    _describe(stubbed, "Creating")
    with pytest.raises(EndpointFailed, match=f"still Creating after {WAIT_LIMIT_SECONDS // 60} minutes"):
        is_complete(event, None, now=WAIT_LIMIT_SECONDS + 1)


def _described(status: str) -> dict[str, Any]:
    """A ``DescribeEndpoint`` response with the documented required fields."""
    now = datetime(2026, 11, 25, tzinfo=UTC)
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": ARN,
        "EndpointConfigName": "baseline",
        "EndpointStatus": status,
        "CreationTime": now,
        "LastModifiedTime": now,
    }
