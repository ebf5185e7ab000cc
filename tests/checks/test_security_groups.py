"""No security group of the platform opens every port to the world: traffic out of the VPC's
functions, jobs and nodes is HTTPS (or named groups, for EMR's own)."""

from __future__ import annotations

from tests.conftest import Synthesized


def test_no_security_group_allows_all_traffic_out(env: Synthesized) -> None:
    open_groups, groups = [], 0
    for artifact in env.assembly.stacks:
        for logical_id, group in env.resources(artifact.id, "AWS::EC2::SecurityGroup").items():
            groups += 1
            for rule in group["Properties"].get("SecurityGroupEgress", []):
                wide = rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0"
                if wide and (
                    rule["IpProtocol"] != "tcp" or (rule.get("FromPort"), rule.get("ToPort")) != (443, 443)
                ):
                    open_groups.append(f"{artifact.id} {logical_id}: {rule}")
    assert groups > 0
    assert open_groups == []
