"""Lambda handler of a CloudFormation custom resource: before the EMR-managed security groups are
deleted, revoke the rules EMR added that reference security groups.

EMR adds to the managed groups it is given the inbound rules a cluster needs, several of which
name another of the groups as their source (the primary group admits the core group and the
service-access group, and so on). CloudFormation did not create those rules, so it does not remove
them, and EC2 refuses to delete a group that a rule of another group references: without this
clean-up, deleting the stack ends in ``DELETE_FAILED``.

Resource properties: ``GroupIds``, the groups to clean. Create and Update change nothing and answer
with a physical ID naming the groups, so when the groups change CloudFormation deletes the old
resource, which cleans the old groups. Delete revokes, in each of the groups that still exists,
every inbound and outbound rule whose peer is a security group (the group itself included); the
groups' address and prefix-list rules stay, they block nothing. The stack orders this resource
after the clusters (deleted first) and before the groups and the rules CloudFormation manages.
"""

from __future__ import annotations

from typing import Any

import boto3

from workloads.custom_resource import answer

RULE_FIELDS = ("IpProtocol", "FromPort", "ToPort")
"""What identifies a rule besides its peers, as ``DescribeSecurityGroups`` reports it."""


def group_references(permissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules of ``permissions`` (``IpPermissions`` or ``IpPermissionsEgress`` of a described
    group) that reference security groups, reduced to those references, as the revoke calls take them."""
    rules = []
    for permission in permissions:
        pairs = [
            {key: pair[key] for key in ("GroupId", "UserId") if key in pair}
            for pair in permission.get("UserIdGroupPairs", [])
        ]
        if pairs:
            rule = {field: permission[field] for field in RULE_FIELDS if field in permission}
            rules.append({**rule, "UserIdGroupPairs": pairs})
    return rules


def revoke_group_references(group_ids: list[str]) -> dict[str, int]:
    """Revoke every rule that references a security group in each of ``group_ids`` that exists;
    the number of rules revoked per group."""
    ec2 = boto3.client("ec2")
    pages = ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "group-id", "Values": group_ids}]
    )
    revoked: dict[str, int] = {}
    for group in (group for page in pages for group in page["SecurityGroups"]):
        group_id = group["GroupId"]
        inbound = group_references(group.get("IpPermissions", []))
        outbound = group_references(group.get("IpPermissionsEgress", []))
        if inbound:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=inbound)
        if outbound:
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=outbound)
        revoked[group_id] = len(inbound) + len(outbound)
    return revoked


def handler(event: dict[str, Any], context: Any) -> None:
    """Answer CloudFormation's Create, Update or Delete request; always respond, also on failure."""

    def work() -> tuple[str, dict[str, str]]:
        group_ids = list(event["ResourceProperties"]["GroupIds"])
        if event["RequestType"] == "Delete":
            print(f"revoked rules that reference security groups: {revoke_group_references(group_ids)}")
            return event["PhysicalResourceId"], {}
        return ",".join(group_ids), {}

    answer(event, work)
