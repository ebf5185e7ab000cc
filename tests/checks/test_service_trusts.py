"""Every role an AWS service assumes is held to this account (``aws:SourceAccount`` or
``aws:SourceArn``) where the service sends those keys, so another account cannot make the service
act with our role (the confused deputy)."""

from __future__ import annotations

import json

from tests.conftest import Synthesized
from tests.unit.policies import as_list

EXEMPT = {
    "ec2.amazonaws.com": "EC2 sends neither key when an instance profile's role is assumed",
    "lambda.amazonaws.com": "Lambda documents no confused-deputy keys for execution roles; a condition "
    "on a key it does not send would stop the function",
    "quicksight.amazonaws.com": "QuickSight documents no confused-deputy keys for a data source's role",
    "credentials.iot.amazonaws.com": "the IoT credentials provider's keys are not documented for role "
    "aliases' roles; cameras reach the role only through the platform's role alias",
    "states.amazonaws.com#cdk": "the CDK provider framework's waiter state machine role (not ours to shape)",
}
"""Service -> why its trust cannot carry the condition (checked in the AWS docs, 2026-12)."""


def test_every_service_trust_is_held_to_this_account(env: Synthesized) -> None:
    loose = []
    for artifact in env.assembly.stacks:
        for logical_id, role in env.resources(artifact.id, "AWS::IAM::Role").items():
            for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                for service in as_list(statement.get("Principal", {}).get("Service", [])):
                    key = f"{service}#cdk" if "Provider" in logical_id and "waiter" in logical_id else service
                    condition = json.dumps(statement.get("Condition", {}))
                    if (
                        key not in EXEMPT
                        and "aws:SourceAccount" not in condition
                        and "aws:SourceArn" not in condition
                    ):
                        loose.append(f"{artifact.id} {logical_id} trusts {service}")
    assert loose == []
