"""Lambda handler of a CloudFormation custom resource: EMR's in-transit TLS certificates, made at deploy.

EMR's PEM certificate provider reads a zip from S3 holding ``privateKey.pem``,
``certificateChain.pem`` and ``trustedCertificates.pem``. This handler makes a fresh RSA key and a
self-signed certificate for the region's internal EC2 host names (``*.<region>.compute.internal``,
and ``*.ec2.internal`` in us-east-1), zips them, and writes the zip SSE-KMS-encrypted to S3. The
private key exists nowhere else: not in the repository, not in ``cdk.out``.

Resource properties: ``Bucket``, ``Prefix``, ``KmsKeyArn``, ``ValidityDays``, ``Rotation`` (a
counter whose only job is to change). The physical ID and the ``Uri`` attribute are the zip's
``s3://`` URI. Any property change makes a new zip under a new name (a new physical ID). Delete
leaves the zip in place: a running cluster fetches it again whenever it adds a node; the bucket's
lifecycle removes it after its certificate expired. The zip is written without an S3 Bucket Key, so
every read asks KMS, under the reader's own identity, to decrypt it.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workloads.custom_resource import answer

ZIP_MEMBERS = ("privateKey.pem", "certificateChain.pem", "trustedCertificates.pem")
"""The file names EMR's PEM provider expects in the zip."""


def internal_domains(region: str) -> list[str]:
    """The private DNS domains of EC2 instances in ``region``."""
    domains = [f"{region}.compute.internal"]
    if region == "us-east-1":
        domains.insert(0, "ec2.internal")
    return domains


def certificate_zip(region: str, now: datetime, validity_days: int) -> bytes:
    """A zip of a new private key and a self-signed certificate for ``region``'s EC2 host names."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    domains = internal_domains(region)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"*.{domains[0]}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EMR in-transit encryption"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=validity_days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(f"*.{domain}") for domain in domains]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as members:
        for member, content in zip(ZIP_MEMBERS, (key_pem, certificate_pem, certificate_pem), strict=True):
            members.writestr(member, content)
    return archive.getvalue()


def _create(properties: dict[str, Any], region: str) -> str:
    bucket, prefix = properties["Bucket"], properties["Prefix"]
    key = f"{prefix}{uuid.uuid4().hex}.zip"
    boto3.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=certificate_zip(region, datetime.now(UTC), int(properties["ValidityDays"])),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=properties["KmsKeyArn"],
        BucketKeyEnabled=False,
    )
    return f"s3://{bucket}/{key}"


def handler(event: dict[str, Any], context: Any) -> None:
    """Answer CloudFormation's Create, Update or Delete request; always respond, also on failure."""

    def work() -> tuple[str, dict[str, str]]:
        if event["RequestType"] in ("Create", "Update"):
            region = context.invoked_function_arn.split(":")[3]
            uri = _create(event["ResourceProperties"], region)
            return uri, {"Uri": uri}
        return event["PhysicalResourceId"], {}

    answer(event, work)
