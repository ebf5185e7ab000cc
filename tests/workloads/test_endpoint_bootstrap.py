"""The endpoint custom resource against moto's SageMaker server and a stand-in CloudFormation:
created once from the baseline, never rolled back by an update, deleted with the stack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.workloads.conftest import custom_resource_event
from workloads.sagemaker import endpoint_bootstrap
from workloads.sagemaker.endpoint_bootstrap import EndpointFailed, handler, settle

ENDPOINT = "dsp-dev-forecast"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/{ENDPOINT}"
ROLE = "arn:aws:iam::123456789012:role/model"
CONTEXT = SimpleNamespace(get_remaining_time_in_millis=lambda: 900_000)


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


def _properties(config: str) -> dict[str, Any]:
    return {"EndpointName": ENDPOINT, "EndpointConfigName": config}


def _event(
    request: str, url: str, config: str, physical_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    return (
        custom_resource_event(request, url, _properties(config), physical_id, logical_id="Endpoint") | extra
    )


def test_create_makes_the_endpoint_from_the_baseline_and_answers_with_its_name(
    clean: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    handler(_event("Create", url, "baseline"), CONTEXT)
    (response,) = responses
    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == ENDPOINT and response["Data"] == {"EndpointName": ENDPOINT}
    described = clean.describe_endpoint(EndpointName=ENDPOINT)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "baseline")


def test_an_update_never_rolls_back_a_promoted_model(
    clean: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="promoted")  # as the pipeline left it
    update = _event("Update", url, "baseline-2", ENDPOINT, OldResourceProperties={"EndpointName": ENDPOINT})
    handler(update, CONTEXT)
    assert responses[-1]["Status"] == "SUCCESS" and responses[-1]["PhysicalResourceId"] == ENDPOINT
    assert clean.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "promoted"


def test_create_adopts_an_existing_endpoint_as_it_is(
    clean: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="promoted")
    handler(_event("Create", url, "baseline"), CONTEXT)
    assert responses[-1]["Status"] == "SUCCESS"
    assert clean.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "promoted"


def test_delete_removes_the_endpoint_and_tolerates_one_already_gone(
    clean: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    clean.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="baseline")
    handler(_event("Delete", url, "baseline", ENDPOINT), CONTEXT)
    handler(_event("Delete", url, "baseline", ENDPOINT), CONTEXT)
    assert [r["Status"] for r in responses] == ["SUCCESS", "SUCCESS"]
    assert clean.list_endpoints()["Endpoints"] == []


def test_a_missing_config_fails_the_deployment_with_the_reason(
    clean: Any, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    handler(_event("Create", url, "no-such-config"), CONTEXT)
    (response,) = responses
    assert response["Status"] == "FAILED" and "no-such-config" in response["Reason"]
    assert response["PhysicalResourceId"] == ENDPOINT  # the rollback's Delete finds nothing to delete


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A SageMaker client with botocore's Stubber, handed to the handler; no real waiting."""
    client = boto3.client("sagemaker", region_name="eu-west-1")
    monkeypatch.setattr(endpoint_bootstrap.boto3, "client", lambda *_: client)
    monkeypatch.setattr(endpoint_bootstrap, "pause", lambda _: None)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _missing(stub: Stubber) -> None:
    message = f'Could not find endpoint "{ENDPOINT}".'
    stub.add_client_error("describe_endpoint", "ValidationException", message, 400, expected_params=NAME)


NAME = {"EndpointName": ENDPOINT}
CREATE = {
    "EndpointName": ENDPOINT,
    "EndpointConfigName": "baseline",
    "Tags": [{"Key": "project", "Value": "dsp"}],
}


def test_an_endpoint_that_fails_fails_the_deployment_under_its_name(
    stubbed: Stubber, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, CREATE)
    stubbed.add_response("describe_endpoint", _described("Creating"), NAME)
    failed = _described("Failed") | {"FailureReason": "The model container failed its ping health check."}
    stubbed.add_response("describe_endpoint", failed, NAME)
    stubbed.add_response("describe_endpoint", failed, NAME)
    event = _event("Create", url, "baseline") | {
        "ResourceProperties": {**_properties("baseline"), "Tags": {"project": "dsp"}}
    }
    handler(event, CONTEXT)
    (response,) = responses
    assert response["Status"] == "FAILED" and "ping health check" in response["Reason"]
    assert response["PhysicalResourceId"] == ENDPOINT  # so the rollback's Delete removes it


def test_create_replaces_a_failed_endpoint_of_the_same_name(
    stubbed: Stubber, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    stubbed.add_response("describe_endpoint", _described("Failed"), NAME)
    stubbed.add_response("delete_endpoint", {}, NAME)
    _missing(stubbed)
    stubbed.add_response("create_endpoint", {"EndpointArn": ARN}, {**CREATE, "Tags": []})
    stubbed.add_response("describe_endpoint", _described("InService"), NAME)
    handler(_event("Create", url, "baseline"), CONTEXT)
    assert responses[-1]["Status"] == "SUCCESS"


def test_delete_waits_out_a_change_in_progress(
    stubbed: Stubber, cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    stubbed.add_response("describe_endpoint", _described("Creating"), NAME)
    stubbed.add_response("describe_endpoint", _described("InService"), NAME)
    stubbed.add_response("delete_endpoint", {}, NAME)
    stubbed.add_response("describe_endpoint", _described("Deleting"), NAME)
    _missing(stubbed)
    handler(_event("Delete", url, "baseline", ENDPOINT), CONTEXT)
    assert responses[-1]["Status"] == "SUCCESS"


def test_running_out_of_time_says_where_the_endpoint_is(stubbed: Stubber) -> None:
    client = endpoint_bootstrap.boto3.client("sagemaker")
    stubbed.add_response("describe_endpoint", _described("Creating"), NAME)
    with pytest.raises(EndpointFailed, match="still Creating"):
        settle(client, ENDPOINT, lambda: 5_000)


def test_an_unknown_request_type_is_refused(
    cloudformation: tuple[str, list[dict[str, Any]]], moto: str
) -> None:
    url, responses = cloudformation
    handler(_event("Rename", url, "baseline", ENDPOINT), CONTEXT)
    assert responses[-1]["Status"] == "FAILED" and "Rename" in responses[-1]["Reason"]


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
