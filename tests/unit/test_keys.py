"""Every platform key: who may delete it or change its policy, and the alarm when it is disabled or
scheduled for deletion."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk.assertions import Template

from app import feature_flags
from platform_constructs.keys import RESERVED_ACTIONS, rotating_key
from tests.conftest import Synthesized
from tests.unit.references import alarm_topic, referenced

ROOT = {
    "AWS": {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
    }
}
DEPLOYER = {
    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    "cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
}
ADMIN = "arn:aws:iam::123456789012:role/platform-key-admins"
TLS_KEY = "TlsCertificatesKey75372671"


def _keys(env: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """(stack ID, logical ID) -> key policy statements, for every key of the platform."""
    return {
        (artifact.id, logical_id): key["Properties"]["KeyPolicy"]["Statement"]
        for artifact in env.assembly.stacks
        for logical_id, key in env.resources(artifact.id, "AWS::KMS::Key").items()
    }


def _reservation(statements: list[dict[str, Any]]) -> dict[str, Any]:
    (deny,) = [s for s in statements if s.get("Sid") == "DenyKeyDeletionAndPolicyChangesToOthers"]
    return deny


def test_the_platform_has_the_lake_stream_disk_tls_operations_and_captures_keys(env: Synthesized) -> None:
    captures = env.settings.sagemaker.endpoint.instances is not None  # only instance endpoints capture
    clusters = env.settings.emr.runs_clusters  # the disk and TLS keys serve clusters only
    assert sorted(stack for stack, _ in _keys(env)) == sorted(
        ["Alarms", "DataLake", "Video"] + ["Emr", "Emr"] * clusters + ["SageMaker"] * captures
    )


def test_only_the_deployer_may_delete_a_key_or_change_its_policy_when_no_admin_is_named(
    env: Synthesized,
) -> None:
    """Whatever an identity policy grants (``kms:*``), the key policy's deny wins; the CDK bootstrap's
    CloudFormation execution role stays exempt so the next deploy can still update the policy."""
    assert env.settings.security.key_admins == []
    for key, statements in _keys(env).items():
        assert _reservation(statements) == {
            "Sid": "DenyKeyDeletionAndPolicyChangesToOthers",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": sorted(RESERVED_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": [DEPLOYER]}},
        }, key
        trusted = [s["Principal"] for s in statements if s["Effect"] == "Allow" and "AWS" in s["Principal"]]
        # the account (IAM decides); the TLS zip key also names the one role that may decrypt it
        assert trusted == [ROOT] or (key == ("Emr", TLS_KEY) and trusted[0] == ROOT and len(trusted) == 2), (
            key
        )


def test_named_admins_administer_the_key_and_are_exempt() -> None:
    stack = Stack(App(context=feature_flags()), "Keys")
    rotating_key(stack, "Key", description="test", removal_policy=RemovalPolicy.RETAIN, admins=[ADMIN])
    (key,) = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert _reservation(statements)["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [ADMIN, DEPLOYER]}}
    (admin,) = [s for s in statements if s["Principal"] == {"AWS": ADMIN}]
    assert admin["Effect"] == "Allow"
    assert all(any(fnmatch(a, granted) for granted in admin["Action"]) for a in RESERVED_ACTIONS)
    assert not {"kms:Decrypt", "kms:GenerateDataKey*", "kms:*"} & set(admin["Action"])


def test_a_key_disabled_or_scheduled_for_deletion_notifies_the_alarm_topic(env: Synthesized) -> None:
    for stack, logical_id in _keys(env):
        watched = [
            rule["Properties"]
            for rule in env.resources(stack, "AWS::Events::Rule").values()
            if {"Fn::GetAtt": [logical_id, "Arn"]}
            in rule["Properties"]
            .get("EventPattern", {})
            .get("detail", {})
            .get("resources", {})
            .get("ARN", [])
        ]
        assert len(watched) == 1, (stack, logical_id)
        (rule,) = watched
        assert rule["EventPattern"] == {
            "source": ["aws.kms"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["kms.amazonaws.com"],
                "eventName": ["ScheduleKeyDeletion", "DisableKey"],
                "resources": {"ARN": [{"Fn::GetAtt": [logical_id, "Arn"]}]},
            },
        }
        (target,) = rule["Targets"]
        assert referenced(env, stack, target["Arn"]) == alarm_topic(env)
        assert "scheduled for deletion" in str(target["InputTransformer"])
