"""Encryption of everything Glue writes: a security configuration and the key for logs and bookmarks."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from constructs import Construct

GLUE_LOG_GROUPS = "/aws-glue/*"
"""Names of the log groups Glue jobs and crawlers write to."""


class GlueEncryption(Construct):
    """A Glue security configuration: SSE-KMS under ``data_key`` for S3 output, ``logs_key`` for
    CloudWatch logs and job bookmarks. The name is forced by Glue: pass one derived from the
    platform prefix. Exposes ``configuration`` and ``key`` (``logs_key``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: name of the security configuration.
        :param data_key: key for S3 output (the lake key).
        :param logs_key: key for logs and job bookmarks, which CloudWatch Logs may use.
        :param removal_policy: of the configuration; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self.key = logs_key
        self.configuration = glue.SecurityConfiguration(
            self,
            "Configuration",
            security_configuration_name=name,
            s3_encryption=glue.S3Encryption.kms(data_key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(self.key),
            job_bookmarks_encryption=glue.JobBookmarksEncryption.client_side_kms(self.key),
            removal_policy=removal_policy,
        )
