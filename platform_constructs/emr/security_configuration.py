"""The EMR security configuration every cluster of the platform runs under."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_emr as emr
from aws_cdk import aws_kms as kms
from constructs import Construct

from platform_constructs.keys import rotating_key


def security_configuration_document(
    *, data_key_arn: str, disk_key_arn: str, certificates_uri: str
) -> dict[str, Any]:
    """EMR's security configuration JSON: S3 SSE-KMS under ``data_key_arn``, local and EBS disks
    under ``disk_key_arn``, TLS between nodes with the PEM zip at ``certificates_uri``, IMDSv2."""
    return {
        "EncryptionConfiguration": {
            "EnableAtRestEncryption": True,
            "EnableInTransitEncryption": True,
            "AtRestEncryptionConfiguration": {
                "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": data_key_arn},
                "LocalDiskEncryptionConfiguration": {
                    "EncryptionKeyProviderType": "AwsKms",
                    "AwsKmsKey": disk_key_arn,
                    "EnableEbsEncryption": True,
                },
            },
            "InTransitEncryptionConfiguration": {
                "TLSCertificateConfiguration": {
                    "CertificateProviderType": "PEM",
                    "S3Object": certificates_uri,
                }
            },
        },
        "InstanceMetadataServiceConfiguration": {
            "MinimumInstanceMetadataServiceVersion": 2,
            "HttpPutResponseHopLimit": 1,
        },
    }


class EmrSecurityConfiguration(Construct):
    """An EMR security configuration: at rest, S3 with SSE-KMS under ``data_key`` and local disks
    (EBS included) under a dedicated rotating key; in transit, TLS with the certificates zip at
    ``certificates_uri``; IMDSv2 only. Exposes ``configuration`` (its name is what clusters
    reference) and ``disk_key``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_key: kms.IKey,
        certificates_uri: str,
        key_admins: Sequence[str],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param data_key: encrypts what EMR writes to S3 (the lake key).
        :param certificates_uri: ``s3://`` URI of the PEM zip (generated or the fork's own).
        :param key_admins: IAM role ARNs that administer the disk key.
        :param removal_policy: of the disk key; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self.disk_key = rotating_key(
            self,
            "DiskKey",
            description="Encrypts EMR local and EBS disks",
            admins=key_admins,
            removal_policy=removal_policy,
        )
        self.configuration = emr.CfnSecurityConfiguration(
            self,
            "Configuration",
            security_configuration=security_configuration_document(
                data_key_arn=data_key.key_arn,
                disk_key_arn=self.disk_key.key_arn,
                certificates_uri=certificates_uri,
            ),
        )

    @property
    def name(self) -> str:
        """The configuration's name, as clusters reference it."""
        return self.configuration.ref
