"""Wildcard acknowledgements: ids computed from resolved references, nothing acknowledged unnamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from app import add_checks, feature_flags
from platform_constructs.nag import acknowledge_wildcards, flatten_reference


@pytest.mark.parametrize(
    ("resolved", "flat"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/*"),
        (
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/*"]]},
            "arn:<AWS::Partition>:s3:::b/*",
        ),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket12", "Arn"]}, "/*"]]}, "<Bucket12.Arn>/*"),
        ({"Fn::Sub": "cdk-assets-${AWS::AccountId}"}, "cdk-assets-<AWS::AccountId>"),
        ({"Fn::ImportValue": "lake-raw-arn"}, "lake-raw-arn"),
        (
            {"Fn::GetStackOutput": {"StackName": "s", "OutputName": "O"}},
            '{"Fn::GetStackOutput":{"StackName":"s","OutputName":"O"}}',
        ),
    ],
)
def test_references_flatten_as_cdk_nag_names_them(resolved: object, flat: str) -> None:
    assert flatten_reference(resolved) == flat


def _consumer_wildcards(tmp_path: Path, *, acknowledge: bool, named: bool) -> dict[str, list[str]]:
    """IAM5 rule names of the consumer stack's role, by outcome (``violations``, ``suppressedViolations``)."""
    app = App(outdir=str(tmp_path), context=feature_flags())
    add_checks(app)
    bucket = s3.Bucket(Stack(app, "Producer"), "Data")
    role = iam.Role(Stack(app, "Consumer"), "Reader", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    objects = bucket.arn_for_objects("*")
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
    if acknowledge:
        acknowledge_wildcards(
            role, reason="objects of the producer's bucket", resources=[objects] if named else []
        )
    with pytest.raises(RuntimeError, match=r"^ValidationFailed"):
        app.synth()  # the producer's plain bucket always fails; only the consumer's role matters
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return {
        outcome: [
            violation["ruleName"]
            for plugin in report["pluginReports"]
            for violation in plugin.get(outcome, [])
            if violation["ruleName"].startswith("AwsSolutions-IAM5")
        ]
        for outcome in ("violations", "suppressedViolations")
    }


def test_a_named_cross_stack_wildcard_is_acknowledged(tmp_path: Path) -> None:
    wildcards = _consumer_wildcards(tmp_path, acknowledge=True, named=True)
    assert wildcards["violations"] == []
    (acknowledged,) = wildcards["suppressedViolations"]
    assert '"Fn::GetStackOutput"' in acknowledged and acknowledged.endswith("/*]")


@pytest.mark.parametrize("acknowledge", [False, True])
def test_an_unnamed_wildcard_stays_a_finding(tmp_path: Path, acknowledge: bool) -> None:
    wildcards = _consumer_wildcards(tmp_path, acknowledge=acknowledge, named=False)
    assert len(wildcards["violations"]) == 1 and wildcards["suppressedViolations"] == []
