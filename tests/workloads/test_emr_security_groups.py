"""The EMR security-group clean-up custom resource, run against moto's EC2 server and a stand-in
CloudFormation: on Delete, no rule of the groups references a security group any more."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.workloads.conftest import custom_resource_event
from workloads.emr.security_groups import group_references, handler

EVERY_PORT = {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535}


@pytest.fixture
def groups(moto: str) -> dict[str, str]:
    """The three EMR-managed groups in a new VPC, with the rules EMR adds referencing each other,
    a self-reference, outbound rules to groups, and address rules; role -> group ID."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    ids = {
        role: ec2.create_security_group(GroupName=f"emr-{role}", Description=role, VpcId=vpc)["GroupId"]
        for role in ("primary", "core", "service_access")
    }
    primary, core, service = ids["primary"], ids["core"], ids["service_access"]

    def pairs(*group_ids: str) -> list[dict[str, str]]:
        return [{"GroupId": group_id} for group_id in group_ids]

    ec2.authorize_security_group_ingress(
        GroupId=primary,
        IpPermissions=[
            {**EVERY_PORT, "UserIdGroupPairs": pairs(primary, core)},
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": pairs(core)},
            {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "UserIdGroupPairs": pairs(service)},
            {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "IpRanges": [{"CidrIp": "10.10.0.0/16"}]},
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=core, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": pairs(primary, core, service)}]
    )
    ec2.authorize_security_group_egress(
        GroupId=service,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "UserIdGroupPairs": pairs(primary)}
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=primary,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    return ids


def _references(group_ids: list[str]) -> dict[str, list[str]]:
    """Group ID -> the security groups its rules (in and out) reference."""
    described = boto3.client("ec2").describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
    return {
        group["GroupId"]: sorted(
            pair["GroupId"]
            for permission in [*group["IpPermissions"], *group["IpPermissionsEgress"]]
            for pair in permission["UserIdGroupPairs"]
        )
        for group in described
    }


def _event(request: str, url: str, group_ids: list[str], physical_id: str | None = None) -> dict[str, Any]:
    return custom_resource_event(
        request, url, {"GroupIds": group_ids}, physical_id, logical_id="SecurityGroupCleanup"
    )


def test_delete_revokes_every_rule_that_references_a_group_and_keeps_address_rules(
    groups: dict[str, str], cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    group_ids = list(groups.values())
    assert all(_references(group_ids).values())  # what blocks deleting the groups
    handler(_event("Create", url, group_ids), None)
    (created,) = responses
    assert created["Status"] == "SUCCESS" and created["PhysicalResourceId"] == ",".join(group_ids)
    assert all(_references(group_ids).values())  # Create changes nothing

    handler(_event("Delete", url, group_ids, created["PhysicalResourceId"]), None)
    assert responses[-1]["Status"] == "SUCCESS", responses[-1]["Reason"]
    assert _references(group_ids) == {group_id: [] for group_id in group_ids}
    ec2 = boto3.client("ec2")
    (primary,) = ec2.describe_security_groups(GroupIds=[groups["primary"]])["SecurityGroups"]
    assert [r["CidrIp"] for p in primary["IpPermissions"] for r in p["IpRanges"]] == ["10.10.0.0/16"]
    assert {"CidrIp": "0.0.0.0/0"} in [r for p in primary["IpPermissionsEgress"] for r in p["IpRanges"]]
    for group_id in group_ids:
        ec2.delete_security_group(GroupId=group_id)


def test_a_group_already_gone_is_skipped_and_a_second_delete_succeeds(
    groups: dict[str, str], cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    ec2 = boto3.client("ec2")
    gone = ec2.create_security_group(GroupName="gone", Description="gone")["GroupId"]
    ec2.delete_security_group(GroupId=gone)
    group_ids = [*groups.values(), gone]
    for _ in range(2):  # CloudFormation may send a Delete again
        handler(_event("Delete", url, group_ids, ",".join(group_ids)), None)
        assert responses[-1]["Status"] == "SUCCESS", responses[-1]["Reason"]
    assert _references(list(groups.values())) == {group_id: [] for group_id in groups.values()}


def test_an_update_names_the_new_groups_so_cloudformation_deletes_the_old_resource(
    cloudformation: tuple[str, list[dict[str, Any]]],
) -> None:
    url, responses = cloudformation
    handler(_event("Update", url, ["sg-new1", "sg-new2"], "sg-old1,sg-old2"), None)
    assert responses[-1]["Status"] == "SUCCESS" and responses[-1]["PhysicalResourceId"] == "sg-new1,sg-new2"


def test_only_group_references_are_kept_in_the_shape_revoke_takes() -> None:
    described = [
        {
            "IpProtocol": "-1",
            "UserIdGroupPairs": [{"UserId": "123456789012", "GroupId": "sg-1", "Description": "x"}],
            "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
        },
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [], "IpRanges": []},
    ]
    assert group_references(described) == [
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "123456789012"}]}
    ]
