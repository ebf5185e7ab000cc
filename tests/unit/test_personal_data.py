"""PersonalDataStore: a bucket and key only its writer and named readers may use, whatever IAM says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from app import feature_flags
from platform_constructs.buckets import AccessLogBucket, Housekeeping
from platform_constructs.keys import rotating_key
from platform_constructs.personal_data import DECRYPT_ACTIONS, READ_ACTIONS, PersonalDataStore

READER = "arn:aws:iam::123456789012:role/privacy-review"
THROUGH_S3 = {"Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
HOUSEKEEPING = Housekeeping(
    noncurrent_version_expiry=Duration.days(90), abort_incomplete_upload_after=Duration.days(7)
)


def _key(stack: Stack) -> kms.Key:
    return rotating_key(
        stack, "Key", description="Encrypts frames", admins=[], removal_policy=RemovalPolicy.RETAIN
    )


def _synth(readers: list[str], *, writer: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's stack and the access log bucket's stack, as templates."""
    app = App(context=feature_flags())
    lake = Stack(app, "Lake")
    logs = AccessLogBucket(lake, "AccessLogs", retention=Duration.days(30), housekeeping=HOUSEKEEPING)
    stack = Stack(app, "Video")
    store = PersonalDataStore(
        stack,
        "Frames",
        data_class="frames",
        key=_key(stack),
        readers=readers,
        retention=Duration.days(3),
        access_logs=logs,
        housekeeping=HOUSEKEEPING,
    )
    if writer:
        store.grant_write(iam.Role(stack, "Sampler", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    assembly = app.synth()
    return (
        assembly.get_stack_by_name("Video").template,
        assembly.get_stack_by_name("Lake").template,
    )


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == resource_type]
    return resource


def _statements(template: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(bucket policy, key policy) statements by Sid."""
    bucket = _of_type(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    key = _of_type(template, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    return ({s["Sid"]: s for s in bucket if "Sid" in s}, {s["Sid"]: s for s in key if "Sid" in s})


@pytest.fixture(scope="module")
def with_reader() -> tuple[dict[str, Any], dict[str, Any]]:
    return _synth([READER])


def test_only_the_readers_may_read_objects_and_decrypt(
    with_reader: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, _ = with_reader
    bucket, key = _statements(template)
    deny_reads = bucket["DenyReadsToAllButTheReaders"]
    assert deny_reads["Effect"] == "Deny" and deny_reads["Principal"] == {"AWS": "*"}
    assert deny_reads["Action"] == list(READ_ACTIONS)
    assert deny_reads["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [READER]}}
    deny_decrypt = key["DenyDecryptThroughS3ToAllButTheReadersAndTheWriter"]
    assert deny_decrypt["Effect"] == "Deny" and deny_decrypt["Action"] == list(DECRYPT_ACTIONS)
    (writer,) = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    assert deny_decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": THROUGH_S3},
        "ArnNotEquals": {"aws:PrincipalArn": [READER, {"Fn::GetAtt": [writer, "Arn"]}]},
    }
    allow = bucket["AllowTheReaders"]
    assert allow["Principal"] == {"AWS": READER} and set(allow["Action"]) == {"s3:ListBucket", *READ_ACTIONS}
    through_s3 = key["AllowTheReadersThroughS3"]
    assert through_s3["Principal"] == {"AWS": READER} and through_s3["Action"] == "kms:Decrypt"
    assert through_s3["Condition"] == {"StringEquals": {"kms:ViaService": THROUGH_S3}}


def test_the_writer_may_put_and_never_read(with_reader: tuple[dict[str, Any], dict[str, Any]]) -> None:
    template, _ = with_reader
    (policy,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    put, use_key = policy["PolicyDocument"]["Statement"]
    assert put["Action"] == "s3:PutObject" and "Condition" not in put
    assert use_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]  # Decrypt: multipart uploads
    assert use_key["Condition"] == {"StringEquals": {"kms:ViaService": THROUGH_S3}}


def test_without_readers_nobody_reads_and_only_the_writer_decrypts() -> None:
    template, _ = _synth([])
    bucket, key = _statements(template)
    assert "Condition" not in bucket["DenyReadsToAllButTheReaders"]
    assert "AllowTheReaders" not in bucket and "AllowTheReadersThroughS3" not in key
    exempt = key["DenyDecryptThroughS3ToAllButTheReadersAndTheWriter"]["Condition"]["ArnNotEquals"][
        "aws:PrincipalArn"
    ]
    assert len(exempt) == 1 and "Fn::GetAtt" in exempt[0]


def test_objects_expire_after_the_retention_and_their_versions_a_day_later(
    with_reader: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, _ = with_reader
    rules = {r["Id"]: r for r in _of_type(template, "AWS::S3::Bucket")["LifecycleConfiguration"]["Rules"]}
    assert (
        rules["ExpirePersonalData"]["ExpirationInDays"] == 3 and "Prefix" not in rules["ExpirePersonalData"]
    )
    assert rules["Housekeeping"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


def test_access_logs_are_delivered_only_for_buckets_of_this_account(
    with_reader: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, lake = with_reader
    logging = _of_type(template, "AWS::S3::Bucket")["LoggingConfiguration"]
    assert logging["LogFilePrefix"] == "frames/"
    deliveries = [
        s
        for s in _of_type(lake, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert deliveries and all(
        s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in deliveries
    )
    assert any("/frames/*" in json.dumps(s["Resource"]) for s in deliveries)


def test_a_store_has_exactly_one_writer() -> None:
    with pytest.raises(RuntimeError, match="no writer"):
        _synth([], writer=False)
    stack = Stack(App(context=feature_flags()), "Twice")
    store = PersonalDataStore(
        stack,
        "Frames",
        data_class="frames",
        key=_key(stack),
        readers=[],
        retention=Duration.days(3),
        access_logs=AccessLogBucket(stack, "Logs", retention=Duration.days(30), housekeeping=HOUSEKEEPING),
        housekeeping=HOUSEKEEPING,
    )
    principal = iam.ServicePrincipal("lambda.amazonaws.com")
    store.grant_write(iam.Role(stack, "One", assumed_by=principal))
    with pytest.raises(ValueError, match="one writer per class of personal data"):
        store.grant_write(iam.Role(stack, "Two", assumed_by=principal))
