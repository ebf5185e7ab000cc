"""The Glue service role: explicit actions only, each wildcard resource recorded and acknowledged."""

from collections.abc import Sequence

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from platform_constructs.glue.encryption import GLUE_LOG_GROUPS
from platform_constructs.nag import acknowledge_wildcards

READ_ACTIONS = ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "kms:Decrypt")
"""What reading a lake bucket takes: objects, their listing, and the bucket key to decrypt."""
WRITE_ACTIONS = (
    *READ_ACTIONS,
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "kms:GenerateDataKey",
)
"""Reading plus replacing objects (Spark deletes what it overwrites) under SSE-KMS."""


class GlueRole(iam.Role):
    """A role only Glue in this account can assume, with no AWS managed policy and no wildcard
    action: every grant names its actions (:data:`READ_ACTIONS`, :data:`WRITE_ACTIONS`).

    ``read``/``read_write`` cover a bucket's objects under a key pattern (and the bucket's key),
    ``read_asset`` one asset object, ``write_encrypted_logs`` Glue's KMS-encrypted log groups,
    ``use_catalog`` one database's tables. Each records the wildcard resources it grants;
    ``acknowledge_wildcards`` acknowledges exactly those, with a reason, on the role's own policy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        """:param description: what the role does."""
        stack = Stack.of(scope)
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=description,
        )
        self.wildcard_resources: list[str] = []
        """Resources with a ``*`` that this role's grants hold."""

    def read(self, bucket: s3.IBucket, pattern: str = "*") -> None:
        """List ``bucket`` and read its objects matching ``pattern``."""
        self._grant(bucket, pattern, READ_ACTIONS)

    def read_write(self, bucket: s3.IBucket, pattern: str = "*") -> None:
        """List ``bucket``, read, write and delete its objects matching ``pattern``."""
        self._grant(bucket, pattern, WRITE_ACTIONS)

    def _grant(self, bucket: s3.IBucket, pattern: str, actions: Sequence[str]) -> None:
        s3.BucketGrants.from_bucket(bucket).actions_on_bucket_and_object_keys(self, pattern, *actions)
        self.wildcard_resources.append(bucket.arn_for_objects(pattern))

    def read_asset(self, asset: s3_assets.Asset) -> None:
        """Read the one object of ``asset`` (a script or a module zip)."""
        grants = s3.BucketGrants.from_bucket(asset.bucket)
        grants.actions_on_object_keys(self, asset.s3_object_key, "s3:GetObject")

    def write_encrypted_logs(self, key: kms.IKey) -> None:
        """Create Glue's log groups and streams, associate ``key`` with them, put events with it;
        encrypt and decrypt job bookmarks with it."""
        log_groups = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=GLUE_LOG_GROUPS,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        streams = f"{log_groups}:log-stream:*"
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups, streams],
            )
        )
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        self.wildcard_resources += [log_groups, streams]

    def use_catalog(self, actions: Sequence[str], database: str) -> None:
        """``actions`` on the account's catalog, ``database`` and its tables, nothing else."""
        stack = Stack.of(self)
        tables = stack.format_arn(service="glue", resource="table", resource_name=f"{database}/*")
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=database),
                    tables,
                ],
            )
        )
        self.wildcard_resources.append(tables)

    def acknowledge_wildcards(self, reason: str, *, resources: Sequence[str] = ()) -> None:
        """Acknowledge the recorded wildcard resources plus ``resources`` (statements added
        directly), and that the policy is inline (it is this role's alone). Call after the grants."""
        acknowledge_wildcards(
            self,
            reason=f"{reason} Glue's own /aws-glue/* log groups, whose names Glue derives at run time.",
            resources=[*self.wildcard_resources, *resources],
        )
        policy = self.node.find_child("DefaultPolicy").node.default_child
        assert policy is not None
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id="NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
                reason="The policy is the role's own, written by grants scoped to this role's buckets, "
                "keys and log groups; it is attached to no other principal.",
            )
        )
