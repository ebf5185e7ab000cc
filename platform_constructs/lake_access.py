"""A role that reaches the lake with named actions only, each wildcard resource recorded."""

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards

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


class LakeAccessRole(iam.Role):
    """A role with no AWS managed policy and no wildcard action: every grant names its actions
    (:data:`READ_ACTIONS`, :data:`WRITE_ACTIONS`).

    ``read``/``read_write`` cover a bucket's objects under a key pattern (and the bucket's key),
    ``read_asset`` one asset object, ``use_catalog`` given Glue databases and their tables. Each
    records the wildcard resources it grants in ``wildcard_resources``; ``acknowledge_wildcards``
    acknowledges exactly those, with a reason, on the role's own policy.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, assumed_by: iam.IPrincipal, description: str
    ) -> None:
        """
        :param assumed_by: the service principal, with its conditions.
        :param description: what the role does.
        """
        super().__init__(scope, construct_id, assumed_by=assumed_by, description=description)
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

    def read_asset(self, asset: s3_assets.Asset, *, listed: bool = False) -> None:
        """Read the one object of ``asset`` (a script or a module zip); with ``listed``, also list
        the assets bucket for that key alone (a SageMaker ``S3Prefix`` channel lists first)."""
        grants = s3.BucketGrants.from_bucket(asset.bucket)
        grants.actions_on_object_keys(self, asset.s3_object_key, "s3:GetObject")
        if listed:
            self.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[asset.bucket.bucket_arn],
                    conditions={"StringEquals": {"s3:prefix": asset.s3_object_key}},
                )
            )

    def use_catalog(self, actions: Sequence[str], databases: Sequence[str]) -> None:
        """``actions`` on the account's catalog, ``databases`` and their tables, nothing else."""
        stack = Stack.of(self)

        def arn(resource: str, name: str | None = None) -> str:
            return stack.format_arn(service="glue", resource=resource, resource_name=name)

        tables = [arn("table", f"{database}/*") for database in databases]
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[
                    arn("catalog"),
                    *(arn("database", database) for database in databases),
                    *tables,
                ],
            )
        )
        self.wildcard_resources += tables

    def acknowledge_wildcards(self, reason: str, *, resources: Sequence[str] = ()) -> None:
        """Acknowledge the recorded wildcard resources plus ``resources`` (statements added
        directly), and that the policy is inline (it is this role's alone). Call after the grants."""
        acknowledge_wildcards(self, reason=reason, resources=[*self.wildcard_resources, *resources])
        acknowledge_own_policy(
            self,
            "The policy is the role's own, written by grants scoped to this role's buckets, keys and "
            "log groups; it is attached to no other principal.",
        )
