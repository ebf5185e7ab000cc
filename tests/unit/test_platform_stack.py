"""What every stack gets from PlatformStack: tags on the stack and its resources, termination protection."""

from __future__ import annotations

import pytest

from tests.conftest import Synthesized

STACKS = ("Network", "DataLake")


def test_termination_protection_only_in_prod(dev: Synthesized, prod: Synthesized) -> None:
    for stack in STACKS:
        assert prod.assembly.get_stack_artifact(stack).termination_protection is True
        assert not dev.assembly.get_stack_artifact(stack).termination_protection


TAGS = {"project": "dsp", "owner": "data-platform-team", "cost-center": "cc-0000"}
TAGGABLE = {
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Athena::WorkGroup",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::VPCEndpoint",
    "AWS::EC2::FlowLog",
    "AWS::EC2::SecurityGroup",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_and_the_stack_carry_the_platform_tags(env: Synthesized, stack: str) -> None:
    expected = {**TAGS, "environment": env.settings.environment}
    # The stack's own tags reach what CDK adds outside the construct tree (custom resource providers).
    assert env.assembly.get_stack_artifact(stack).tags == expected
    checked = 0
    for logical_id, resource in env.raw(stack)["Resources"].items():
        if resource["Type"] not in TAGGABLE or "CustomResourceProvider" in logical_id:
            continue
        tags = {tag["Key"]: tag["Value"] for tag in resource["Properties"].get("Tags", [])}
        assert expected.items() <= tags.items(), logical_id
        checked += 1
    assert checked >= 5
