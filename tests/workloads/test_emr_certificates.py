"""The TLS certificate custom resource, run against moto's S3 and KMS server and a stand-in CloudFormation."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import MOTO_REGION
from tests.workloads.conftest import custom_resource_event
from workloads.emr.certificates import ZIP_MEMBERS, certificate_zip, handler, internal_domains

FUNCTION_ARN = f"arn:aws:lambda:{MOTO_REGION}:123456789012:function:certificates"


@pytest.fixture(scope="module")
def aws(moto: str) -> dict[str, Any]:
    """A bucket and a KMS key on moto's server."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": MOTO_REGION})
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    return {"s3": s3, "key_arn": key_arn}


def _event(
    request: str, url: str, properties: dict[str, str], physical_id: str | None = None
) -> dict[str, Any]:
    return custom_resource_event(request, url, properties, physical_id, logical_id="TlsCertificates")


def _properties(bucket: str, key_arn: str) -> dict[str, str]:
    """The custom resource's properties, as the stack passes them."""
    return {
        "Bucket": bucket,
        "Prefix": "emr/tls/",
        "KmsKeyArn": key_arn,
        "ValidityDays": "30",
        "Rotation": "1",
    }


def test_zip_holds_a_key_and_a_self_signed_certificate_for_the_regions_hosts() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with zipfile.ZipFile(io.BytesIO(certificate_zip(MOTO_REGION, now, 30))) as archive:
        assert sorted(archive.namelist()) == sorted(ZIP_MEMBERS)
        key = serialization.load_pem_private_key(archive.read("privateKey.pem"), password=None)
        certificate = x509.load_pem_x509_certificate(archive.read("certificateChain.pem"))
        assert archive.read("trustedCertificates.pem") == archive.read("certificateChain.pem")
    assert certificate.public_key() == key.public_key()
    assert certificate.issuer == certificate.subject
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [f"*.{MOTO_REGION}.compute.internal"]
    assert certificate.not_valid_after_utc == now + timedelta(days=30)


def test_us_east_1_hosts_are_named_ec2_internal() -> None:
    assert internal_domains("us-east-1") == ["ec2.internal", "us-east-1.compute.internal"]


def test_create_writes_the_zip_encrypted_and_answers_with_its_uri(
    aws: dict[str, Any], cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    properties = _properties("artifacts", aws["key_arn"])
    handler(_event("Create", url, properties), SimpleNamespace(invoked_function_arn=FUNCTION_ARN))
    (response,) = responses
    assert response["Status"] == "SUCCESS", response["Reason"]
    uri = response["PhysicalResourceId"]
    assert uri.startswith("s3://artifacts/emr/tls/") and uri.endswith(".zip")
    assert response["Data"] == {"Uri": uri}
    stored = aws["s3"].get_object(Bucket="artifacts", Key=uri.removeprefix("s3://artifacts/"))
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == aws["key_arn"]
    with zipfile.ZipFile(io.BytesIO(stored["Body"].read())) as archive:
        assert sorted(archive.namelist()) == sorted(ZIP_MEMBERS)

    handler(_event("Delete", url, properties, uri), SimpleNamespace(invoked_function_arn=FUNCTION_ARN))
    assert responses[-1]["Status"] == "SUCCESS" and responses[-1]["PhysicalResourceId"] == uri
    aws["s3"].head_object(
        Bucket="artifacts", Key=uri.removeprefix("s3://artifacts/")
    )  # kept for running clusters


def test_a_failure_is_reported_to_cloudformation(
    aws: dict[str, Any], cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    properties = _properties("no-such-bucket", aws["key_arn"])
    handler(_event("Create", url, properties), SimpleNamespace(invoked_function_arn=FUNCTION_ARN))
    (response,) = responses
    assert response["Status"] == "FAILED" and "NoSuchBucket" in response["Reason"]


def test_a_rotation_writes_a_new_zip_with_a_new_key_valid_for_the_configured_days(
    aws: dict[str, Any], cloudformation: tuple[str, list[dict[str, Any]]]
) -> None:
    url, responses = cloudformation
    first = _properties("artifacts", aws["key_arn"])
    context = SimpleNamespace(invoked_function_arn=FUNCTION_ARN)
    handler(_event("Create", url, first), context)
    old = responses[-1]["PhysicalResourceId"]
    before = datetime.now(UTC)
    handler(_event("Update", url, {**first, "Rotation": "2", "ValidityDays": "90"}, old), context)
    assert responses[-1]["Status"] == "SUCCESS", responses[-1]["Reason"]
    new = responses[-1]["PhysicalResourceId"]
    assert new != old and new.startswith("s3://artifacts/emr/tls/")  # the old zip stays for running clusters

    def contents(uri: str) -> tuple[bytes, x509.Certificate]:
        stored = aws["s3"].get_object(Bucket="artifacts", Key=uri.removeprefix("s3://artifacts/"))
        assert not stored.get("BucketKeyEnabled")  # every read is decrypted by KMS as the reader
        with zipfile.ZipFile(io.BytesIO(stored["Body"].read())) as archive:
            return archive.read("privateKey.pem"), x509.load_pem_x509_certificate(
                archive.read("certificateChain.pem")
            )

    old_key, _ = contents(old)
    new_key, certificate = contents(new)
    assert new_key != old_key
    expires = certificate.not_valid_after_utc - before
    assert timedelta(days=90) - timedelta(minutes=1) <= expires <= timedelta(days=90, minutes=1)
